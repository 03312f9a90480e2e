package bot_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
)

func TestParseBulkCSV(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		want         []bot.BulkRow
		wantProblems []string
	}{
		{name: "comma", in: "org,admin\nA,a@x.example\n",
			want: []bot.BulkRow{{Line: 2, Values: map[string]string{"org": "A", "admin": "a@x.example"}}}},
		{name: "semicolon, BOM, CRLF, header case and space", in: "\ufeff Org ;ADMIN;name\r\nA;a@x.example;\"Shop; ApS\"\r\n",
			want: []bot.BulkRow{{Line: 2, Values: map[string]string{"org": "A", "admin": "a@x.example", "name": "Shop; ApS"}}}},
		{name: "quoted comma, doubled quote, line break", in: "name,org\n\"Shop, \"\"The\"\"\nApS\",A\n",
			want: []bot.BulkRow{{Line: 2, Values: map[string]string{"name": "Shop, \"The\"\nApS", "org": "A"}}}},
		{name: "empty cells are absent, blank lines skipped, short rows allowed", in: "org,admin,city\nA,,\n\n,,\nB\n",
			want: []bot.BulkRow{{Line: 2, Values: map[string]string{"org": "A"}}, {Line: 5, Values: map[string]string{"org": "B"}}}},
		{name: "unknown columns are named", in: "org,colour,admin,size\nA,red,a@x.example,L\n",
			wantProblems: []string{"unknown columns “colour”, “size”; the columns are " + strings.Join(bot.BulkColumns(), ", ")}},
		{name: "a column named twice", in: "org,ORG\nA,B\n", wantProblems: []string{"the column org is named twice"}},
		{name: "a header cell without a name", in: "org,,admin\nA,,b\n", wantProblems: []string{"column 2 of the header has no name"}},
		{name: "empty file", in: "", wantProblems: []string{"the file is empty: its first line names the columns, such as org,admin,template,packages"}},
		{name: "only a BOM", in: "\ufeff", wantProblems: []string{"the file is empty: its first line names the columns, such as org,admin,template,packages"}},
		{name: "header only", in: "org,admin\n", wantProblems: []string{"the file has a header but no rows"}},
		{name: "too many fields", in: "org,admin\nA,b,c\n", wantProblems: []string{"line 2 has 3 fields but the header names 2 columns: put a value with a , in double quotes"}},
		{name: "unclosed quote", in: "org,name\nA,\"Shop\n", wantProblems: []string{"line 2: a double quote is misplaced or not closed: a value with quotes goes in double quotes, each quote doubled (\"\")"}},
		{name: "not UTF-8", in: "org,name\nA,K\xf8benhavn\n", wantProblems: []string{"the file is not UTF-8 text: save it as \"CSV UTF-8\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bot.ParseBulkCSV([]byte(tt.in))
			var gotProblems []string
			if err != nil {
				var ie *bot.InputError
				if !errors.As(err, &ie) {
					t.Fatalf("ParseBulkCSV: %v, want an *InputError", err)
				}
				gotProblems = ie.Problems
			}
			if diff := cmp.Diff(tt.wantProblems, gotProblems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseBulkCSVLimits(t *testing.T) {
	var rows strings.Builder
	rows.WriteString("org\n")
	for i := range bot.MaxBulkRows {
		fmt.Fprintf(&rows, "org-%d\n", i)
	}
	got, err := bot.ParseBulkCSV([]byte(rows.String()))
	if err != nil || len(got) != bot.MaxBulkRows {
		t.Fatalf("ParseBulkCSV of %d rows: %d rows, %v", bot.MaxBulkRows, len(got), err)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"one row too many", []byte(rows.String() + "one-more\n"), fmt.Sprintf("the file has more than %d rows: split it", bot.MaxBulkRows)},
		{"one byte too large", append([]byte("org\n"), bytes.Repeat([]byte("a"), bot.MaxBulkFileBytes-3)...),
			fmt.Sprintf("the file has %d bytes; a file may have at most %d (5 MiB): split it", bot.MaxBulkFileBytes+1, bot.MaxBulkFileBytes)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bot.ParseBulkCSV(tt.in)
			var ie *bot.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("ParseBulkCSV: %v, want an *InputError", err)
			}
			if diff := cmp.Diff([]string{tt.want}, ie.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseBulkCSV checks ParseBulkCSV's promises on any input: it never panics; it returns
// rows or an *InputError with problems, never both; every row has a line after the header,
// lines increase, and every value is non-blank, trimmed, valid UTF-8 and under a known column.
func FuzzParseBulkCSV(f *testing.F) {
	for _, seed := range []string{
		"", "\ufeff", "org\nA\n", "org;admin\r\nA;b\r\n", "\ufefforg,name\n\"a,b\",\"c\"\"d\"\n",
		"org,colour\nA,red\n", "org,name\nA,\"open\n", "org\n\n\n", "org,admin\nA,b,c\n", "a;b,c\nx\n",
	} {
		f.Add([]byte(seed))
	}
	columns := map[string]bool{}
	for _, c := range bot.BulkColumns() {
		columns[c] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := bot.ParseBulkCSV(data)
		if err != nil {
			var ie *bot.InputError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 || rows != nil {
				t.Fatalf("ParseBulkCSV: rows %v, error %#v: want an *InputError with problems and no rows", rows, err)
			}
			return
		}
		if len(rows) == 0 || len(rows) > bot.MaxBulkRows {
			t.Fatalf("ParseBulkCSV: %d rows and no error", len(rows))
		}
		prev := 1
		for _, r := range rows {
			if r.Line <= prev {
				t.Fatalf("row line %d after line %d", r.Line, prev)
			}
			prev = r.Line
			if len(r.Values) == 0 {
				t.Fatalf("line %d: a row without values", r.Line)
			}
			for k, v := range r.Values {
				if !columns[k] || v == "" || strings.TrimSpace(v) != v {
					t.Fatalf("line %d: %q=%q", r.Line, k, v)
				}
			}
		}
	})
}

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Small Shop", "Small Shop"},
		{"=HYPERLINK(\"http://evil.example\")", "'=HYPERLINK(\"http://evil.example\")"},
		{"+1+1", "'+1+1"},
		{"-2", "'-2"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		if got := bot.SafeCell(tt.in); got != tt.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// readCSV parses a file the bot wrote.
func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("the bot's CSV does not parse: %v\n%s", err, data)
	}
	return records
}
