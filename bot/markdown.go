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
	return s[:utf8Prefix(s, max-len(ellipsis))] + ellipsis
}

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
