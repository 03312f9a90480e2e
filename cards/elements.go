package cards

import (
	"bytes"
	"encoding/json"
	"fmt"

	"attachbot/bot"
)

// The subset of Adaptive Cards 1.3 the cards use, as typed structs. Each type writes its own
// "type" property in MarshalJSON, so the builders never spell it out. Only what the cards
// use is modelled; the schema test in cards_test.go rejects anything Webex's 1.3 would not
// know.

// element is an item of a card's body or of a container.
type element interface {
	json.Marshaler
	isElement()
}

// action is a button.
type action interface {
	json.Marshaler
	isAction()
}

// adaptiveCard is a card. Version and Schema are set on the top-level card only; the card of
// an Action.ShowCard leaves them empty.
type adaptiveCard struct {
	Version string    `json:"version,omitempty"`
	Schema  string    `json:"$schema,omitempty"`
	Body    []element `json:"body,omitempty"`
	Actions []action  `json:"actions,omitempty"`
}

// textBlock is a TextBlock. The cards use no markdown, and Webex renders a TextBlock's text
// (and a Fact's title and value) as markdown: every text is written through bot.Literal, so
// that what came from people or Webex (an organization's name, a comment, an error) is
// shown as it is, never as a link, a mention or emphasis.
type textBlock struct {
	Text      string `json:"text"`
	Size      string `json:"size,omitempty"`   // small, medium, large
	Weight    string `json:"weight,omitempty"` // bolder
	Color     string `json:"color,omitempty"`  // good, warning, attention
	IsSubtle  bool   `json:"isSubtle,omitempty"`
	Wrap      bool   `json:"wrap,omitempty"`
	Spacing   string `json:"spacing,omitempty"`
	Separator bool   `json:"separator,omitempty"`
}

// factSet is a FactSet: name and value pairs.
type factSet struct {
	Facts   []fact `json:"facts"`
	Spacing string `json:"spacing,omitempty"`
}

// fact is one line of a FactSet.
type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// container groups elements.
type container struct {
	Items     []element `json:"items"`
	Style     string    `json:"style,omitempty"` // emphasis, good, attention, warning, accent
	Spacing   string    `json:"spacing,omitempty"`
	Separator bool      `json:"separator,omitempty"`
}

// actionSet shows buttons inside the body (Adaptive Cards 1.2).
type actionSet struct {
	Actions []action `json:"actions"`
	Spacing string   `json:"spacing,omitempty"`
}

// inputText is an Input.Text.
type inputText struct {
	ID           string `json:"id"`
	Label        string `json:"label,omitempty"`
	Placeholder  string `json:"placeholder,omitempty"`
	Value        string `json:"value,omitempty"`
	Style        string `json:"style,omitempty"` // text, email, tel, url
	IsMultiline  bool   `json:"isMultiline,omitempty"`
	MaxLength    int    `json:"maxLength,omitempty"`
	Regex        string `json:"regex,omitempty"`
	IsRequired   bool   `json:"isRequired,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Spacing      string `json:"spacing,omitempty"`
}

// inputToggle is an Input.Toggle: a check box with a title.
type inputToggle struct {
	ID           string `json:"id"`
	Label        string `json:"label,omitempty"`
	Title        string `json:"title"`
	Value        string `json:"value,omitempty"`
	ValueOn      string `json:"valueOn,omitempty"`
	ValueOff     string `json:"valueOff,omitempty"`
	Wrap         bool   `json:"wrap,omitempty"`
	IsRequired   bool   `json:"isRequired,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	Spacing      string `json:"spacing,omitempty"`
}

// inputChoiceSet is an Input.ChoiceSet. A multi-select one takes and returns a comma list.
type inputChoiceSet struct {
	ID            string   `json:"id"`
	Label         string   `json:"label,omitempty"`
	Choices       []choice `json:"choices"`
	Style         string   `json:"style,omitempty"` // compact (a drop-down) or expanded
	IsMultiSelect bool     `json:"isMultiSelect,omitempty"`
	Value         string   `json:"value,omitempty"`
	Placeholder   string   `json:"placeholder,omitempty"`
	Wrap          bool     `json:"wrap,omitempty"`
	IsRequired    bool     `json:"isRequired,omitempty"`
	ErrorMessage  string   `json:"errorMessage,omitempty"`
	Spacing       string   `json:"spacing,omitempty"`
}

// choice is one option of a ChoiceSet. The official parser rejects an empty value.
type choice struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// actionSubmit is an Action.Submit. Webex merges Data with the card's inputs.
// AssociatedInputs "none" (Adaptive Cards 1.3) submits no inputs, so required inputs do not
// block the button.
type actionSubmit struct {
	Title            string            `json:"title"`
	Style            string            `json:"style,omitempty"` // positive, destructive
	Data             map[string]string `json:"data,omitempty"`
	AssociatedInputs string            `json:"associatedInputs,omitempty"`
}

// actionShowCard is an Action.ShowCard: it unfolds a card below the button.
type actionShowCard struct {
	Title string       `json:"title"`
	Card  adaptiveCard `json:"card"`
}

// actionOpenURL is an Action.OpenUrl.
type actionOpenURL struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

func (c adaptiveCard) MarshalJSON() ([]byte, error) {
	type plain adaptiveCard
	return typed("AdaptiveCard", plain(c))
}

func (t textBlock) MarshalJSON() ([]byte, error) {
	type plain textBlock
	t.Text = bot.Literal(t.Text)
	return typed("TextBlock", plain(t))
}

func (f fact) MarshalJSON() ([]byte, error) {
	type plain fact
	f.Title, f.Value = bot.Literal(f.Title), bot.Literal(f.Value)
	return encode(plain(f))
}

func (f factSet) MarshalJSON() ([]byte, error) {
	type plain factSet
	return typed("FactSet", plain(f))
}

func (c container) MarshalJSON() ([]byte, error) {
	type plain container
	return typed("Container", plain(c))
}

func (a actionSet) MarshalJSON() ([]byte, error) {
	type plain actionSet
	return typed("ActionSet", plain(a))
}

func (in inputText) MarshalJSON() ([]byte, error) {
	type plain inputText
	return typed("Input.Text", plain(in))
}

func (in inputToggle) MarshalJSON() ([]byte, error) {
	type plain inputToggle
	return typed("Input.Toggle", plain(in))
}

func (in inputChoiceSet) MarshalJSON() ([]byte, error) {
	type plain inputChoiceSet
	return typed("Input.ChoiceSet", plain(in))
}

func (a actionSubmit) MarshalJSON() ([]byte, error) {
	type plain actionSubmit
	return typed("Action.Submit", plain(a))
}

func (a actionShowCard) MarshalJSON() ([]byte, error) {
	type plain actionShowCard
	return typed("Action.ShowCard", plain(a))
}

func (a actionOpenURL) MarshalJSON() ([]byte, error) {
	type plain actionOpenURL
	return typed("Action.OpenUrl", plain(a))
}

func (textBlock) isElement()      {}
func (factSet) isElement()        {}
func (container) isElement()      {}
func (actionSet) isElement()      {}
func (inputText) isElement()      {}
func (inputToggle) isElement()    {}
func (inputChoiceSet) isElement() {}

func (actionSubmit) isAction()   {}
func (actionShowCard) isAction() {}
func (actionOpenURL) isAction()  {}

// typed encodes v, a struct, as a JSON object whose first property is "type": typ.
func typed(typ string, v any) ([]byte, error) {
	b, err := encode(v)
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[0] != '{' {
		return nil, fmt.Errorf("cards: %s did not encode as a JSON object", typ)
	}
	head := `{"type":"` + typ + `"`
	if len(b) == 2 { // {}
		return []byte(head + "}"), nil
	}
	return append([]byte(head+","), b[1:]...), nil
}

// encode is json.Marshal without HTML escaping: cards say "Control Hub > Account", and
// Webex reads the JSON, not a browser.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
