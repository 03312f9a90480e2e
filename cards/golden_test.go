package cards_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// schemaFile is the official Adaptive Card 1.3 schema, kept beside the golden cards.
const schemaFile = "adaptive-card-1.3.0.schema.json"

// TestGolden compares every card with its golden file, as JSON values: key order and
// formatting do not matter. With -update it rewrites the golden files.
func TestGolden(t *testing.T) {
	for _, tc := range cardCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got := buildCard(t, tc)
			path := goldenPath(tc.name)
			if *update {
				writeGolden(t, path, got)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read the golden file (run go test ./cards -update to create it): %v", err)
			}
			if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, got)); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", tc.name, path, diff)
			}
		})
	}
}

// TestNoStrayGoldens checks that every card in testdata has a case, so that a renamed case
// does not leave an unchecked golden file behind.
func TestNoStrayGoldens(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tc := range cardCases(t) {
		names = append(names, goldenPath(tc.name))
	}
	for _, path := range paths {
		if filepath.Base(path) != schemaFile && !slices.Contains(names, path) {
			t.Errorf("%s has no case in cardCases; delete it or add the case", path)
		}
	}
}

func goldenPath(name string) string {
	return filepath.Join("testdata", name+".json")
}

// writeGolden writes a card pretty-printed with a 2-space indent.
func writeGolden(t *testing.T, path string, card []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, card, "", "  "); err != nil {
		t.Fatalf("indent %s: %v", path, err)
	}
	buf.WriteByte('\n')
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// decodeJSON decodes JSON into maps, slices and scalars, failing the test on invalid JSON.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, truncate(string(b), 300))
	}
	return v
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimSpace(s[:n]) + "…"
}
