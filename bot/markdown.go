package bot

import (
	"strings"
	"unicode/utf8"
)

// splitMarkdown cuts s into parts of at most max bytes (max is at least utf8.UTFMax), at
// line breaks where it can and at UTF-8 boundaries where a single line is longer than max.
// No part is empty or blank: Webex refuses a message without text, so blank lines where s is
// cut are dropped, and a blank s gives no part at all.
func splitMarkdown(s string, max int) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if len(s) <= max {
		return []string{s}
	}
	var parts []string
	add := func(part string) {
		if strings.TrimSpace(part) != "" {
			parts = append(parts, part)
		}
	}
	var cur strings.Builder
	flush := func() {
		add(strings.TrimRight(cur.String(), "\n"))
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(s, "\n") {
		for len(line) > max {
			flush()
			cut := utf8Prefix(line, max)
			add(line[:cut])
			line = line[cut:]
		}
		if cur.Len()+len(line) > max {
			flush()
		}
		cur.WriteString(line)
	}
	flush()
	return parts
}

// trimMarkdown shortens s to at most max bytes, ending with an ellipsis when it cut.
func trimMarkdown(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	return TrimUTF8(s, max-len(ellipsis)) + ellipsis
}

// TrimUTF8 returns the longest prefix of s of at most n bytes (n > 0) that does not split a
// rune (see utf8Prefix for text that is not valid UTF-8).
func TrimUTF8(s string, n int) string { return s[:utf8Prefix(s, n)] }

// utf8Prefix returns the length of the longest prefix of s of at most n bytes (n > 0) that
// ends at a rune boundary. Where s is not valid UTF-8 and no rune starts within the last
// utf8.UTFMax bytes before n, it cuts at n, so that the prefix is never empty.
func utf8Prefix(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for back := 0; back < utf8.UTFMax && n-back > 0; back++ {
		if utf8.RuneStart(s[n-back]) {
			return n - back
		}
	}
	return n
}

// wordJoiner is U+2060 WORD JOINER: invisible, and it keeps two characters from forming a
// mention (`<@`) or a link scheme (`://`) without a visible change to the text.
const wordJoiner = "\u2060"

// Literal returns s so that Webex shows it as the text it is, in a message's markdown and in
// an Adaptive Card TextBlock or Fact: it is for every text that comes from people or from Webex
// (a comment, an organization's name, an error description). Markdown's inline punctuation is
// escaped with a backslash (CommonMark), so that no emphasis, code, link or HTML tag forms; a
// line's leading heading, quote and list markers likewise. Line breaks and other control
// characters become spaces, so that the text cannot start a list or a heading of its own, and
// characters that reorder text (bidirectional overrides) are dropped. A word joiner breaks
// what Webex would act on even inside escaped text: a mention (`<@personEmail:…>`,
// `<@all>`), and a bare URL (its scheme, `www.`, and the dots of its host), which Webex
// clients turn into links. s is not shortened: the caller caps its length.
func Literal(s string) string {
	s = plainLine(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	prefix, n := escapeLineStart(s)
	b.WriteString(prefix)
	writeBroken(&b, s[n:], true)
	return b.String()
}

// Code returns s as a code span when it can be one (an id, a status, a trackingId): inside a
// code span no markdown applies, so only a backtick could end it; a value with a backtick is
// shown with Literal instead. Mentions and URLs are broken as Literal breaks them, since
// Webex may look for mentions before it renders markdown.
func Code(s string) string {
	s = plainLine(s)
	if s == "" || strings.Contains(s, "`") {
		return Literal(s)
	}
	var b strings.Builder
	b.WriteString("`")
	writeBroken(&b, s, false)
	b.WriteString("`")
	return b.String()
}

// Bold returns untrusted s in bold: Literal inside **…**.
func Bold(s string) string {
	if s == "" {
		return ""
	}
	return "**" + Literal(s) + "**"
}

// plainLine turns line breaks and control characters into spaces and drops the
// characters that reorder text.
func plainLine(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			return ' '
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return ' '
		case (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f':
			return -1
		case r == utf8.RuneError:
			return '\ufffd'
		}
		return r
	}, s)
}

// escapeLineStart returns the escaped form of what at the start of s would begin a block
// (a heading, a quote, a list item, a setext underline) and how many bytes of s it stands
// for; "" and 0 when s starts no block.
func escapeLineStart(s string) (string, int) {
	trimmed := strings.TrimLeft(s, " ")
	lead := s[:len(s)-len(trimmed)]
	if trimmed == "" {
		return "", 0
	}
	switch trimmed[0] {
	case '#', '>', '-', '+', '=':
		return lead + `\` + trimmed[:1], len(lead) + 1
	}
	digits := 0
	for digits < len(trimmed) && digits < 9 && trimmed[digits] >= '0' && trimmed[digits] <= '9' {
		digits++
	}
	if digits > 0 && digits < len(trimmed) && (trimmed[digits] == '.' || trimmed[digits] == ')') {
		return lead + trimmed[:digits] + `\` + trimmed[digits:digits+1], len(lead) + digits + 1
	}
	return "", 0
}

// writeBroken writes s with mentions and URLs broken by a word joiner and, when escape is
// set, markdown's inline punctuation escaped with a backslash.
func writeBroken(b *strings.Builder, s string, escape bool) {
	inURL := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		next := s[i+size:]
		switch {
		case r == ' ':
			inURL = false
		case r == ':' && strings.HasPrefix(next, "//"):
			b.WriteString(":" + wordJoiner)
			inURL = true
			i += size
			continue
		case (r == 'w' || r == 'W') && len(next) >= 3 && strings.EqualFold(s[i:i+4], "www.") && (i == 0 || !isWordByte(s[i-1])):
			b.WriteString(s[i:i+3] + wordJoiner)
			inURL = true
			i += 3
			continue
		case r == '.' && inURL && next != "" && isWordByte(next[0]):
			b.WriteString("." + wordJoiner)
			i += size
			continue
		case r == '<' && strings.HasPrefix(next, "@"):
			if escape {
				b.WriteString(`\`)
			}
			b.WriteString("<" + wordJoiner)
			i += size
			continue
		case r == '_' && escape && i > 0 && isWordByte(s[i-1]) && next != "" && isWordByte(next[0]):
			// Inside a word (webex_calling, en_us) an underscore never opens or closes
			// emphasis (CommonMark's flanking rules), so it stays as it is.
		case escape && strings.ContainsRune("\\`*_~[]<", r):
			b.WriteString(`\`)
		}
		b.WriteString(s[i : i+size])
		i += size
	}
}

// isWordByte reports whether c is an ASCII letter or digit.
func isWordByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
