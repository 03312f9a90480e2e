package apptest

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"

	"attachbot/webex/webextest"
)

// The tests read and press cards the way a Webex client does: a Submit action sends its data
// merged with the values of the card's inputs (their defaults, unless the person changed
// them), and no inputs when the action says associatedInputs "none".

// CardElement is the part of an Adaptive Card, or of one of its elements or actions, that the
// tests read.
type CardElement struct {
	Type             string         `json:"type"`
	ID               string         `json:"id"`
	Title            string         `json:"title"`
	Text             string         `json:"text"`
	Value            any            `json:"value"`
	Data             map[string]any `json:"data"`
	AssociatedInputs string         `json:"associatedInputs"`
	Body             []CardElement  `json:"body"`
	Items            []CardElement  `json:"items"`
	Columns          []CardElement  `json:"columns"`
	// Facts are a FactSet's facts (title and value); Walk does not visit them, they are
	// not elements.
	Facts   []CardElement `json:"facts"`
	Actions []CardElement `json:"actions"`
	Card    *CardElement  `json:"card"`
}

// Walk calls fn on e and everything inside it, in document order (a ShowCard's card after
// its button).
func (e CardElement) Walk(fn func(CardElement)) {
	fn(e)
	for _, list := range [][]CardElement{e.Body, e.Items, e.Columns, e.Actions} {
		for _, c := range list {
			c.Walk(fn)
		}
	}
	if e.Card != nil {
		e.Card.Walk(fn)
	}
}

// DecodeCard decodes an Adaptive Card.
func DecodeCard(t testing.TB, content []byte) CardElement {
	t.Helper()
	var card CardElement
	if err := json.Unmarshal(content, &card); err != nil {
		t.Fatalf("decode the card: %v\n%s", err, content)
	}
	return card
}

// ParseCard returns the Adaptive Card of a message, which must have exactly one.
func ParseCard(t testing.TB, m webextest.Message) CardElement {
	t.Helper()
	if len(m.Attachments) != 1 {
		t.Fatalf("message %s has %d attachments, want one card; markdown:\n%s", m.ID, len(m.Attachments), m.Markdown)
	}
	return DecodeCard(t, m.Attachments[0].Content)
}

// CardButtons returns the titles of a card's Submit actions.
func CardButtons(t testing.TB, m webextest.Message) []string {
	t.Helper()
	var titles []string
	ParseCard(t, m).Walk(func(e CardElement) {
		if e.Type == "Action.Submit" {
			titles = append(titles, e.Title)
		}
	})
	return titles
}

// SubmitData returns the data of the Submit action titled title in a message's cards, or nil
// when it has no such button (or no card).
func SubmitData(t testing.TB, m webextest.Message, title string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, a := range m.Attachments {
		DecodeCard(t, a.Content).Walk(func(e CardElement) {
			if found == nil && e.Type == "Action.Submit" && e.Title == title {
				found = e.Data
				if found == nil {
					found = map[string]any{}
				}
			}
		})
	}
	return found
}

// Press submits a card message as a person, as a Webex client would after they typed inputs
// and pressed the Submit button titled title, and waits for the bot to finish with it.
func (h *Harness) Press(personID string, m webextest.Message, title string, typed map[string]any) {
	h.T.Helper()
	h.Click(personID, m.ID, h.Submission(m, title, typed))
}

// Submission is what a Webex client sends for a press on the button titled title.
func (h *Harness) Submission(m webextest.Message, title string, typed map[string]any) map[string]any {
	h.T.Helper()
	card := ParseCard(h.T, m)
	defaults := map[string]any{}
	var button *CardElement
	card.Walk(func(e CardElement) {
		switch {
		case strings.HasPrefix(e.Type, "Input.") && e.ID != "":
			defaults[e.ID] = InputValue(e.Value)
		case e.Type == "Action.Submit" && e.Title == title && button == nil:
			button = &e
		}
	})
	if button == nil {
		h.T.Fatalf("message %s has no button %q; it has %q", m.ID, title, CardButtons(h.T, m))
	}
	for id := range typed {
		if _, ok := defaults[id]; !ok {
			h.T.Fatalf("message %s has no input %q", m.ID, id)
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

// InputValue is an input's value as a Webex client sends it: a string.
func InputValue(v any) string {
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

// RequestIDIn returns the first request id in a message.
func RequestIDIn(t testing.TB, m webextest.Message) string {
	t.Helper()
	match := requestIDRE.FindStringSubmatch(m.Markdown)
	if match == nil {
		t.Fatalf("no request id in:\n%s", m.Markdown)
	}
	return match[1]
}
