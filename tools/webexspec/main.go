// Command webexspec extracts, from Webex's official OpenAPI specs
// (https://github.com/webex/webex-openapi-specs), the request schemas of the operations
// attachbot calls, into the JSON file the simulated Webex (webex/webextest) validates every
// request against:
//
//	go run ./tools/webexspec -specs DIR > webex/webextest/spec/operations.json
//
// DIR holds webex-wholesale.json, webex-admin.json and webex-messaging.json from that
// repository. For each operation it writes the query parameters as one JSON Schema object
// (each parameter a property, the required ones required) and the application/json request
// body's schema, with every $ref resolved and the OpenAPI-only keywords translated:
// "example" is dropped and "nullable: true" adds "null" to the type. A body marked closed
// refuses properties its schema does not list (additionalProperties: false on every object
// that lists properties), except the free-form parts named in open. Where the spec is wrong,
// a correction replaces a part of a schema; each says why.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// op names one operation to extract.
type op struct {
	file, method, path string
	// closed refuses body properties the schema does not list.
	closed bool
	// open are the body's free-form objects (JSON pointers into the body, "*" for any array
	// index) that stay open in a closed body.
	open []string
	// corrections replace parts of the body schema the spec gets wrong.
	corrections []correction
}

// correction replaces the schema at a JSON pointer into the body, or adds Enum's values to
// the enum there.
type correction struct {
	Pointer string         `json:"pointer"`
	Why     string         `json:"why"`
	Schema  map[string]any `json:"-"`
	Enum    []any          `json:"-"`
}

// cardAttachment is a message attachment as the Cards guide documents it
// (https://developer.webex.com/docs/api/guides/cards): the messaging spec's Attachment schema
// points at an Enterprise Content Management file instead.
var cardAttachment = map[string]any{
	"type":     "object",
	"required": []any{"contentType", "content"},
	"properties": map[string]any{
		"contentType": map[string]any{"type": "string", "enum": []any{"application/vnd.microsoft.card.adaptive"}},
		"content":     map[string]any{"type": "object"},
	},
}

var ops = []op{
	{file: "webex-wholesale.json", method: "get", path: "/wholesale/customers"},
	{file: "webex-wholesale.json", method: "post", path: "/wholesale/customers", closed: true},
	{file: "webex-wholesale.json", method: "post", path: "/wholesale/customers/validate", closed: true},
	{file: "webex-wholesale.json", method: "get", path: "/wholesale/customers/{customerId}"},
	{file: "webex-wholesale.json", method: "put", path: "/wholesale/customers/{customerId}", closed: true},
	{file: "webex-wholesale.json", method: "delete", path: "/wholesale/customers/{customerId}"},
	{file: "webex-admin.json", method: "get", path: "/people"},
	{file: "webex-admin.json", method: "get", path: "/people/me"},
	{file: "webex-admin.json", method: "get", path: "/people/{personId}"},
	{file: "webex-admin.json", method: "get", path: "/licenses"},
	{file: "webex-admin.json", method: "get", path: "/organizations"},
	{file: "webex-admin.json", method: "get", path: "/organizations/{orgId}"},
	{file: "webex-admin.json", method: "get", path: "/partner/organizations/{orgId}/partnerAdmins"},
	{file: "webex-messaging.json", method: "post", path: "/messages", closed: true,
		open: []string{"/properties/attachments/items/properties/content"},
		corrections: []correction{{
			Pointer: "/properties/attachments/items",
			Why:     "the spec's Attachment points at an Enterprise Content Management file; a card attachment is {contentType, content} (developer.webex.com/docs/api/guides/cards)",
			Schema:  cardAttachment,
		}}},
	{file: "webex-messaging.json", method: "get", path: "/messages/{messageId}"},
	{file: "webex-messaging.json", method: "put", path: "/messages/{messageId}", closed: true},
	{file: "webex-messaging.json", method: "delete", path: "/messages/{messageId}"},
	{file: "webex-messaging.json", method: "post", path: "/attachment/actions", closed: true,
		corrections: []correction{{
			Pointer: "/properties/inputs",
			Why:     "a card's inputs are whatever the card asks for; the spec's properties (Name, Url, Email, Tel) are those of its example card",
			Schema:  map[string]any{"type": "object"},
		}}},
	{file: "webex-messaging.json", method: "get", path: "/attachment/actions/{id}"},
	{file: "webex-messaging.json", method: "get", path: "/webhooks"},
	{file: "webex-messaging.json", method: "post", path: "/webhooks", closed: true,
		corrections: []correction{
			{
				Pointer: "/properties/resource/enum",
				Why:     "the Webhooks guide documents firehose webhooks, resource all (developer.webex.com/docs/api/guides/webhooks); the spec's enum omits it",
				Enum:    []any{"all"},
			},
			{
				Pointer: "/properties/event/enum",
				Why:     "the Webhooks guide documents firehose webhooks, event all (developer.webex.com/docs/api/guides/webhooks); the spec's enum omits it",
				Enum:    []any{"all"},
			},
		}},
	{file: "webex-messaging.json", method: "get", path: "/webhooks/{webhookId}"},
	{file: "webex-messaging.json", method: "put", path: "/webhooks/{webhookId}", closed: true},
	{file: "webex-messaging.json", method: "delete", path: "/webhooks/{webhookId}"},
}

// operation is one extracted operation.
type operation struct {
	Method      string         `json:"method"`
	Path        string         `json:"path"`
	Spec        string         `json:"spec"`
	OperationID string         `json:"operationId"`
	Query       map[string]any `json:"query"`
	Body        map[string]any `json:"body,omitempty"`
	Closed      bool           `json:"closed,omitempty"`
	Corrections []correction   `json:"corrections,omitempty"`
}

func main() {
	dir := flag.String("specs", "", "the directory with webex-wholesale.json, webex-admin.json and webex-messaging.json")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "webexspec: -specs is required")
		os.Exit(2)
	}
	out, err := extract(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "webexspec:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "webexspec:", err)
		os.Exit(1)
	}
}

func extract(dir string) (map[string]any, error) {
	docs := map[string]map[string]any{}
	var list []operation
	for _, o := range ops {
		doc, ok := docs[o.file]
		if !ok {
			b, err := os.ReadFile(filepath.Join(dir, o.file))
			if err != nil {
				return nil, err
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				return nil, fmt.Errorf("%s: %w", o.file, err)
			}
			docs[o.file] = doc
		}
		x, err := extractOp(doc, o)
		if err != nil {
			return nil, fmt.Errorf("%s %s %s: %w", o.file, strings.ToUpper(o.method), o.path, err)
		}
		list = append(list, x)
	}
	return map[string]any{
		"source":     "Extracted by tools/webexspec from Webex's official OpenAPI specs, https://github.com/webex/webex-openapi-specs",
		"operations": list,
	}, nil
}

func extractOp(doc map[string]any, o op) (operation, error) {
	paths, _ := doc["paths"].(map[string]any)
	item, _ := paths[o.path].(map[string]any)
	raw, _ := item[o.method].(map[string]any)
	if raw == nil {
		return operation{}, errors.New("not in the spec")
	}
	x := operation{Method: strings.ToUpper(o.method), Path: o.path, Spec: o.file, Closed: o.closed}
	x.OperationID, _ = raw["operationId"].(string)

	props := map[string]any{}
	required := []any{}
	params, _ := raw["parameters"].([]any)
	for _, p := range params {
		p, err := resolve(doc, p, 0)
		if err != nil {
			return x, err
		}
		pm, _ := p.(map[string]any)
		if pm["in"] != "query" {
			continue
		}
		name, _ := pm["name"].(string)
		schema, _ := pm["schema"].(map[string]any)
		if schema == nil {
			schema = map[string]any{"type": "string"}
		}
		if d, ok := pm["description"].(string); ok {
			schema["description"] = d
		}
		props[name] = schema
		if req, _ := pm["required"].(bool); req {
			required = append(required, name)
		}
	}
	sort.Slice(required, func(i, j int) bool { return required[i].(string) < required[j].(string) })
	x.Query = map[string]any{"type": "object", "properties": props, "required": required}

	if rb, ok := raw["requestBody"].(map[string]any); ok {
		content, _ := rb["content"].(map[string]any)
		media, _ := content["application/json"].(map[string]any)
		schema, ok := media["schema"]
		if !ok {
			return x, errors.New("the request body has no application/json schema")
		}
		body, err := resolve(doc, schema, 0)
		if err != nil {
			return x, err
		}
		x.Body, _ = body.(map[string]any)
		for _, c := range o.corrections {
			if c.Enum != nil {
				if err := extendEnum(x.Body, c.Pointer, c.Enum); err != nil {
					return x, fmt.Errorf("correction at %s: %w", c.Pointer, err)
				}
				x.Corrections = append(x.Corrections, c)
				continue
			}
			if err := replace(x.Body, c.Pointer, c.Schema); err != nil {
				return x, fmt.Errorf("correction at %s: %w", c.Pointer, err)
			}
			x.Corrections = append(x.Corrections, c)
		}
		if o.closed {
			closeObjects(x.Body, "", o.open)
		}
	}
	return x, nil
}

// resolve returns v with every $ref to #/components/... replaced by a copy of its target and
// the OpenAPI-only keywords translated.
func resolve(doc map[string]any, v any, depth int) (any, error) {
	if depth > 64 {
		return nil, errors.New("$ref nesting deeper than 64: a cycle?")
	}
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			target, err := pointer(doc, strings.TrimPrefix(ref, "#"))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ref, err)
			}
			r, err := resolve(doc, target, depth+1)
			if err != nil {
				return nil, err
			}
			rm, _ := r.(map[string]any)
			if d, ok := v["description"].(string); ok && rm != nil {
				rm["description"] = d
			}
			return r, nil
		}
		out := map[string]any{}
		for k, e := range v {
			if k == "example" || k == "examples" || k == "nullable" {
				continue
			}
			r, err := resolve(doc, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		if n, _ := v["nullable"].(bool); n {
			if t, ok := out["type"].(string); ok {
				out["type"] = []any{t, "null"}
			}
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := resolve(doc, e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

// pointer returns the value at a JSON pointer in doc.
func pointer(doc any, ptr string) (any, error) {
	cur := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %q is not inside an object", ptr, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%s: no %q", ptr, tok)
		}
	}
	return cur, nil
}

// replace puts schema at ptr inside body.
func replace(body map[string]any, ptr string, schema map[string]any) error {
	parent, last := ptr[:strings.LastIndex(ptr, "/")], ptr[strings.LastIndex(ptr, "/")+1:]
	p, err := pointer(body, parent)
	if err != nil {
		return err
	}
	m, ok := p.(map[string]any)
	if !ok {
		return fmt.Errorf("%s is not an object", parent)
	}
	if _, ok := m[last]; !ok {
		return fmt.Errorf("no %q in %s", last, parent)
	}
	m[last] = schema
	return nil
}

// extendEnum adds values to the enum at ptr inside body.
func extendEnum(body map[string]any, ptr string, values []any) error {
	parent, last := ptr[:strings.LastIndex(ptr, "/")], ptr[strings.LastIndex(ptr, "/")+1:]
	p, err := pointer(body, parent)
	if err != nil {
		return err
	}
	m, ok := p.(map[string]any)
	if !ok {
		return fmt.Errorf("%s is not an object", parent)
	}
	enum, ok := m[last].([]any)
	if !ok {
		return fmt.Errorf("%s is not an enum", ptr)
	}
	m[last] = append(enum, values...)
	return nil
}

// closeObjects sets additionalProperties: false on every object schema under s that lists
// properties, except those at the pointers in open.
func closeObjects(s map[string]any, at string, open []string) {
	for _, o := range open {
		if at == o {
			return
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		if _, set := s["additionalProperties"]; !set {
			s["additionalProperties"] = false
		}
		for name, p := range props {
			if pm, ok := p.(map[string]any); ok {
				closeObjects(pm, at+"/properties/"+name, open)
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		closeObjects(items, at+"/items", open)
	}
}
