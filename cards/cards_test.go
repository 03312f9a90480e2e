package cards_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"attachbot/bot"
	"attachbot/cards"
)

// maxCardBytes is a conservative bound on a card's JSON. Webex's limit is unconfirmed; 28 KB
// is Microsoft Teams', and the cards stay well below it.
const maxCardBytes = 28 * 1024

// maxButtons is the most buttons a card shows: an older Webex guide says "up to five", the
// current limit is unconfirmed.
const maxButtons = 5

// dataFields are the Submit data fields; Webex merges data with the inputs, so no input may
// use these ids.
var dataFields = []string{bot.FieldAction, bot.FieldStep, bot.FieldState, bot.FieldRequestID, bot.FieldBatchID}

// TestCardRules checks what every card must do for Webex and for the bot.
func TestCardRules(t *testing.T) {
	for _, tc := range cardCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			raw := buildCard(t, tc)
			if len(raw) >= maxCardBytes {
				t.Errorf("the card is %d bytes; keep it under %d", len(raw), maxCardBytes)
			}
			var card map[string]any
			if err := json.Unmarshal(raw, &card); err != nil {
				t.Fatal(err)
			}
			for key, want := range map[string]string{
				"type": "AdaptiveCard", "version": "1.3", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
			} {
				if got := card[key]; got != want {
					t.Errorf("%s = %v; want %q", key, got, want)
				}
			}

			objs := objects(card)
			ids := map[string]bool{}
			buttons := len(list(card["actions"]))
			for _, o := range objs {
				typ, _ := o["type"].(string)
				switch {
				case typ == "Action.Execute":
					t.Errorf("the card uses Action.Execute, which Webex (Adaptive Cards 1.3) does not support")
				case typ == "ActionSet":
					buttons += len(list(o["actions"]))
				case typ == "Action.Submit":
					checkSubmitData(t, o)
				case strings.HasPrefix(typ, "Input."):
					id, _ := o["id"].(string)
					switch {
					case id == "":
						t.Errorf("a %s has no id", typ)
					case ids[id]:
						t.Errorf("input id %q is used twice", id)
					case slices.Contains(dataFields, id):
						t.Errorf("input id %q is a Submit data field", id)
					}
					ids[id] = true
					if o["label"] == nil || o["label"] == "" {
						t.Errorf("input %q has no label", id)
					}
					if o["isRequired"] == true && (o["errorMessage"] == nil || o["errorMessage"] == "") {
						t.Errorf("required input %q has no errorMessage", id)
					}
					if re, ok := o["regex"].(string); ok {
						if _, err := regexp.Compile(re); err != nil {
							t.Errorf("input %q: regex %q: %v", id, re, err)
						}
					}
				}
			}
			if buttons > maxButtons {
				t.Errorf("the card has %d buttons; keep it to %d", buttons, maxButtons)
			}
		})
	}
}

// checkSubmitData checks that a Submit's data routes to the bot: a known action with the
// fields it needs.
func checkSubmitData(t *testing.T, submit map[string]any) {
	t.Helper()
	data, _ := submit["data"].(map[string]any)
	need := map[string][]string{
		bot.ActionWizard:       {bot.FieldStep, bot.FieldState},
		bot.ActionCreate:       {bot.FieldState},
		bot.ActionCancel:       {bot.FieldState},
		bot.ActionApprove:      {bot.FieldRequestID},
		bot.ActionDecline:      {bot.FieldRequestID},
		bot.ActionAskFullAdmin: {bot.FieldRequestID},
		bot.ActionRetry:        {bot.FieldRequestID},
		bot.ActionBatchStart:   {bot.FieldBatchID},
		bot.ActionBatchCancel:  {bot.FieldBatchID},
	}
	action, _ := data[bot.FieldAction].(string)
	fields, ok := need[action]
	if !ok {
		t.Errorf("Submit %q: data action %q is not one the bot handles", submit["title"], action)
		return
	}
	for _, f := range fields {
		if v, ok := data[f].(string); !ok || v == "" {
			t.Errorf("Submit %q: data %s = %v; want a non-empty string", submit["title"], f, data[f])
		}
	}
}

// TestWizardButtons checks the buttons of each step: Next carries the step and the state,
// Cancel does not submit the inputs, and the review shows Create customer only when the
// attach can go ahead.
func TestWizardButtons(t *testing.T) {
	spec := sampleSpec()
	automatic := automaticFacts()
	trial := automaticFacts()
	trial.Trial.Value = bot.Yes
	report := func(f bot.Facts) *bot.Report {
		return &bot.Report{OrgID: sampleOrgID, Facts: f, Assessment: bot.Assess(f), Precheck: precheckPassed()}
	}
	for _, tc := range []struct {
		name   string
		step   int
		report *bot.Report
		want   []string // the buttons' data actions, in order
	}{
		{"customer", bot.StepCustomer, nil, []string{bot.ActionWizard, bot.ActionCancel}},
		{"company", bot.StepCompany, nil, []string{bot.ActionWizard, bot.ActionCancel}},
		{"address", bot.StepAddress, nil, []string{bot.ActionWizard, bot.ActionCancel}},
		{"packages", bot.StepPackages, nil, []string{bot.ActionWizard, bot.ActionCancel}},
		{"review", bot.StepReview, report(automatic), []string{bot.ActionCreate, bot.ActionCancel}},
		{"review trial", bot.StepReview, report(trial), []string{bot.ActionCancel}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := wizardView(t, tc.step, spec)
			v.Report = tc.report
			card := wizardCard(t, v)
			actions := list(card["actions"])
			var got []string
			for _, a := range actions {
				data := a.(map[string]any)["data"].(map[string]any)
				got = append(got, data[bot.FieldAction].(string))
				if data[bot.FieldState] != v.State {
					t.Errorf("%s: data state = %v; want the view's state", data[bot.FieldAction], data[bot.FieldState])
				}
				if data[bot.FieldAction] == bot.ActionWizard && data[bot.FieldStep] != strconv.Itoa(tc.step) {
					t.Errorf("Next: data step = %v; want %q", data[bot.FieldStep], strconv.Itoa(tc.step))
				}
				if data[bot.FieldAction] == bot.ActionCancel && a.(map[string]any)["associatedInputs"] != "none" {
					t.Errorf("Cancel: associatedInputs = %v; want none", a.(map[string]any)["associatedInputs"])
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("buttons = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestWizardInputs checks each step's input ids against the ids the bot reads.
func TestWizardInputs(t *testing.T) {
	for _, tc := range []struct {
		step int
		want []string
	}{
		{bot.StepCustomer, []string{bot.InputAdminEmail, bot.InputOrgID}},
		{bot.StepCompany, []string{bot.InputAdminEmail, bot.InputCustomerName, bot.InputTemplate}},
		{bot.StepAddress, []string{bot.InputStreet, bot.InputStreet2, bot.InputCity, bot.InputState, bot.InputZip, bot.InputCountry, bot.InputLocationConfirmed}},
		{bot.StepPackages, []string{bot.InputPackages, bot.InputLocationName, bot.InputTimezone, bot.InputLanguage,
			bot.InputUsers, bot.InputVerifiedDomain, bot.InputClaimedDomain, bot.InputTrial, bot.InputInactiveLicenses}},
		{bot.StepReview, nil},
	} {
		t.Run(strconv.Itoa(tc.step), func(t *testing.T) {
			var got []string
			for _, in := range inputs(wizardCard(t, wizardView(t, tc.step, sampleSpec()))) {
				got = append(got, in["id"].(string))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("step %d inputs = %q; want %q", tc.step, got, tc.want)
			}
		})
	}
}

// TestWizardPrefill checks that the inputs show what the spec already holds, in the form the
// bot reads back.
func TestWizardPrefill(t *testing.T) {
	spec := sampleSpec()
	values := map[string]any{}
	for _, step := range []int{bot.StepCustomer, bot.StepAddress, bot.StepPackages} {
		for _, in := range inputs(wizardCard(t, wizardView(t, step, spec))) {
			values[in["id"].(string)] = in["value"]
		}
	}
	for id, want := range map[string]string{
		bot.InputAdminEmail: sampleAdmin, bot.InputOrgID: sampleOrgID,
		bot.InputStreet: "Nørregade 12", bot.InputCity: "København K", bot.InputCountry: "DK",
		bot.InputLocationConfirmed: "true",
		bot.InputPackages:          "webex_calling,webex_meetings",
		bot.InputTimezone:          "Europe/Copenhagen", bot.InputLanguage: "da_dk",
		bot.InputUsers: "yes", bot.InputVerifiedDomain: "no", bot.InputClaimedDomain: "unknown",
	} {
		if got := values[id]; got != want {
			t.Errorf("input %s value = %v; want %q", id, got, want)
		}
	}
}

// TestLocationToggle checks the supported-location tick against Partner Hub's wording and
// the value the bot reads.
func TestLocationToggle(t *testing.T) {
	spec := sampleSpec()
	spec.LocationConfirmed = false
	for _, in := range inputs(wizardCard(t, wizardView(t, bot.StepAddress, spec))) {
		if in["id"] != bot.InputLocationConfirmed {
			continue
		}
		for key, want := range map[string]any{
			"type": "Input.Toggle", "title": "I confirm this customer is in a Cisco Webex-supported location",
			"valueOn": "true", "valueOff": "false", "value": "false", "isRequired": true,
		} {
			if got := in[key]; got != want {
				t.Errorf("toggle %s = %v; want %v", key, got, want)
			}
		}
		return
	}
	t.Errorf("the address step has no %s input", bot.InputLocationConfirmed)
}

// TestApprovalButtons checks that the approval card has exactly Approve and Decline, each
// with the request id.
func TestApprovalButtons(t *testing.T) {
	v := bot.ApprovalView{Request: sampleRequest(), PartnerName: samplePartner}
	raw, err := cards.New().Approval(v)
	if err != nil {
		t.Fatal(err)
	}
	var card map[string]any
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	type button struct{ Title, Action, RequestID string }
	var got []button
	for _, o := range objects(card) {
		if o["type"] == "Action.Submit" {
			data := o["data"].(map[string]any)
			got = append(got, button{o["title"].(string), data[bot.FieldAction].(string), data[bot.FieldRequestID].(string)})
		}
	}
	want := []button{{"Approve", bot.ActionApprove, sampleID}, {"Decline", bot.ActionDecline, sampleID}}
	if !slices.Equal(got, want) {
		t.Errorf("Submit buttons = %+v; want %+v", got, want)
	}
	if ins := inputs(card); len(ins) != 1 || ins[0]["id"] != bot.InputComment || ins[0]["isRequired"] == true {
		t.Errorf("inputs = %v; want only the optional %s", ins, bot.InputComment)
	}
}

// TestProvisionedAskButton checks that only Provisioning Admin gets the button that asks the
// customer admin for Full Admin.
func TestProvisionedAskButton(t *testing.T) {
	for _, tc := range []struct {
		mapped bot.Role
		want   bool
	}{
		{bot.RoleProvisioningAdmin, true},
		{bot.RoleFullAdmin, false},
		{"", false},
	} {
		t.Run(string(tc.mapped), func(t *testing.T) {
			raw, err := cards.New().Provisioned(bot.ProvisionedView{Request: provisionedRequest(), Role: "some_role", Mapped: tc.mapped})
			if err != nil {
				t.Fatal(err)
			}
			var card map[string]any
			if err := json.Unmarshal(raw, &card); err != nil {
				t.Fatal(err)
			}
			got := false
			for _, a := range list(card["actions"]) {
				data, _ := a.(map[string]any)["data"].(map[string]any)
				if data[bot.FieldAction] == bot.ActionAskFullAdmin && data[bot.FieldRequestID] == sampleID {
					got = true
				}
			}
			if got != tc.want {
				t.Errorf("Provisioned(%q) has the Ask for Full Admin button: %v; want %v", tc.mapped, got, tc.want)
			}
		})
	}
}

// TestErrors checks that a view no card can be made of is an error, not a broken card.
func TestErrors(t *testing.T) {
	c := cards.New()
	for _, tc := range []struct {
		name  string
		build func() (json.RawMessage, error)
	}{
		{"wizard step 0", func() (json.RawMessage, error) { return c.Wizard(bot.WizardView{Step: 0}) }},
		{"wizard step 6", func() (json.RawMessage, error) { return c.Wizard(bot.WizardView{Step: bot.WizardSteps + 1}) }},
		{"approval without id", func() (json.RawMessage, error) { return c.Approval(bot.ApprovalView{}) }},
		{"full admin request without id", func() (json.RawMessage, error) { return c.FullAdminRequest(bot.ApprovalView{}) }},
		{"provisioned without id", func() (json.RawMessage, error) { return c.Provisioned(bot.ProvisionedView{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if card, err := tc.build(); err == nil {
				t.Errorf("got a card and no error: %s", truncate(string(card), 200))
			}
		})
	}
}

// TestZeroViews checks that views with nothing in them still make valid cards.
func TestZeroViews(t *testing.T) {
	schema := compileSchema(t)
	var c cards.Builder // the zero value works
	for step := bot.StepCustomer; step <= bot.StepReview; step++ {
		card, err := c.Wizard(bot.WizardView{Step: step})
		if err != nil {
			t.Fatalf("Wizard(step %d of a zero view): %v", step, err)
		}
		validate(t, schema, card)
	}
	for _, build := range []func(bot.ApprovalView) (json.RawMessage, error){c.Approval, c.FullAdminRequest} {
		card, err := build(bot.ApprovalView{Request: bot.Request{ID: sampleID}})
		if err != nil {
			t.Fatal(err)
		}
		validate(t, schema, card)
	}
	card, err := c.Provisioned(bot.ProvisionedView{Request: bot.Request{ID: sampleID}})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, schema, card)
}

// wizardCard builds and decodes a wizard card.
func wizardCard(t *testing.T, v bot.WizardView) map[string]any {
	t.Helper()
	raw, err := cards.New().Wizard(v)
	if err != nil {
		t.Fatalf("Wizard(step %d): %v", v.Step, err)
	}
	var card map[string]any
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	return card
}

// objects lists every JSON object in v, depth first, v itself included.
func objects(v any) []map[string]any {
	var out []map[string]any
	switch v := v.(type) {
	case map[string]any:
		out = append(out, v)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // body before card before items: the order is only for stable messages
		for _, k := range keys {
			if k != "data" { // Submit data is not card structure
				out = append(out, objects(v[k])...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, objects(x)...)
		}
	}
	return out
}

// inputs lists a card's inputs in the order they are shown.
func inputs(card map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(elements []any)
	walk = func(elements []any) {
		for _, e := range elements {
			o := e.(map[string]any)
			if typ, _ := o["type"].(string); strings.HasPrefix(typ, "Input.") {
				out = append(out, o)
			}
			walk(list(o["items"]))
		}
	}
	walk(list(card["body"]))
	return out
}

// list is v as a JSON array, or nil.
func list(v any) []any {
	l, _ := v.([]any)
	return l
}
