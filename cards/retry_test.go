package cards_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/cards"
)

func TestRetryCardButtonRetriesItsRequest(t *testing.T) {
	r := provisionedRequest()
	r.State, r.WebexStatus = bot.StateError, "error"
	raw, err := cards.New().Retry(bot.RetryView{Request: r})
	if err != nil {
		t.Fatal(err)
	}
	var card map[string]any
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, a := range list(card["actions"]) {
		data, _ := a.(map[string]any)["data"].(map[string]any)
		got = append(got, data)
	}
	want := []map[string]any{{bot.FieldAction: bot.ActionRetry, bot.FieldRequestID: sampleID}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the card's buttons' data (-want +got):\n%s", diff)
	}
}

func TestRetryCardRefusesRequestWithoutCustomer(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    bot.Request
	}{
		{"no id", bot.Request{CustomerID: "Y2lzY29zcGFyazovL3VzL0NVU1RPTUVSLzE"}},
		{"no customer id", bot.Request{ID: sampleID, State: bot.StateError}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if card, err := cards.New().Retry(bot.RetryView{Request: tc.r}); err == nil {
				t.Errorf("Retry built a card: %s", card)
			}
		})
	}
}
