package apptest

import (
	"strings"
	"testing"

	"attachbot/webex/webextest"
)

// Joined is the markdown of messages, one after the other, for failure messages.
func Joined(msgs []webextest.Message) string {
	parts := make([]string, len(msgs))
	for i, m := range msgs {
		parts[i] = m.Markdown
	}
	return strings.Join(parts, "\n---\n")
}

// MustContain reports every one of wants that text lacks.
func MustContain(t testing.TB, what, text string, wants ...string) {
	t.Helper()
	Says(t, what, text, wants, nil)
}

// Says reports every one of wants that text lacks, and every one of wantNots it has.
func Says(t testing.TB, what, text string, wants, wantNots []string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not say %q:\n%s", what, want, text)
		}
	}
	for _, not := range wantNots {
		if strings.Contains(text, not) {
			t.Errorf("%s says %q, and should not:\n%s", what, not, text)
		}
	}
}
