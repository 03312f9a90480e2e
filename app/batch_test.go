package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// Attaching a whole CSV file end to end: Ann drops the file with `attach`, gets the dry run
// and a card with Start and Cancel, and the batch's rows become requests, reported by one
// progress message edited in place and grouped notices in the file's thread.

// batchHeader is the header of the batch tests' files.
const batchHeader = "org,admin,template,packages,name,street,city,zip,country,verified-domain,claimed-domain,trial\n"

// batchRow is a row of the batch tests' files: an organization with its admin, declared
// without verified or claimed domain, trial as given.
func batchRow(org, admin, trial string) string {
	return fmt.Sprintf("%s,%s,Standard,webex_meetings,Nordlys AS,Storgata 1,Oslo,0155,NO,no,no,%s\n", org, admin, trial)
}

// batchCard returns the one batch card among replies.
func (h *harness) batchCard(replies []webextest.Message) webextest.Message {
	h.T.Helper()
	var cards []webextest.Message
	for _, m := range replies {
		if len(m.Attachments) > 0 && apptest.SubmitData(h.T, m, "Start") != nil {
			cards = append(cards, m)
		}
	}
	if len(cards) != 1 {
		h.T.Fatalf("%d replies with a batch card, want 1; replies:\n%s", len(cards), apptest.Joined(replies))
	}
	return cards[0]
}

// attachFile has Ann attach a file and returns her command and the batch card.
func (h *harness) attachFile(file string) (webextest.Message, webextest.Message) {
	h.T.Helper()
	cmd := h.SayFile(webextest.AnnID, webextest.PartnerSpaceID, "attach", csvFile("customers.csv", file))
	return cmd, h.batchCard(h.RepliesTo(cmd))
}

// batchRequests returns the requests of a batch, newest first.
func (h *harness) batchRequests(batchID string) []bot.Request {
	h.T.Helper()
	rs, err := h.App().Store().Requests(h.T.Context(), bot.RequestFilter{})
	if err != nil {
		h.T.Fatal(err)
	}
	var got []bot.Request
	for _, r := range rs {
		if r.BatchID == batchID {
			got = append(got, r)
		}
	}
	return got
}

// batchOf returns a batch as the store has it now.
func (h *harness) batchOf(id string) bot.Batch {
	h.T.Helper()
	bt, err := h.App().Store().Batch(h.T.Context(), id)
	if err != nil {
		h.T.Fatal(err)
	}
	return bt
}

// batchIDOf returns the batch id a batch card's Start carries.
func (h *harness) batchIDOf(card webextest.Message) string {
	h.T.Helper()
	id, _ := apptest.SubmitData(h.T, card, "Start")[bot.FieldBatchID].(string)
	if id == "" {
		h.T.Fatalf("the card's Start carries no batch id")
	}
	return id
}

// withMarker returns the messages that contain marker.
func withMarker(msgs []webextest.Message, marker string) []webextest.Message {
	var got []webextest.Message
	for _, m := range msgs {
		if strings.Contains(m.Markdown, marker) {
			got = append(got, m)
		}
	}
	return got
}

// progressMarker and noticeMarker start a batch's progress message and its grouped notices.
const (
	progressMarker = "I edit this message as it goes"
	noticeMarker   = "what happened since the last update"
)

// provisionsOf counts the accepted POST /wholesale/customers per orgId.
func (h *harness) provisionsOf() map[string]int {
	n := map[string]int{}
	for _, c := range h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers") {
		var body struct {
			OrgID string `json:"orgId"`
		}
		if err := json.Unmarshal(c.Body, &body); err != nil {
			h.T.Fatalf("POST /wholesale/customers body: %v", err)
		}
		if c.Status == http.StatusAccepted {
			n[body.OrgID]++
		}
	}
	return n
}

func TestAttachFileMixed(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	file := batchHeader +
		batchRow(webextest.SmallOrgID, webextest.SmallAdminEmail, "no") +
		batchRow(webextest.BigOrgID, webextest.BigAdminEmail, "no") +
		batchRow(webextest.TrialOrgID, webextest.TrialAdminEmail, "yes") +
		batchRow(webextest.CustomerOrgID, webextest.CustomerAdminEmail, "no") +
		batchRow("not-an-org", webextest.SmallAdminEmail, "no") +
		batchRow(webextest.SmallOrgID, webextest.SmallAdminEmail, "no")
	cmd, card := h.attachFile(file)
	replies := h.RepliesTo(cmd)
	apptest.MustContain(t, "the dry run", apptest.Joined(replies),
		"Check of 6 rows", "would attach automatically: 1", "need the customer admin's approval: 1", "refused: 4")
	h.fileReply(replies)
	apptest.MustContain(t, "the card's fallback", card.Markdown, "2 rows can be attached")
	if n := len(h.provisionCalls()); n != 0 {
		t.Fatalf("the dry run provisioned %d customers", n)
	}
	id := h.batchIDOf(card)
	if got := h.batchOf(id).State; got != bot.BatchReady {
		t.Fatalf("the batch is %s before Start, want ready", got)
	}

	h.Press(webextest.AnnID, card, "Start", nil)
	if _, ok := h.Sim.Message(card.ID); ok {
		t.Errorf("the card is still there after Start")
	}
	rs := h.batchRequests(id)
	if len(rs) != 2 {
		t.Fatalf("the batch made %d requests, want 2 (the automatic and the approval rows)", len(rs))
	}
	for _, r := range rs {
		if r.Spec.ExternalID != "attachbot-"+strings.ToLower(r.ID) || len(r.Audit) == 0 || r.ThreadID != cmd.ID {
			t.Errorf("request %s: externalId %q, %d audit entries, thread %s", r.ID, r.Spec.ExternalID, len(r.Audit), r.ThreadID)
		}
	}
	h.approvalCard(webextest.BigAdminID)
	if got := h.provisionsOf(); got[webextest.SmallOrgID] != 1 || len(got) != 1 {
		t.Errorf("accepted provisionings by org = %v, want the small org's once", got)
	}

	for range 3 { // the polls find the small org provisioned
		h.Advance(statusFirstPoll)
		h.MustSweep()
	}
	h.Advance(bot.DefaultFirstPoll * 3) // past the progress message's 10 s gap
	h.MustSweep()
	thread := h.RepliesTo(cmd)
	progress := withMarker(thread, progressMarker)
	if len(progress) != 1 {
		t.Fatalf("%d progress messages, want 1; the thread:\n%s", len(progress), apptest.Joined(thread))
	}
	apptest.MustContain(t, "the progress message", progress[0].Markdown,
		"submitted: 2 of 2 rows", "awaiting approval: 1", "provisioned: 1", "failed: 0")
	if progress[0].Updated == nil {
		t.Errorf("the progress message was never edited")
	}
	notices := withMarker(thread, noticeMarker)
	if len(notices) == 0 {
		t.Fatalf("no grouped notice; the thread:\n%s", apptest.Joined(thread))
	}
	all := apptest.Joined(notices)
	apptest.MustContain(t, "the grouped notices", all, "waiting for the customer admin's approval (card sent to "+webextest.BigAdminEmail, "provisioned")
	if got := withMarker(thread, statusProvisionedMarker); len(got) != 0 {
		t.Errorf("a request of the batch got its own provisioned notice: %s", apptest.Joined(got))
	}

	show := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "batch "+id)
	apptest.MustContain(t, "batch <id>", apptest.Joined(h.RepliesTo(show)), "**Batch "+id, "provisioned: 1", "awaiting approval: 1")

	exp := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "export")
	_, records := h.fileReply(h.RepliesTo(exp))
	if len(records) != 3 {
		t.Fatalf("the export has %d records, want a header and the batch's 2 requests", len(records))
	}
	states := strings.Join(column(t, records, "state"), " ")
	apptest.MustContain(t, "the export's states", states, string(bot.StateProvisioned), string(bot.StateAwaitingApproval))
}
