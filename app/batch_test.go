package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

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

func TestBatchStartOnce(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	if err := h.Sim.AddMember(webextest.PartnerSpaceID, webextest.EveID); err != nil {
		t.Fatal(err)
	}
	cmd, card := h.attachFile(batchHeader + batchRow(webextest.SmallOrgID, webextest.SmallAdminEmail, "no"))
	id := h.batchIDOf(card)

	// An outsider's Start is refused, and changes nothing.
	h.Press(webextest.EveID, card, "Start", nil)
	apptest.MustContain(t, "the outsider's answer", apptest.Joined(h.DirectFromBot(webextest.EveID)), "only the partner's Webex for Wholesale admins may start or discard a batch", "the batch was not started")
	if got := h.batchOf(id).State; got != bot.BatchReady {
		t.Fatalf("the batch is %s after an outsider's Start, want ready", got)
	}
	if n := len(h.provisionCalls()); n != 0 {
		t.Fatalf("an outsider's Start provisioned %d customers", n)
	}

	// A double click: two submissions of the card before the bot has answered either.
	data := h.Submission(card, "Start", nil)
	for range 2 {
		if _, err := h.Sim.Click(t.Context(), webextest.AnnID, card.ID, data); err != nil {
			t.Fatalf("click Start: %v", err)
		}
	}
	h.Settle()
	if transport == apptest.Webhook { // and Webex delivers the first click again
		var last webextest.Delivery
		for _, d := range h.Sim.Deliveries() {
			if strings.Contains(string(d.Body), `"attachmentActions"`) {
				last = d
			}
		}
		if _, err := h.Sim.Redeliver(t.Context(), last); err != nil {
			t.Fatal(err)
		}
		h.Settle()
	}
	if got := h.provisionsOf(); got[webextest.SmallOrgID] != 1 {
		t.Errorf("accepted provisionings by org = %v, want the small org's once", got)
	}
	if rs := h.batchRequests(id); len(rs) != 1 {
		t.Errorf("the batch made %d requests, want 1", len(rs))
	}
	if got := withMarker(h.RepliesTo(cmd), progressMarker); len(got) != 1 {
		t.Errorf("%d progress messages, want 1", len(got))
	}
	// The card is gone by the second click, so its answer goes to the space.
	apptest.MustContain(t, "the second click's answer", apptest.Joined(h.BotMessages(webextest.PartnerSpaceID)), "already; your click changed nothing")
}

func TestBatchCancel(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	const rows = 6
	file := batchHeader
	for i := range rows {
		o, err := h.Sim.AddOrg(webextest.Org{Name: fmt.Sprintf("Shop %d", i), AdminEmail: fmt.Sprintf("admin@shop%d.example", i), Users: 5, Readable: true,
			Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 5, ConsumedUnits: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		file += batchRow(o.ID, o.AdminEmail, "no")
	}
	cmd, card := h.attachFile(file)
	id := h.batchIDOf(card)
	// The provisionings take a while, so that the cancel comes in the middle of the batch.
	h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Latency: 150 * time.Millisecond})
	if _, err := h.Sim.Click(t.Context(), webextest.AnnID, card.ID, h.Submission(card, "Start", nil)); err != nil {
		t.Fatal(err)
	}
	h.waitCustomers(1)
	cancel := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "cancel "+id)
	apptest.MustContain(t, "the cancel's answer", apptest.Joined(h.RepliesTo(cancel)), "Batch **"+id+"** is cancelled", "go on")
	h.Settle()
	bt := h.batchOf(id)
	if bt.State != bot.BatchCancelled || bt.Next >= rows {
		t.Fatalf("batch %s: state %s, %d rows submitted; want cancelled before the end", id, bt.State, bt.Next)
	}
	if got := len(h.batchRequests(id)); got != bt.Next {
		t.Errorf("%d requests for %d rows submitted", got, bt.Next)
	}
	for org, n := range h.provisionsOf() {
		if n != 1 {
			t.Errorf("org %s provisioned %d times", org, n)
		}
	}
	again := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "cancel "+id)
	apptest.MustContain(t, "a second cancel", apptest.Joined(h.RepliesTo(again)), "nothing left to stop")
	apptest.MustContain(t, "the progress", apptest.Joined(withMarker(h.RepliesTo(cmd), progressMarker)), "cancelled by "+webextest.AnnEmail)
	bad := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "cancel B-12")
	apptest.MustContain(t, "a malformed batch id", apptest.Joined(h.RepliesTo(bad)), "That is not a batch id")
}

// waitCustomers waits until the simulated Webex has n customers more than it was seeded with.
func (h *harness) waitCustomers(n int) {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(h.T.Context(), 20*time.Second)
	defer cancel()
	if err := h.Sim.WaitFor(ctx, func() bool { return h.newCustomers() >= n }); err != nil {
		h.T.Fatalf("waiting for %d customers: %v", n, err)
	}
}

func TestBatchRestartInTheMiddle(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	const rows = 6
	file := batchHeader
	var orgs []string
	for i := range rows {
		o, err := h.Sim.AddOrg(webextest.Org{Name: fmt.Sprintf("Cafe %d", i), AdminEmail: fmt.Sprintf("admin@cafe%d.example", i), Users: 5, Readable: true,
			Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 5, ConsumedUnits: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, o.ID)
		file += batchRow(o.ID, o.AdminEmail, "no")
	}
	cmd, card := h.attachFile(file)
	id := h.batchIDOf(card)
	h.Sim.Inject(webextest.Fault{Method: http.MethodPost, Path: "/v1/wholesale/customers", Latency: 150 * time.Millisecond})
	if _, err := h.Sim.Click(t.Context(), webextest.AnnID, card.ID, h.Submission(card, "Start", nil)); err != nil {
		t.Fatal(err)
	}
	h.waitCustomers(2)
	h.CloseApp(h.App()) // a row may be cut in the middle of its submission
	if n := h.newCustomers(); n >= rows {
		t.Fatalf("the batch was over (%d customers) before the restart; the test proves nothing", n)
	}
	h.Sim.ClearFaults()
	h.StartApp()
	h.Settle()
	h.Advance(time.Minute) // past batchReportGap, for the last edit of the progress
	h.MustSweep()

	got := h.provisionsOf()
	for _, org := range orgs {
		if got[org] != 1 {
			t.Errorf("org %s provisioned %d times, want once", org, got[org])
		}
	}
	if rs := h.batchRequests(id); len(rs) != rows {
		t.Errorf("the batch has %d requests, want one per row (%d)", len(rs), rows)
	}
	if bt := h.batchOf(id); bt.State != bot.BatchSubmitted || bt.Next != rows || len(bt.Refusals) != 0 {
		t.Errorf("batch %s: state %s, %d rows submitted, refusals %v", id, bt.State, bt.Next, bt.Refusals)
	}
	progress := withMarker(h.RepliesTo(cmd), progressMarker)
	if len(progress) == 0 {
		t.Fatal("no progress message")
	}
	apptest.MustContain(t, "the progress", progress[len(progress)-1].Markdown, fmt.Sprintf("submitted: %d of %d rows", rows, rows))
}

func TestBatchDiscard(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	cmd, card := h.attachFile(batchHeader + batchRow(webextest.SmallOrgID, webextest.SmallAdminEmail, "no"))
	id := h.batchIDOf(card)
	h.Press(webextest.AnnID, card, "Cancel", nil)
	apptest.MustContain(t, "the answer", apptest.Joined(h.RepliesTo(cmd)), "discarded batch **"+id+"**: nothing was attached")
	if _, ok := h.Sim.Message(card.ID); ok {
		t.Errorf("the card is still there after Cancel")
	}
	if got := h.batchOf(id).State; got != bot.BatchDiscarded {
		t.Errorf("the batch is %s, want discarded", got)
	}
	h.MustSweep()
	if n := len(h.provisionCalls()); n != 0 {
		t.Errorf("a discarded batch provisioned %d customers", n)
	}
	if rs := h.batchRequests(id); len(rs) != 0 {
		t.Errorf("a discarded batch made %d requests", len(rs))
	}
	cancel := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "cancel "+strings.ToLower(id))
	apptest.MustContain(t, "cancel of a discarded batch", apptest.Joined(h.RepliesTo(cancel)), "is discarded by "+webextest.AnnEmail+", so there is nothing left to stop")
	list := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "batch")
	apptest.MustContain(t, "batch", apptest.Joined(h.RepliesTo(list)), "**"+id+"**: customers.csv, 1 row, discarded")
}

// TestBatchProgressPastTheEditLimit: the progress message is edited at most every 10 s; after
// Webex's 10 edits it is posted anew and the old one deleted, so the thread always has one.
func TestBatchProgressPastTheEditLimit(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	const rows = 14
	file := batchHeader
	for i := range rows {
		o, err := h.Sim.AddOrg(webextest.Org{Name: fmt.Sprintf("Bakery %d", i), AdminEmail: fmt.Sprintf("admin@bakery%d.example", i), Users: 5, Readable: true,
			Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 5, ConsumedUnits: 5}},
			Outcome:  webextest.Outcome{Delay: time.Duration(i+1) * 20 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		file += batchRow(o.ID, o.AdminEmail, "no")
	}
	cmd, card := h.attachFile(file)
	h.Press(webextest.AnnID, card, "Start", nil)
	for range 40 { // one more request provisioned every 20 s or so
		h.Advance(11 * time.Second)
		h.MustSweep()
		if got := withMarker(h.RepliesTo(cmd), progressMarker); len(got) != 1 {
			t.Fatalf("%d progress messages in the thread, want 1:\n%s", len(got), apptest.Joined(got))
		}
	}
	progress := withMarker(h.RepliesTo(cmd), progressMarker)[0]
	apptest.MustContain(t, "the last progress", progress.Markdown, fmt.Sprintf("provisioned: %d", rows))
	edits := h.Sim.CallsTo(http.MethodPut, "/v1/messages/*")
	deletions := 0
	for _, c := range h.Sim.CallsTo(http.MethodDelete, "/v1/messages/*") {
		if c.Status == http.StatusNoContent || c.Status == http.StatusOK {
			deletions++
		}
	}
	if len(edits) < 10 || deletions == 0 {
		t.Errorf("%d edits and %d deletions; want the 10 edits one message allows, and the full one deleted", len(edits), deletions)
	}
	for _, c := range edits {
		if c.Status != http.StatusOK {
			t.Errorf("an edit was refused: %d", c.Status)
		}
	}
}

// TestBatchHeldByAnotherProcess: a batch another process (a replica sharing the store) holds
// is not submitted here until that process's lease runs out.
func TestBatchHeldByAnotherProcess(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	_, card := h.attachFile(batchHeader + batchRow(webextest.SmallOrgID, webextest.SmallAdminEmail, "no"))
	id := h.batchIDOf(card)
	until := h.Clock.Now().Add(time.Hour)
	if ok, err := h.App().Store().AcquireLease(t.Context(), "batch/"+id, "another-replica", h.Clock.Now(), until); err != nil || !ok {
		t.Fatalf("take the batch's lease for another process: %v, %v", ok, err)
	}
	h.Press(webextest.AnnID, card, "Start", nil)
	// The batch loop waits for the lease on the clock, which moves at once in these tests; the
	// wait is not work Settle sees, so the test waits for the provisioning itself.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	provisioned := func() bool { return len(h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")) > 0 }
	if err := h.Sim.WaitFor(ctx, provisioned); err != nil {
		t.Fatalf("waiting for the row's provisioning: %v", err)
	}
	h.Settle()
	calls := h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers")
	if len(calls) != 1 {
		t.Fatalf("%d provisionings, want 1 once the other's lease ran out", len(calls))
	}
	if calls[0].Time.Before(until) {
		t.Errorf("the row was submitted at %s, before the other process's lease ran out at %s", calls[0].Time, until)
	}
}
