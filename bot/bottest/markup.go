package bottest

import (
	"regexp"
	"strings"
)

// liveMarkup are the constructs Webex would act on in a message's markdown or a card's text:
// a mention, a markdown link, an autolinked URL, emphasis, code and an HTML tag. Each
// matches only when it is not escaped: a backslash before its first character, or a word
// joiner (U+2060) inside it, keeps it text.
var liveMarkup = []struct {
	name string
	re   *regexp.Regexp
}{
	{"mention", regexp.MustCompile(`(^|[^\\])<@`)},
	{"markdown link", regexp.MustCompile(`(^|[^\\])\[[^\]]*[^\\]\]\(`)},
	{"URL", regexp.MustCompile(`(?i)(https?|ftp|mailto)://|(^|[^\w\x{2060}])www\.[a-z0-9]`)},
	{"strong emphasis", regexp.MustCompile(`(^|[^\\])\*\*[^*\s]`)},
	{"emphasis", regexp.MustCompile(`(^|[^\\*])\*[^*\s\\][^*]*[^\\\s*]\*`)},
	{"underscore emphasis", regexp.MustCompile(`(^|[^\\\w])_[^_\s\\][^_]*[^\\\s]_`)},
	{"strikethrough", regexp.MustCompile(`(^|[^\\])~~[^~\s]`)},
	{"HTML tag", regexp.MustCompile(`(^|[^\\])</?[A-Za-z][A-Za-z0-9]*[\s>/]`)},
}

// LiveMarkup returns the names of the live markup constructs in text that came from people
// or Webex (after the bot showed it): none when the text is shown literally. The bot's own
// formatting around such text must be left out of what is checked.
func LiveMarkup(text string) []string {
	var found []string
	for _, m := range liveMarkup {
		if m.re.MatchString(text) {
			found = append(found, m.name)
		}
	}
	return found
}

// Attack is untrusted text that tries every construct LiveMarkup finds: a mention of
// everyone and of a person, a markdown link, a bare URL, emphasis and an HTML tag.
const Attack = "<@all> <@personEmail:eve@evil.example> [click](https://evil.example) https://evil.example/x www.evil.example **bold** _it_ ~~gone~~ <b>x</b>"

// Contains reports whether s contains every one of parts, ignoring word joiners (U+2060),
// which the bot puts into untrusted text to keep it from becoming a mention or a link.
func Contains(s string, parts ...string) bool {
	s = strings.ReplaceAll(s, "\u2060", "")
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
