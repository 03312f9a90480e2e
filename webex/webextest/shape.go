// The shape check: every request against its operation in Webex's official OpenAPI specs.

package webextest

import (
	"bytes"
	_ "embed" // the operations' schemas
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// The Sim checks the shape of every request to an operation of Webex's official OpenAPI specs
// before it acts: the query parameters and the JSON body against the operation's schemas, as
// extracted into spec/operations.json, and the rules the spec states only in prose (see
// shape_rules.go). A request that does not conform is refused with 400 in Webex's error shape,
// one errors[] entry per problem, and recorded (ShapeRefusals). Routes are matched to
// operations by method and path template, so a route added later is checked as soon as the
// spec has its operation.

//go:embed spec/operations.json
var operationsJSON []byte

// specOperation is one operation of spec/operations.json.
type specOperation struct {
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	OperationID string          `json:"operationId"`
	Query       json.RawMessage `json:"query"`
	Body        json.RawMessage `json:"body"`
}

// shapeOp is an operation's compiled schemas and prose rules.
type shapeOp struct {
	name  string             // e.g. "POST /wholesale/customers"
	query *jsonschema.Schema // the query parameters as one object
	// queryTypes is each parameter's JSON type, to read its text as that type.
	queryTypes map[string]paramType
	body       *jsonschema.Schema // nil: the operation takes no body
	rules      []bodyRule
}

// paramType is how a query parameter's text is read.
type paramType struct {
	typ  string // string, number, integer, boolean or array
	item string // an array's item type
}

// shapeChecker holds the operations by route key (method and Sim path pattern).
type shapeChecker struct {
	ops map[string]*shapeOp
}

// routeKey is the key of a route: "GET /v1/people/{}".
func routeKey(method string, pattern []string) string {
	return method + " /" + strings.Join(pattern, "/")
}

var pathParam = regexp.MustCompile(`\{[^/}]+\}`)

// newShapeChecker compiles the embedded operations.
func newShapeChecker() (*shapeChecker, error) {
	var doc struct {
		Operations []specOperation `json:"operations"`
	}
	if err := json.Unmarshal(operationsJSON, &doc); err != nil {
		return nil, fmt.Errorf("decode spec/operations.json: %w", err)
	}
	c := &shapeChecker{ops: map[string]*shapeOp{}}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	type pending struct {
		op       *shapeOp
		queryURL string
		bodyURL  string
	}
	var todo []pending
	for i, o := range doc.Operations {
		name := o.Method + " " + o.Path
		op := &shapeOp{name: name, queryTypes: map[string]paramType{}, rules: proseRules(name)}
		var query struct {
			Properties map[string]struct {
				Type  string `json:"type"`
				Items struct {
					Type string `json:"type"`
				} `json:"items"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(o.Query, &query); err != nil {
			return nil, fmt.Errorf("%s: query: %w", name, err)
		}
		for p, s := range query.Properties {
			op.queryTypes[p] = paramType{typ: s.Type, item: s.Items.Type}
		}
		p := pending{op: op, queryURL: fmt.Sprintf("mem:///op/%d/query.json", i)}
		if err := addResource(compiler, p.queryURL, o.Query); err != nil {
			return nil, fmt.Errorf("%s: query: %w", name, err)
		}
		if len(o.Body) > 0 && string(o.Body) != "null" {
			p.bodyURL = fmt.Sprintf("mem:///op/%d/body.json", i)
			if err := addResource(compiler, p.bodyURL, o.Body); err != nil {
				return nil, fmt.Errorf("%s: body: %w", name, err)
			}
		}
		todo = append(todo, p)
		segs := strings.Split(strings.Trim("/v1"+pathParam.ReplaceAllString(o.Path, "{}"), "/"), "/")
		c.ops[routeKey(o.Method, segs)] = op
	}
	for _, p := range todo {
		var err error
		if p.op.query, err = compiler.Compile(p.queryURL); err != nil {
			return nil, fmt.Errorf("%s: compile the query schema: %w", p.op.name, err)
		}
		if p.bodyURL != "" {
			if p.op.body, err = compiler.Compile(p.bodyURL); err != nil {
				return nil, fmt.Errorf("%s: compile the body schema: %w", p.op.name, err)
			}
		}
	}
	return c, nil
}

func addResource(c *jsonschema.Compiler, url string, raw json.RawMessage) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return c.AddResource(url, doc)
}

// check returns the operation a request is for ("" when the spec has none) and what is wrong
// with its shape.
func (c *shapeChecker) check(key string, q *request) (string, []string) {
	op := c.ops[key]
	if op == nil {
		return "", nil
	}
	var probs []string
	if err := op.query.Validate(op.queryInstance(q.query)); err != nil {
		probs = append(probs, describe(err, "query parameter ")...)
	}
	if op.body != nil {
		body, err := bodyInstance(q)
		if err != nil {
			return op.name, []string{err.Error()}
		}
		if err := op.body.Validate(body); err != nil {
			probs = append(probs, describe(err, "")...)
		}
		if obj, ok := body.(map[string]any); ok {
			for _, rule := range op.rules {
				probs = append(probs, rule(obj)...)
			}
		}
	}
	slices.Sort(probs)
	return op.name, slices.Compact(probs)
}

// queryInstance reads the query as a JSON object of the operation's parameters, each value
// read as its parameter's type; a value that does not read as its type stays a string, for
// the schema to refuse. Parameters the operation does not have are left out: Webex ignores
// them (UNCONFIRMED; its own next-page links carry a cursor no spec lists).
func (op *shapeOp) queryInstance(query url.Values) map[string]any {
	out := map[string]any{}
	for name, values := range query {
		t, ok := op.queryTypes[name]
		if !ok || len(values) == 0 {
			continue
		}
		if t.typ == "array" {
			var items []any
			for _, v := range values {
				for part := range strings.SplitSeq(v, ",") {
					items = append(items, typedValue(t.item, part))
				}
			}
			out[name] = items
			continue
		}
		out[name] = typedValue(t.typ, values[0])
	}
	return out
}

// typedValue reads a query parameter's text as typ.
func typedValue(typ, v string) any {
	switch typ {
	case "number", "integer":
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return json.Number(v)
		}
	case "boolean":
		switch v {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return v
}

// bodyInstance decodes a request body for its schema: JSON, or for POST /v1/messages a form
// (urlencoded or multipart), read as an object of strings with files as an array.
func bodyInstance(q *request) (any, error) {
	form, _, isForm, err := readForm(q)
	if err != nil {
		return nil, err
	}
	if !isForm {
		if len(bytes.TrimSpace(q.body)) == 0 {
			return nil, errors.New("The request body is empty.")
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(q.body))
		if err != nil {
			return nil, fmt.Errorf("The request body is not valid JSON: %v", err)
		}
		return v, nil
	}
	obj := map[string]any{}
	for k, vs := range form {
		if k == "files" {
			files := make([]any, len(vs))
			for i, f := range vs {
				files[i] = f
			}
			obj[k] = files
			continue
		}
		obj[k] = vs[0]
	}
	return obj, nil
}

// describe turns a schema validation error into one description per problem.
func describe(err error, prefix string) []string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []string{err.Error()}
	}
	var out []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		out = append(out, describeLeaf(e, prefix)...)
	}
	walk(ve)
	return out
}

// field names a place in the instance: "customerInfo.name", "packages[1]".
func field(loc []string, more ...string) string {
	var b strings.Builder
	for _, tok := range append(slices.Clone(loc), more...) {
		if _, err := strconv.Atoi(tok); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func describeLeaf(e *jsonschema.ValidationError, prefix string) []string {
	at := field(e.InstanceLocation)
	what := prefix + at
	if at == "" {
		what = "the request body"
		if prefix != "" {
			what = "the query"
		}
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		out := make([]string, len(k.Missing))
		for i, m := range k.Missing {
			out[i] = prefix + field(e.InstanceLocation, m) + " is required."
		}
		return out
	case *kind.AdditionalProperties:
		out := make([]string, len(k.Properties))
		for i, p := range k.Properties {
			out[i] = fmt.Sprintf("%s is not a field of this request.", prefix+field(e.InstanceLocation, p))
		}
		return out
	case *kind.Type:
		return []string{fmt.Sprintf("%s must be %s, not %s.", what, withArticle(strings.Join(k.Want, " or ")), withArticle(k.Got))}
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return []string{fmt.Sprintf("%s: %v is not one of %s.", what, quoteValue(k.Got), strings.Join(want, ", "))}
	}
	return []string{fmt.Sprintf("%s does not conform to the schema's %s.", what, strings.Join(e.ErrorKind.KeywordPath(), "/"))}
}

func withArticle(t string) string {
	switch {
	case t == "":
		return t
	case strings.ContainsRune("aeiou", rune(t[0])):
		return "an " + t
	default:
		return "a " + t
	}
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// shapeRefusal returns the 400 for a request whose shape is wrong.
func shapeRefusal(probs []string) reply {
	details := make([]ErrorDetail, len(probs))
	for i, p := range probs {
		details[i] = ErrorDetail{Description: p}
	}
	return errReply(&apiError{status: http.StatusBadRequest, message: probs[0], details: details})
}

// ShapeRefusal is a request the Sim refused because its query or body does not conform to the
// operation's schema or to a rule the spec states in prose.
type ShapeRefusal struct {
	Method     string
	Path       string
	Operation  string // the spec's method and path template, e.g. "POST /wholesale/customers"
	Problems   []string
	Body       []byte
	TrackingID string
}

// ShapeRefusals returns every request refused for its shape so far, oldest first.
func (s *Sim) ShapeRefusals() []ShapeRefusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ShapeRefusal, len(s.shapeRefusals))
	for i, r := range s.shapeRefusals {
		r.Problems = slices.Clone(r.Problems)
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// checkShapeLocked checks a routed request's shape and records a refusal.
func (s *Sim) checkShapeLocked(rt route, q *request) (reply, bool) {
	name, probs := s.shape.check(rt.key, q)
	if len(probs) == 0 {
		return reply{}, true
	}
	s.shapeRefusals = append(s.shapeRefusals, ShapeRefusal{
		Method: q.method, Path: q.path, Operation: name, Problems: probs,
		Body: bytes.Clone(q.body), TrackingID: q.trackingID,
	})
	return shapeRefusal(probs), false
}
