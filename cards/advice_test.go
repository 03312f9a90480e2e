package cards_test

import (
	"encoding/json"
	"regexp"
	"testing"

	"attachbot/cards"
)

// commandAdvice matches text that tells a person to type a command: a card is clicked, not
// typed into, and its buttons say what it does.
var commandAdvice = regexp.MustCompile(`(?i:\btyp(e|ing)\b)|\b(retry|status|cancel|remind)\s+[A-Z0-9]{6}\b|` + "`")

// TestNoCardGivesCommandLineAdvice checks every card of the golden files: no text of a card
// advises typing a command.
func TestNoCardGivesCommandLineAdvice(t *testing.T) {
	for _, tc := range cardCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := tc.build(cards.New())
			if err != nil {
				t.Fatal(err)
			}
			var card map[string]any
			if err := json.Unmarshal(raw, &card); err != nil {
				t.Fatal(err)
			}
			for _, o := range objects(card) {
				for _, key := range []string{"text", "title", "value", "placeholder", "label"} {
					if s, ok := o[key].(string); ok && commandAdvice.MatchString(s) {
						t.Errorf("the card's %s gives command-line advice: %q", key, s)
					}
				}
			}
		})
	}
}
