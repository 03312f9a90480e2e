package bot

import (
	"fmt"
	"strings"
	"unicode"
)

// Args are a command's arguments: positional words and key=value pairs. Values with spaces
// are written in double quotes: name="Small Shop ApS".
type Args struct {
	Words []string
	Pairs map[string]string
}

// ParseArgs splits a command line into words and key=value pairs at any Unicode white space
// (a pasted no-break space too), honouring double quotes, whose inner spaces are kept. It
// reports an unterminated quote and a key given twice.
func ParseArgs(s string) (Args, []string) {
	args := Args{Pairs: map[string]string{}}
	var problems []string
	var tok strings.Builder
	inQuote, started := false, false
	flush := func() {
		if !started {
			return
		}
		word := tok.String()
		tok.Reset()
		started = false
		key, value, ok := strings.Cut(word, "=")
		if !ok || key == "" {
			args.Words = append(args.Words, word)
			return
		}
		key = strings.ToLower(key)
		if _, dup := args.Pairs[key]; dup {
			problems = append(problems, fmt.Sprintf("%s is given twice", key))
		}
		args.Pairs[key] = value
	}
	for _, r := range s {
		switch {
		case r == '"' || (inQuote && (r == '”' || r == '“')) || (!inQuote && r == '“'):
			inQuote = !inQuote
			started = true
		case !inQuote && unicode.IsSpace(r):
			// Any white space separates, as pasted text brings no-break and thin spaces.
			flush()
		default:
			tok.WriteRune(r)
			started = true
		}
	}
	if inQuote {
		problems = append(problems, "a double quote is not closed")
	}
	flush()
	return args, problems
}
