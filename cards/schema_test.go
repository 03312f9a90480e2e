package cards_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaURL is the schema's own id; its $ref are relative to it.
const schemaURL = "http://adaptivecards.io/schemas/adaptive-card.json"

// TestSchema validates every golden file and every freshly built card against the official
// Adaptive Card 1.3 schema (draft-06). The schema forbids unknown properties, so it catches a
// misspelt property or a type newer than 1.3, such as Action.Execute.
func TestSchema(t *testing.T) {
	schema := compileSchema(t)

	t.Run("built", func(t *testing.T) {
		for _, tc := range cardCases(t) {
			t.Run(tc.name, func(t *testing.T) {
				validate(t, schema, buildCard(t, tc))
			})
		}
	})
	t.Run("golden", func(t *testing.T) {
		paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if filepath.Base(path) == schemaFile {
				continue
			}
			t.Run(filepath.Base(path), func(t *testing.T) {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				validate(t, schema, b)
			})
		}
	})
}

// TestSchemaRejects makes sure the schema check is not vacuous.
func TestSchemaRejects(t *testing.T) {
	schema := compileSchema(t)
	for _, tc := range []struct{ name, card string }{
		{"Action.Execute", `{"type":"AdaptiveCard","version":"1.3","actions":[{"type":"Action.Execute","title":"Go"}]}`},
		{"unknown element", `{"type":"AdaptiveCard","version":"1.3","body":[{"type":"TextBlok","text":"x"}]}`},
		{"misspelt property", `{"type":"AdaptiveCard","version":"1.3","body":[{"type":"Input.Text","id":"a","isRequried":true}]}`},
		{"toggle without title", `{"type":"AdaptiveCard","version":"1.3","body":[{"type":"Input.Toggle","id":"a"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(tc.card)))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err == nil {
				t.Errorf("the schema accepts %s", tc.card)
			}
		})
	}
}

// compileSchema loads testdata's copy of the schema under its own URL.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", schemaFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("read the schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		t.Fatalf("add the schema: %v", err)
	}
	schema, err := c.Compile(schemaURL)
	if err != nil {
		t.Fatalf("compile the schema: %v", err)
	}
	return schema
}

// validate fails the test when card does not conform to the schema.
func validate(t *testing.T, schema *jsonschema.Schema, card []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(card))
	if err != nil {
		t.Fatalf("decode the card: %v", err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("the card does not conform to the Adaptive Card 1.3 schema:\n%v", err)
	}
}
