package bot_test

import (
	"testing"

	"attachbot/bot"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		in           string
		want         bot.Args
		wantProblems []string
	}{
		{in: "", want: bot.Args{}},
		{in: "K7QM2X", want: bot.Args{Words: []string{"K7QM2X"}}},
		{in: `org=abc name="Small Shop ApS" city=København`, want: bot.Args{Pairs: map[string]string{
			"org": "abc", "name": "Small Shop ApS", "city": "København"}}},
		{in: `Name=“Curly Quotes Ltd”  x`, want: bot.Args{Words: []string{"x"}, Pairs: map[string]string{"name": "Curly Quotes Ltd"}}},
		{in: `street="Main St 1`, want: bot.Args{Pairs: map[string]string{"street": "Main St 1"}}, wantProblems: []string{"a double quote is not closed"}},
		{in: "org=a org=b", want: bot.Args{Pairs: map[string]string{"org": "b"}}, wantProblems: []string{"org is given twice"}},
		{in: `street=""`, want: bot.Args{Pairs: map[string]string{"street": ""}}},
		{in: "=x", want: bot.Args{Words: []string{"=x"}}},
		{in: "K7QM2X\u00a0org=a\u2009city=Oslo\u3000x\u202fy\u2028z", want: bot.Args{
			Words: []string{"K7QM2X", "x", "y", "z"}, Pairs: map[string]string{"org": "a", "city": "Oslo"}}},
		{in: "name=\"Small\u00a0Shop  ApS\u3000\"\u00a0x", want: bot.Args{Words: []string{"x"}, Pairs: map[string]string{"name": "Small\u00a0Shop  ApS\u3000"}}},
	}
	for _, tt := range tests {
		got, problems := bot.ParseArgs(tt.in)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseArgs(%q) args (-want +got):\n%s", tt.in, diff)
		}
		if diff := cmp.Diff(tt.wantProblems, problems, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseArgs(%q) problems (-want +got):\n%s", tt.in, diff)
		}
	}
}
