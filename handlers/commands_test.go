package handlers_test

import (
	"testing"

	"attachbot/handlers"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		in           string
		want         handlers.Args
		wantProblems []string
	}{
		{in: "", want: handlers.Args{}},
		{in: "K7QM2X", want: handlers.Args{Words: []string{"K7QM2X"}}},
		{in: `org=abc name="Small Shop ApS" city=København`, want: handlers.Args{Pairs: map[string]string{
			"org": "abc", "name": "Small Shop ApS", "city": "København"}}},
		{in: `Name=“Curly Quotes Ltd”  x`, want: handlers.Args{Words: []string{"x"}, Pairs: map[string]string{"name": "Curly Quotes Ltd"}}},
		{in: `street="Main St 1`, want: handlers.Args{Pairs: map[string]string{"street": "Main St 1"}}, wantProblems: []string{"a double quote is not closed"}},
		{in: "org=a org=b", want: handlers.Args{Pairs: map[string]string{"org": "b"}}, wantProblems: []string{"org is given twice"}},
		{in: `street=""`, want: handlers.Args{Pairs: map[string]string{"street": ""}}},
		{in: "=x", want: handlers.Args{Words: []string{"=x"}}},
		{in: "K7QM2X\u00a0org=a\u2009city=Oslo\u3000x\u202fy\u2028z", want: handlers.Args{
			Words: []string{"K7QM2X", "x", "y", "z"}, Pairs: map[string]string{"org": "a", "city": "Oslo"}}},
		{in: "name=\"Small\u00a0Shop  ApS\u3000\"\u00a0x", want: handlers.Args{Words: []string{"x"}, Pairs: map[string]string{"name": "Small\u00a0Shop  ApS\u3000"}}},
	}
	for _, tt := range tests {
		got, problems := handlers.ParseArgs(tt.in)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseArgs(%q) args (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(tt.wantProblems, problems, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseArgs(%q) problems (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestSign(t *testing.T) {
	// The want value is Python's hmac.new(key, raw, hashlib.sha1).hexdigest(), as in Webex's
	// "Using a Webhook Secret" post.
	got := handlers.Sign([]byte("somesupersecretphrase"), []byte(`{"id":"x"}`))
	if want := "546ced6df753cde3f80cf2fae240acad4c48a67e"; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}
