package cards_test

import (
	"encoding/json"
	"testing"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/cards"
)

// TestCardsShowUntrustedTextLiterally builds every card whose text comes from people or
// Webex with an attack in each such field (the organization's name, the company name, an
// error description, a precheck message, a role), and checks that no TextBlock or Fact of
// the card leaves a mention, a link, emphasis or HTML live.
func TestCardsShowUntrustedTextLiterally(t *testing.T) {
	attacked := sampleRequest()
	attacked.Spec.CustomerName = bottest.Attack
	attacked.OrgName = bottest.Attack
	attacked.Errors = []bot.ErrorDetail{{Code: 1, Description: bottest.Attack}}
	attacked.Packages = []bot.PackageStatus{{Name: "webex_calling", Status: "error", Errors: []bot.ErrorDetail{{Description: bottest.Attack}}}}
	report := bot.Report{
		OrgID: attacked.Spec.OrgID, OrgName: bottest.Attack, Facts: attacked.Facts, Assessment: attacked.Assessment,
		Precheck: &bot.Precheck{Message: bottest.Attack, Info: []bot.PrecheckInfo{{Code: 2, Description: bottest.Attack}}},
	}
	c := cards.New()
	tests := []struct {
		name  string
		build func() (json.RawMessage, error)
	}{
		{"approval", func() (json.RawMessage, error) {
			return c.Approval(bot.ApprovalView{Request: attacked, PartnerName: bottest.Attack, OrgName: bottest.Attack})
		}},
		{"full admin request", func() (json.RawMessage, error) {
			return c.FullAdminRequest(bot.ApprovalView{Request: attacked, PartnerName: bottest.Attack, OrgName: bottest.Attack})
		}},
		{"provisioned", func() (json.RawMessage, error) {
			return c.Provisioned(bot.ProvisionedView{Request: attacked, Role: bottest.Attack})
		}},
		{"batch", func() (json.RawMessage, error) {
			return c.Batch(bot.BatchView{Batch: bot.Batch{ID: "B-K7QM2X", FileName: bottest.Attack, FileRows: 2, Automatic: 1, Refused: 1}})
		}},
		{"wizard company step", func() (json.RawMessage, error) {
			return c.Wizard(bot.WizardView{Step: bot.StepCompany, Spec: attacked.Spec, OrgName: bottest.Attack, Problems: []string{bottest.Attack}})
		}},
		{"wizard review", func() (json.RawMessage, error) {
			return c.Wizard(bot.WizardView{Step: bot.StepReview, Spec: attacked.Spec, OrgName: bottest.Attack, Packages: bot.Packages(), Report: &report})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			var card map[string]any
			if err := json.Unmarshal(raw, &card); err != nil {
				t.Fatal(err)
			}
			shown := 0
			for _, o := range objects(card) {
				var texts []string
				switch {
				case o["type"] == "TextBlock":
					texts = append(texts, o["text"].(string))
				case o["title"] != nil && o["value"] != nil && o["type"] == nil: // a Fact
					texts = append(texts, o["title"].(string), o["value"].(string))
				}
				for _, text := range texts {
					if bottest.Contains(text, "<@all>") || bottest.Contains(text, `\<`) {
						shown++
					}
					if live := bottest.LiveMarkup(text); len(live) > 0 {
						t.Errorf("%q leaves %v live", text, live)
					}
				}
			}
			if shown == 0 {
				t.Errorf("the card does not show the attack at all, so the test proves nothing:\n%s", raw)
			}
		})
	}
}
