package handlers_test

import (
	"testing"

	"attachbot/handlers"
)

func TestSign(t *testing.T) {
	// The want value is Python's hmac.new(key, raw, hashlib.sha1).hexdigest(), as in Webex's
	// "Using a Webhook Secret" post.
	got := handlers.Sign([]byte("somesupersecretphrase"), []byte(`{"id":"x"}`))
	if want := "546ced6df753cde3f80cf2fae240acad4c48a67e"; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}
