package apptest

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// ParseCSV parses a CSV file the bot sent, failing the test when it does not parse.
func ParseCSV(t testing.TB, data []byte) [][]string {
	t.Helper()
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("the bot's file does not parse as CSV: %v\n%s", err, data)
	}
	return records
}

// CSVColumn returns the named column of CSV records (the header first), failing the test
// when there is no such column.
func CSVColumn(t testing.TB, records [][]string, name string) []string {
	t.Helper()
	for i, h := range records[0] {
		if h == name {
			var out []string
			for _, r := range records[1:] {
				out = append(out, r[i])
			}
			return out
		}
	}
	t.Fatalf("no column %q in %q", name, records[0])
	return nil
}
