package bot

import (
	"strings"
	"unicode/utf8"
)

// splitMarkdown cuts s into parts of at most max bytes, at line breaks where it can and at
// UTF-8 boundaries where a single line is longer than max. No part is empty.
func splitMarkdown(s string, max int) []string {
	if len(s) <= max {
		return []string{s}
	}
	var parts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, strings.TrimRight(cur.String(), "\n"))
			cur.Reset()
		}
	}
	for _, line := range strings.SplitAfter(s, "\n") {
		for len(line) > max {
			flush()
			cut := utf8Prefix(line, max)
			parts = append(parts, line[:cut])
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

// utf8Prefix returns the length of the longest prefix of s of at most n bytes that ends at a
// rune boundary.
func utf8Prefix(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}
