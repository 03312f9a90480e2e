package bot

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzSplitMarkdown checks splitMarkdown's promises on any text and limit: no part is empty
// or blank, none is longer than the limit, valid UTF-8 stays valid in every part, and only
// white space is lost. The seeds run as a unit test.
func FuzzSplitMarkdown(f *testing.F) {
	for _, seed := range []struct {
		s   string
		max int
	}{
		{"", 10},
		{"   \n\n\t", 4},
		{"hello", MaxMessageBytes},
		{strings.Repeat("a", 10) + "\n\n\n" + strings.Repeat("b", 10), 10},
		{strings.Repeat("a", 10) + "\n" + strings.Repeat("\n", 12) + "b", 10},
		{strings.Repeat(" ", 25) + "\nx", 8},
		{strings.Repeat("ø", 5000), MaxMessageBytes},
		{strings.Repeat("x", MaxMessageBytes) + "\n\n" + strings.Repeat(" ", MaxMessageBytes+3) + "\n\ny", MaxMessageBytes},
		{"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 4},
		{"日本語のテキスト\n日本語のテキスト", 5},
	} {
		f.Add(seed.s, seed.max)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < utf8.UTFMax || max > 2*MaxMessageBytes {
			t.Skip("the limit is at least utf8.UTFMax bytes; Webex's is MaxMessageBytes")
		}
		parts := splitMarkdown(s, max)
		var joined strings.Builder
		for i, p := range parts {
			switch {
			case strings.TrimSpace(p) == "":
				t.Errorf("part %d of %d is empty or blank: %q", i, len(parts), p)
			case len(p) > max:
				t.Errorf("part %d is %d bytes long, more than %d", i, len(p), max)
			case utf8.ValidString(s) && !utf8.ValidString(p):
				t.Errorf("part %d is not valid UTF-8 though the text is: %q", i, p)
			}
			joined.WriteString(p)
		}
		if got, want := withoutSpace(joined.String()), withoutSpace(s); got != want {
			t.Errorf("the parts lose text:\ngot  %q\nwant %q", got, want)
		}
	})
}

// withoutSpace returns s without its white space.
func withoutSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
