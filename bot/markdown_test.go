package bot_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/bot/bottest"
)

func TestLiteral(t *testing.T) {
	const wj = "\u2060"
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Nordlys AS", "Nordlys AS"},
		{"unicode", "Nørregade 1, København — 東京 🚀", "Nørregade 1, København — 東京 🚀"},
		{"empty", "", ""},
		{"strong emphasis", "**bold**", `\*\*bold\*\*`},
		{"underscores", "first_last and _it_ and __it__", `first_last and \_it\_ and \_\_it\_\_`},
		{"backticks", "a `code` span", "a \\`code\\` span"},
		{"backslash", `C:\path`, `C:\\path`},
		{"strikethrough", "~~gone~~", `\~\~gone\~\~`},
		{"markdown link", "[click](https://evil.example)", `\[click\](https:` + wj + `//evil.` + wj + `example)`},
		{"bare URL", "see http://evil.example/x?a=b.c", "see http:" + wj + "//evil." + wj + "example/x?a=b." + wj + "c"},
		{"www", "www.evil.example", "www" + wj + "." + wj + "evil." + wj + "example"},
		{"dots outside URLs stay", "Acme Inc. v2.1", "Acme Inc. v2.1"},
		{"mention of all", "<@all>", `\<` + wj + "@all>"},
		{"mention by email", "<@personEmail:eve@evil.example|Eve>", `\<` + wj + "@personEmail:eve@evil.example|Eve>"},
		{"mention by id", "<@personId:Y2lzY29z>", `\<` + wj + "@personId:Y2lzY29z>"},
		{"HTML", "<b>x</b>", `\<b>x\</b>`},
		{"line breaks", "one\ntwo\r\nthree\u2028four", "one two  three four"},
		{"control characters", "a\x00b\x1bc", "a b c"},
		{"bidirectional override dropped", "abc\u202egpj.exe", "abcgpj.exe"},
		{"heading", "# Title", `\# Title`},
		{"quote", "> quoted", `\> quoted`},
		{"list item", "- item", `\- item`},
		{"indented list item", "  + item", `  \+ item`},
		{"numbered item", "12. item", `12\. item`},
		{"number in text", "Suite 12. floor", "Suite 12. floor"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := bot.Literal(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bot.Literal(%q) (-want +got):\n%s", tt.in, diff)
			}
			if live := bottest.LiveMarkup(got); len(live) > 0 {
				t.Errorf("bot.Literal(%q) = %q leaves %v live", tt.in, got, live)
			}
		})
	}
}

func TestLiteralLongInput(t *testing.T) {
	in := strings.Repeat(bottest.Attack+" ø_", 400) // about 50 KB
	got := bot.Literal(in)
	if live := bottest.LiveMarkup(got); len(live) > 0 {
		t.Errorf("Literal of a long attack leaves %v live", live)
	}
	if !utf8.ValidString(got) {
		t.Error("Literal of a long input is not valid UTF-8")
	}
	unescaped := strings.NewReplacer(`\`, "", "\u2060", "").Replace(got)
	if want := strings.ReplaceAll(in, `\`, ""); unescaped != want {
		t.Error("Literal changed more than escapes and word joiners in a long input")
	}
}

func TestCodeAndBold(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"code", bot.Code("K7QM2X"), "`K7QM2X`"},
		{"code with a backtick falls back to literal", bot.Code("a`b"), "a\\`b"},
		{"code breaks a mention", bot.Code("<@all>"), "`<\u2060@all>`"},
		{"code breaks a URL", bot.Code("https://evil.example"), "`https:\u2060//evil.\u2060example`"},
		{"code of nothing", bot.Code(""), ""},
		{"bold", bot.Bold("Acme *Corp*"), `**Acme \*Corp\***`},
		{"bold of nothing", bot.Bold(""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
