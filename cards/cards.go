// Package cards builds the Adaptive Cards attachbot sends: the steps of the attach wizard,
// the approval card and the Full Admin request to a customer admin, and the partner's
// provisioned card. It implements bot.Cards with pure functions: a card depends only on its
// view, and building one does no I/O.
//
// Every card is an Adaptive Card 1.3, the version Webex supports, built from a few typed
// structs for the elements it uses (TextBlock, FactSet, Container, ActionSet, Input.Text,
// Input.Toggle, Input.ChoiceSet, Action.Submit, Action.ShowCard, Action.OpenUrl). The
// buttons' Submit data and the inputs' ids are the ones bot declares. The golden files in
// testdata are checked against the official 1.3 schema by the tests, and with the official
// parser by tools/cardcheck.
package cards

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"attachbot/bot"
)

// Builder builds the cards. It has no state; the zero value is ready to use.
type Builder struct{}

// New returns a Builder.
func New() *Builder { return &Builder{} }

var _ bot.Cards = (*Builder)(nil)

const (
	cardVersion = "1.3"
	cardSchema  = "http://adaptivecards.io/schemas/adaptive-card.json"

	controlHubURL = "https://admin.webex.com"
)

// render returns the JSON of a top-level card.
func render(c adaptiveCard) (json.RawMessage, error) {
	c.Version, c.Schema = cardVersion, cardSchema
	b, err := encode(c)
	if err != nil {
		return nil, fmt.Errorf("encode card: %w", err)
	}
	return b, nil
}

// title is a card's heading.
func title(text string) textBlock {
	return textBlock{Text: text, Size: "medium", Weight: "bolder", Wrap: true}
}

// section starts a part of a card: a bold line under a separator.
func section(text string) textBlock {
	return textBlock{Text: text, Weight: "bolder", Wrap: true, Spacing: "medium", Separator: true}
}

// para is a paragraph.
func para(text string) textBlock {
	return textBlock{Text: text, Wrap: true}
}

// note is a paragraph in subtle text, close to what it explains.
func note(text string) textBlock {
	return textBlock{Text: text, IsSubtle: true, Wrap: true, Spacing: "small"}
}

// colored is a bold paragraph in a color: good, warning or attention.
func colored(color, text string) textBlock {
	return textBlock{Text: text, Color: color, Weight: "bolder", Wrap: true}
}

// bullets lists items, one TextBlock each: a "•" renders the same in every Webex client,
// where markdown lists may not.
func bullets(items []string) []element {
	out := make([]element, len(items))
	for i, item := range items {
		out[i] = textBlock{Text: "• " + item, Wrap: true, Spacing: "small"}
	}
	return out
}

// facts is a FactSet of the pairs whose value is not empty, or nil when none is.
func facts(pairs ...fact) []element {
	var fs []fact
	for _, f := range pairs {
		if f.Value != "" {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return []element{factSet{Facts: fs}}
}

// problems shows what was wrong with a submission, at the top of a card.
func problems(list []string) []element {
	if len(list) == 0 {
		return nil
	}
	items := []element{colored("attention", "Please correct the following:")}
	for _, p := range list {
		items = append(items, textBlock{Text: "• " + p, Color: "attention", Wrap: true, Spacing: "small"})
	}
	return []element{container{Items: items, Spacing: "medium"}}
}

// submit is an Action.Submit whose data is the given field and value pairs.
func submit(title, style string, data bot.Submit) actionSubmit {
	return actionSubmit{Title: title, Style: style, Data: data}
}

// packageLabels names packages as people know them, in the given order; a name no package
// has is shown as it is.
func packageLabels(names []string, known []bot.PackageInfo) []string {
	labels := make([]string, len(names))
	for i, name := range names {
		labels[i] = name
		if j := slices.IndexFunc(known, func(p bot.PackageInfo) bool { return p.Name == name }); j >= 0 && known[j].Label != "" {
			labels[i] = known[j].Label
		}
	}
	return labels
}

// formatAddress writes an address on one line: street, street 2, ZIP and city, state,
// country.
func formatAddress(a bot.Address) string {
	var parts []string
	for _, p := range []string{a.Line1, a.Line2, strings.TrimSpace(a.Zip + " " + a.City), a.State, a.Country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// triText is a fact's value for people.
func triText(t bot.Tri) string {
	switch t {
	case bot.Yes:
		return "Yes"
	case bot.No:
		return "No"
	}
	return "Unknown"
}

// joinAnd joins items as "a, b and c".
func joinAnd(items []string, and string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + and + " " + items[len(items)-1]
}

// orgName is the organization's name when known, else the customer name the partner gave.
func orgName(known string, spec bot.AttachSpec) string {
	if known != "" {
		return known
	}
	return spec.CustomerName
}
