package bot

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// The limits of a bulk file: its size in bytes and its data rows (the header not counted).
const (
	MaxBulkFileBytes = 5 << 20
	MaxBulkRows      = 5000
)

// BulkRow is one data row of a bulk file: its line in the file (1 is the header) and its
// values by column key. A cell left empty is absent, so it means what an omitted key of the
// one-line attach means.
type BulkRow struct {
	Line   int
	Values map[string]string
}

// BulkColumns returns the column names a bulk file may use: the keys of the one-line attach.
func BulkColumns() []string { return AttachKeys() }

// utf8BOM is the byte order mark spreadsheets put in front of a UTF-8 file.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ParseBulkCSV reads a bulk file: UTF-8 with or without a byte order mark, comma or semicolon
// separated (the header line decides which), fields optionally in double quotes. The header
// row names the columns, in any order, case and surrounding space ignored. A file it cannot
// read, an unknown or repeated column, too many rows or bytes come back as an *InputError
// that says what to fix; the rows' values are not checked here (SpecFromArgs does, per row).
func ParseBulkCSV(data []byte) ([]BulkRow, error) {
	if len(data) > MaxBulkFileBytes {
		return nil, &InputError{Problems: []string{fmt.Sprintf("the file has %d bytes; a file may have at most %d (5 MiB): split it", len(data), MaxBulkFileBytes)}}
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		return nil, &InputError{Problems: []string{"the file is not UTF-8 text: save it as \"CSV UTF-8\""}}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = separator(data)
	r.FieldsPerRecord = -1 // checked below, with a clearer message
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, &InputError{Problems: []string{"the file is empty: its first line names the columns, such as org,admin,template,packages"}}
	}
	if err != nil {
		return nil, csvProblem(err)
	}
	keys, problems := bulkHeader(header)
	if len(problems) > 0 {
		return nil, &InputError{Problems: problems}
	}
	var rows []BulkRow
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvProblem(err)
		}
		line, _ := r.FieldPos(0)
		if blankRecord(record) {
			continue
		}
		if len(rows) == MaxBulkRows {
			return nil, &InputError{Problems: []string{fmt.Sprintf("the file has more than %d rows: split it", MaxBulkRows)}}
		}
		if len(record) > len(keys) {
			return nil, &InputError{Problems: []string{fmt.Sprintf("line %d has %d fields but the header names %d columns: put a value with a %c in double quotes", line, len(record), len(keys), r.Comma)}}
		}
		values := map[string]string{}
		for i, v := range record {
			if v = strings.TrimSpace(v); v != "" {
				values[keys[i]] = v
			}
		}
		rows = append(rows, BulkRow{Line: line, Values: values})
	}
	if len(rows) == 0 {
		return nil, &InputError{Problems: []string{"the file has a header but no rows"}}
	}
	return rows, nil
}

// separator returns ';' when the header line has more semicolons than commas (as spreadsheets
// in Danish and German locales write), else ','.
func separator(data []byte) rune {
	header := data
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		header = data[:i]
	}
	if bytes.Count(header, []byte(";")) > bytes.Count(header, []byte(",")) {
		return ';'
	}
	return ','
}

// bulkHeader reads the header row into column keys and lists every problem with it.
func bulkHeader(header []string) ([]string, []string) {
	keys := make([]string, len(header))
	var unknown, repeated, problems []string
	for i, h := range header {
		k := strings.ToLower(strings.TrimSpace(h))
		keys[i] = k
		switch {
		case k == "":
			problems = append(problems, fmt.Sprintf("column %d of the header has no name", i+1))
		case !slices.Contains(attachKeys, k):
			unknown = append(unknown, quoteTyped(trimMarkdown(h, quotedWordBytes)))
		case slices.Contains(keys[:i], k):
			repeated = append(repeated, k)
		}
	}
	if len(unknown) > 0 {
		problems = append(problems, fmt.Sprintf("unknown %s %s; the columns are %s",
			pluralWord(len(unknown), "column", "columns"), strings.Join(unknown, ", "), strings.Join(attachKeys, ", ")))
	}
	for _, k := range repeated {
		problems = append(problems, fmt.Sprintf("the column %s is named twice", k))
	}
	return keys, problems
}

// pluralWord picks the singular or the plural of a word for n.
func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// blankRecord reports whether every field of a record is blank (an empty line, or a line of
// separators a spreadsheet left behind).
func blankRecord(record []string) bool {
	for _, v := range record {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// csvProblem turns a CSV syntax error into an input problem with its line.
func csvProblem(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		what := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			what = "a double quote is misplaced or not closed: a value with quotes goes in double quotes, each quote doubled (\"\")"
		}
		return &InputError{Problems: []string{fmt.Sprintf("line %d: %s", pe.StartLine, what)}}
	}
	return &InputError{Problems: []string{"the file cannot be read as CSV"}}
}
