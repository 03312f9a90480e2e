package sandbox

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
)

// The page's Adaptive Card renderer in headless Chromium: every golden card renders with
// the elements, inputs and actions the card has.

// goldenCards returns the cards of cards/testdata by name.
func goldenCards(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "cards", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	cards := map[string]json.RawMessage{}
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "schema") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cards[strings.TrimSuffix(filepath.Base(f), ".json")] = b
	}
	if len(cards) == 0 {
		t.Fatal("no golden cards in cards/testdata")
	}
	return cards
}

// cardSummary is what the page's renderer reports of a card (attachbotCards.inspect).
type cardSummary struct {
	Types       []string `json:"types"`
	Unsupported []string `json:"unsupported"`
	Inputs      []string `json:"inputs"`
	Actions     []string `json:"actions"`
}

// summarize walks a card's JSON as the renderer should: the element and action types, the
// input ids and the action titles, in document order (a ShowCard's card after its button).
func summarize(t *testing.T, card json.RawMessage) cardSummary {
	t.Helper()
	s := cardSummary{Unsupported: []string{}, Inputs: []string{}, Actions: []string{}}
	types := map[string]bool{}
	apptest.DecodeCard(t, card).Walk(func(e apptest.CardElement) {
		switch {
		case e.Type == "AdaptiveCard": // the card itself, or a ShowCard's
			return
		case strings.HasPrefix(e.Type, "Input."):
			s.Inputs = append(s.Inputs, e.ID)
		case strings.HasPrefix(e.Type, "Action."):
			s.Actions = append(s.Actions, e.Title)
		}
		types[e.Type] = true
	})
	for typ := range types {
		s.Types = append(s.Types, typ)
	}
	sort.Strings(s.Types)
	return s
}

// everyElementCard uses every element and action the renderer supports.
const everyElementCard = `{
  "type": "AdaptiveCard", "version": "1.3",
  "body": [
    {"type": "TextBlock", "text": "**Every** element", "size": "large", "weight": "bolder", "wrap": true},
    {"type": "RichTextBlock", "inlines": ["plain ", {"type": "TextRun", "text": "bold", "weight": "bolder"}, {"type": "TextRun", "text": " struck", "strikethrough": true}]},
    {"type": "FactSet", "facts": [{"title": "Fact", "value": "value"}]},
    {"type": "ColumnSet", "columns": [
      {"type": "Column", "width": "auto", "items": [{"type": "Image", "url": "data:image/gif;base64,R0lGODlhAQABAAAAACw=", "altText": "dot", "size": "small", "style": "person"}]},
      {"type": "Column", "width": "stretch", "items": [{"type": "Container", "style": "emphasis", "items": [{"type": "TextBlock", "text": "in a container", "wrap": true}]}]}
    ]},
    {"type": "TextBlock", "id": "secret", "text": "now you see me", "isVisible": false},
    {"type": "Input.Text", "id": "name", "label": "Name", "isRequired": true, "errorMessage": "Enter a name."},
    {"type": "Input.Number", "id": "count", "label": "Count", "min": 1, "max": 10, "isRequired": true},
    {"type": "Input.Date", "id": "when", "label": "When", "value": "2026-11-24"},
    {"type": "Input.Toggle", "id": "agree", "title": "I agree", "valueOn": "yes", "valueOff": "no"},
    {"type": "Input.ChoiceSet", "id": "colors", "isMultiSelect": true, "style": "expanded", "choices": [{"title": "Red", "value": "red"}, {"title": "Blue", "value": "blue"}]},
    {"type": "Input.ChoiceSet", "id": "size", "style": "compact", "value": "m", "choices": [{"title": "Small", "value": "s"}, {"title": "Medium", "value": "m"}]},
    {"type": "ActionSet", "actions": [{"type": "Action.ToggleVisibility", "title": "Reveal", "targetElements": ["secret"]}]}
  ],
  "actions": [
    {"type": "Action.Submit", "title": "Send", "data": {"action": "send", "name": "overwritten by the input"}},
    {"type": "Action.ShowCard", "title": "More", "card": {"type": "AdaptiveCard", "body": [{"type": "Input.Text", "id": "note", "label": "Note"}], "actions": [{"type": "Action.Submit", "title": "Send note", "data": {"action": "note"}}]}},
    {"type": "Action.OpenUrl", "title": "Open", "url": "https://example.com/"}
  ]
}`

func TestCardRendererInBrowser(t *testing.T) {
	ctx := newBrowser(t, 50*time.Second)
	url := runSandbox(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "SANDBOX_DB": filepath.Join(t.TempDir(), "attachbot.db")})
	do(ctx, t, "open the page", chromedp.Navigate(url), chromedp.WaitReady(`#scenario-list`))

	t.Run("every golden card renders completely", func(t *testing.T) {
		cards := goldenCards(t)
		names := make([]string, 0, len(cards))
		for name := range cards {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			got := get(ctx, t, "inspect "+name, chromedp.Evaluate[cardSummary](`attachbotCards.inspect(`+string(cards[name])+`)`))
			if diff := cmp.Diff(summarize(t, cards[name]), got); diff != "" {
				t.Errorf("%s: the rendered card differs from its JSON (-json +rendered):\n%s", name, diff)
			}
		}
	})

	t.Run("markdown is escaped, and links and code keep their text", func(t *testing.T) {
		for _, tt := range []struct{ md, want string }{
			{`<img src=x onerror=alert(1)> **bold**`, `<p>&lt;img src=x onerror=alert(1)&gt; <strong>bold</strong></p>`},
			{`[the **docs**](https://example.com/a**b**c)`, `<p><a href="https://example.com/a**b**c" target="_blank" rel="noopener noreferrer">the <strong>docs</strong></a></p>`},
			{"`a *b* c` and *d*", `<p><code>a *b* c</code> and <em>d</em></p>`},
			{`[x](javascript:alert(1))`, `<p>[x](javascript:alert(1))</p>`},
			{"## Attach **K7QM2X** failed", `<h2>Attach <strong>K7QM2X</strong> failed</h2>`},
			{"# *one* `two`", `<h1><em>one</em> <code>two</code></h1>`},
		} {
			md, err := json.Marshal(tt.md)
			if err != nil {
				t.Fatal(err)
			}
			got := get(ctx, t, "render "+tt.md, chromedp.Evaluate[string](`attachbotMarkdown(`+string(md)+`)`))
			if got != tt.want {
				t.Errorf("markdown %q renders as\n%s\nwant\n%s", tt.md, got, tt.want)
			}
		}
	})

	t.Run("values outside the enums do not break the renderer", func(t *testing.T) {
		odd := `{"type": "AdaptiveCard", "version": "1.3", "body": [
			{"type": "TextBlock", "text": "odd", "size": "extra large", "weight": {"x": 1}, "color": "bad\u0000"},
			{"type": "Container", "style": "a b", "items": [{"type": "Image", "url": "https://example.com/x.png", "size": "very big"}]}]}`
		got := get(ctx, t, "inspect the odd card", chromedp.Evaluate[cardSummary](`attachbotCards.inspect(`+odd+`)`))
		if len(got.Unsupported) != 0 {
			t.Errorf("the odd card rendered with unsupported parts: %v", got.Unsupported)
		}
	})

	// Each case renders a card into the page, fills inputs, clicks a button, and reads what
	// was submitted and which inputs were marked.
	golden := goldenCards(t)
	tests := []struct {
		name   string
		card   string
		fill   map[string]string // input id → value typed
		tick   []string          // selectors (inside the card) clicked before the button
		button string
		want   []map[string]any  // the submissions
		errors map[string]string // input id → the message shown
	}{
		{
			name: "required inputs block the submit", card: string(golden["wizard-3-address"]), button: "Next",
			want: []map[string]any{},
			errors: map[string]string{
				"street":            "Enter the street address (at most 50 characters).",
				"city":              "Enter the city (at most 50 characters).",
				"locationConfirmed": "Webex for Wholesale can only be attached where Webex is supported: tick the box to confirm the customer is in a supported location.",
			},
		},
		{
			name: "the data is merged with the inputs that hold a value", card: string(golden["wizard-3-address"]), button: "Next",
			fill: map[string]string{"street": "Nørregade 12", "city": "København K", "zip": "1165"},
			tick: []string{`[data-input-id="locationConfirmed"] input`},
			want: []map[string]any{{
				"action": "wizard", "step": "3", "state": wizardState(t, golden["wizard-3-address"]),
				"street": "Nørregade 12", "city": "København K", "zip": "1165",
				"country": "DK", "locationConfirmed": "true",
			}},
			errors: map[string]string{},
		},
		{
			name: "associatedInputs none sends the data alone", card: string(golden["wizard-3-address"]), button: "Cancel",
			want:   []map[string]any{{"action": "wizard.cancel", "state": wizardState(t, golden["wizard-3-address"])}},
			errors: map[string]string{},
		},
		{
			name: "a regex mismatch is marked", card: string(golden["wizard-4-packages"]), button: "Next",
			fill: map[string]string{"timezone": "not a zone"},
			tick: []string{`input[data-choice-of="packages"][value="webex_meetings"]`},
			want: []map[string]any{},
			errors: map[string]string{
				"timezone": "Enter a time zone such as America/Los_Angeles or Europe/Copenhagen.",
			},
		},
		{
			name: "a multi-select is a comma list", card: string(golden["wizard-4-packages"]), button: "Next",
			tick: []string{`input[data-choice-of="packages"][value="webex_calling"]`, `input[data-choice-of="packages"][value="webex_meetings"]`},
			want: []map[string]any{{
				"action": "wizard", "step": "4", "state": wizardState(t, golden["wizard-4-packages"]),
				"packages": "webex_calling,webex_meetings",
				"users":    "unknown", "verifiedDomain": "unknown", "claimedDomain": "unknown", "trial": "unknown", "inactiveLicenses": "unknown",
			}},
			errors: map[string]string{},
		},
		{
			name: "every element, with a required number and a toggle", card: everyElementCard, button: "Send",
			fill: map[string]string{"name": "Ann", "count": "3"},
			tick: []string{`button[data-title="Reveal"]`, `input[data-choice-of="colors"][value="blue"]`, `[data-input-id="agree"] input`},
			want: []map[string]any{{
				"action": "send", "name": "Ann", "count": "3", "when": "2026-11-24", "agree": "yes", "colors": "blue", "size": "m",
			}},
			errors: map[string]string{},
		},
		{
			name: "a number out of range is marked", card: everyElementCard, button: "Send",
			fill:   map[string]string{"name": "Ann", "count": "11"},
			want:   []map[string]any{},
			errors: map[string]string{"count": "Enter a number of at most 10."},
		},
		{
			name: "a ShowCard's submit sends its inputs and its parent's", card: everyElementCard, button: "Send note",
			fill: map[string]string{"name": "Ann", "count": "1", "note": "hi"},
			tick: []string{`button[data-title="More"]`},
			want: []map[string]any{{
				"action": "note", "note": "hi", "name": "Ann", "count": "1", "when": "2026-11-24", "agree": "no", "size": "m",
			}},
			errors: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const host = `#card-under-test`
			actions := []chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`(() => {
				document.querySelector("#card-under-test")?.remove();
				const host = document.createElement("div");
				host.id = "card-under-test";
				host.style.cssText = "position:fixed;top:0;left:0;width:600px;max-height:100vh;overflow:auto;background:#fff;z-index:10";
				window.submitted = [];
				host.append(attachbotCards.render(` + tt.card + `, {onSubmit: d => { window.submitted.push(d); return Promise.resolve(); }}));
				document.body.append(host);
			})()`)}
			for _, sel := range tt.tick {
				if strings.HasPrefix(sel, "button") {
					actions = append(actions, chromedp.Click(host+" "+sel))
				}
			}
			if _, ok := tt.fill["note"]; ok {
				actions = append(actions, chromedp.WaitVisible(host+` [data-input-id="note"]`))
			}
			ids := make([]string, 0, len(tt.fill))
			for id := range tt.fill {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				actions = append(actions, chromedp.SendKeys(host+` [data-input-id="`+id+`"]`, tt.fill[id]))
			}
			for _, sel := range tt.tick {
				if !strings.HasPrefix(sel, "button") {
					actions = append(actions, chromedp.Click(host+" "+sel))
				}
			}
			actions = append(actions, chromedp.Click(host+` button.ac-action[data-title="`+tt.button+`"]`))
			do(ctx, t, "fill the card and click "+tt.button, actions...)
			submitted := get(ctx, t, "read the submissions", chromedp.Evaluate[[]map[string]any](`window.submitted`))
			shown := get(ctx, t, "read the marked inputs", chromedp.Evaluate[map[string]string](
				`Object.fromEntries(Array.from(document.querySelectorAll("#card-under-test .ac-input-error:not([hidden])")).map(e => [e.dataset.errorFor, e.textContent]))`))
			if diff := cmp.Diff(tt.want, submitted); diff != "" {
				t.Errorf("submitted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.errors, shown); diff != "" {
				t.Errorf("inputs marked (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("ToggleVisibility shows the hidden element", func(t *testing.T) {
		hiddenBefore := get(ctx, t, "render the card", chromedp.Evaluate[bool](`(() => {
				document.querySelector("#card-under-test")?.remove();
				const host = document.createElement("div");
				host.id = "card-under-test";
				host.style.cssText = "position:fixed;top:0;left:0;width:600px;background:#fff;z-index:10";
				host.append(attachbotCards.render(`+everyElementCard+`, {}));
				document.body.append(host);
				return host.querySelector('[data-ac-id="secret"]').hidden;
			})()`))
		do(ctx, t, "click Reveal", chromedp.Click(`#card-under-test button[data-title="Reveal"]`))
		hiddenAfter := get(ctx, t, "read the element", chromedp.Evaluate[bool](`document.querySelector('#card-under-test [data-ac-id="secret"]').hidden`))
		if !hiddenBefore || hiddenAfter {
			t.Errorf("hidden before and after Reveal = %v, %v; want true, false", hiddenBefore, hiddenAfter)
		}
	})
}

// wizardState returns the state a wizard card's Submit actions carry.
func wizardState(t *testing.T, card json.RawMessage) string {
	t.Helper()
	c := apptest.DecodeCard(t, card)
	if len(c.Actions) == 0 {
		t.Fatal("the wizard card has no actions")
	}
	state, _ := c.Actions[0].Data["state"].(string)
	return state
}
