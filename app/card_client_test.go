package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"

	"attachbot/webex/webextest"
)

// The end-to-end tests press card buttons the way a Webex client does: the Submit action's
// data merged with the values of the card's inputs (their defaults, unless the person
// changed them), and no inputs when the action says associatedInputs "none".

// cardElement is the part of an Adaptive Card element or action the tests read.
type cardElement struct {
	Type             string         `json:"type"`
	ID               string         `json:"id"`
	Title            string         `json:"title"`
	Value            any            `json:"value"`
	Data             map[string]any `json:"data"`
	AssociatedInputs string         `json:"associatedInputs"`
	Body             []cardElement  `json:"body"`
	Items            []cardElement  `json:"items"`
	Columns          []cardElement  `json:"columns"`
	Actions          []cardElement  `json:"actions"`
	Card             *cardElement   `json:"card"`
}

// walk calls fn on e and everything inside it.
func (e cardElement) walk(fn func(cardElement)) {
	fn(e)
	for _, list := range [][]cardElement{e.Body, e.Items, e.Columns, e.Actions} {
		for _, c := range list {
			c.walk(fn)
		}
	}
	if e.Card != nil {
		e.Card.walk(fn)
	}
}

// parseCard returns the Adaptive Card of a message.
func parseCard(t *testing.T, m webextest.Message) cardElement {
	t.Helper()
	if len(m.Attachments) != 1 {
		t.Fatalf("message %s has %d attachments, want one card; markdown:\n%s", m.ID, len(m.Attachments), m.Markdown)
	}
	var card cardElement
	if err := json.Unmarshal(m.Attachments[0].Content, &card); err != nil {
		t.Fatalf("message %s: card: %v", m.ID, err)
	}
	return card
}

// cardButtons returns the titles of a card's Submit actions.
func cardButtons(t *testing.T, m webextest.Message) []string {
	t.Helper()
	var titles []string
	parseCard(t, m).walk(func(e cardElement) {
		if e.Type == "Action.Submit" {
			titles = append(titles, e.Title)
		}
	})
	return titles
}

// press submits a card message as a person, as a Webex client would after they typed inputs
// and pressed the Submit button titled title.
func (h *harness) press(personID string, m webextest.Message, title string, typed map[string]any) {
	h.t.Helper()
	h.click(personID, m.ID, h.submission(m, title, typed))
}

// submission is what a Webex client sends for a press on the button titled title.
func (h *harness) submission(m webextest.Message, title string, typed map[string]any) map[string]any {
	h.t.Helper()
	card := parseCard(h.t, m)
	defaults := map[string]any{}
	var button *cardElement
	card.walk(func(e cardElement) {
		switch {
		case strings.HasPrefix(e.Type, "Input.") && e.ID != "":
			defaults[e.ID] = inputValue(e.Value)
		case e.Type == "Action.Submit" && e.Title == title && button == nil:
			button = &e
		}
	})
	if button == nil {
		h.t.Fatalf("message %s has no button %q; it has %q", m.ID, title, cardButtons(h.t, m))
	}
	for id := range typed {
		if _, ok := defaults[id]; !ok {
			h.t.Fatalf("message %s has no input %q", m.ID, id)
		}
	}
	inputs := map[string]any{}
	if button.AssociatedInputs != "none" {
		maps.Copy(inputs, defaults)
		maps.Copy(inputs, typed)
	}
	maps.Copy(inputs, button.Data)
	return inputs
}

// inputValue is an input's value as a Webex client sends it: a string.
func inputValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// requestIDRE finds a request id in the bot's replies: six characters in bold.
var requestIDRE = regexp.MustCompile(`\*\*([A-HJ-NP-TV-Z2-9]{6})\*\*`)

// requestIDIn returns the first request id in a message.
func requestIDIn(t *testing.T, m webextest.Message) string {
	t.Helper()
	match := requestIDRE.FindStringSubmatch(m.Markdown)
	if match == nil {
		t.Fatalf("no request id in:\n%s", m.Markdown)
	}
	return match[1]
}
