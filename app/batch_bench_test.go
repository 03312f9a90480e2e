package app_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// BenchmarkBatch attaches a 1,000-row file of automatic attaches (100 with -short) against a
// simulated Webex that answers every call after 50 ms and answers 429 (Retry-After: 1) to a
// token's calls beyond 20 a second. The dry run before the card runs without the latency and
// the limit (BenchmarkCheck measures it); the clock runs from the click on Start until every
// row's request is provisioned. It checks that every organization was provisioned once and
// that the space got at most one new message, and one edit, for the batch per 10 s, and
// reports the calls refused for coming before their Retry-After (early-429s, which must be
// 0), the 429s, the messages and edits, and the floor: the batch's partner calls at 20 a
// second. Run it with
//
//	go test -run '^$' -bench BenchmarkBatch -benchtime 1x ./app/
func BenchmarkBatch(b *testing.B) {
	onceOnly(b)
	rows := 1_000
	if testing.Short() {
		rows = 100
	}
	b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
		for range b.N {
			batchOnce(b, rows)
		}
	})
}

// The simulated Webex of BenchmarkBatch.
const (
	batchBenchLatency = 50 * time.Millisecond
	batchBenchRate    = 20 // calls a second per token
)

// batchOnce runs one batch of rows automatic attaches and reports on it.
func batchOnce(b *testing.B, rows int) {
	b.StopTimer()
	ctx := context.Background()
	sim := webextest.New(webextest.Options{})
	file := batchHeader
	orgs := make([]string, rows)
	for i := range orgs {
		o, err := sim.AddOrg(webextest.Org{Name: fmt.Sprintf("Bench shop %04d", i), AdminEmail: fmt.Sprintf("admin@shop%04d.example", i),
			Users: 3, Readable: true, Licenses: []webextest.License{{Name: "Messaging", TotalUnits: 3, ConsumedUnits: 3}}})
		if err != nil {
			b.Fatal(err)
		}
		orgs[i] = o.ID
		file += batchRow(o.ID, o.AdminEmail, "no")
	}
	a := newEngineBench(b, sim, 0)
	if err := a.Start(ctx); err != nil {
		b.Fatal(err)
	}
	cmd, err := sim.SayFile(ctx, webextest.AnnID, webextest.PartnerSpaceID, "attach", csvFile("bench.csv", file))
	if err != nil {
		b.Fatal(err)
	}
	accept(b, a, "messages", cmd.ID)
	settleWithin(b, a, 10*time.Minute)
	card := benchBatchCard(b, sim, cmd.ID)

	sim.Inject(webextest.Fault{Latency: batchBenchLatency})
	sim.LimitRate(webextest.RateLimit{PerSecond: batchBenchRate, RetryAfter: 1})
	partnerBefore := partnerCalls(sim)
	start := time.Now()
	b.StartTimer()
	action, err := sim.Click(ctx, webextest.AnnID, card.ID, map[string]any{bot.FieldAction: bot.ActionBatchStart, bot.FieldBatchID: batchIDIn(b, card)})
	if err != nil {
		b.Fatal(err)
	}
	accept(b, a, "attachmentActions", action.ID)
	waitProvisioned(b, a, sim, rows)
	b.StopTimer()
	wall := time.Since(start)

	accepted := map[string]int{}
	for _, c := range sim.CallsTo(http.MethodPost, "/v1/wholesale/customers") {
		if c.Status == http.StatusAccepted {
			accepted[string(c.TrackingID)]++
		}
	}
	if customers := len(sim.Customers()) - 1; customers != rows || len(accepted) != rows { // the seeded customer
		b.Fatalf("%d customers, %d accepted provisionings for %d rows", customers, len(accepted), rows)
	}
	posts, edits := batchSpaceChanges(sim, cmd.ID, start)
	for what, times := range map[string][]time.Time{"new messages": posts, "edits": edits} {
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); gap < 10*time.Second {
				b.Errorf("the space got %s for the batch %s apart", what, gap)
			}
		}
	}
	stats := sim.RateStats()
	if stats.Early > 0 {
		b.Errorf("%d calls came before the Retry-After they were given", stats.Early)
	}
	calls := partnerCalls(sim) - partnerBefore
	floor := time.Duration(calls) * time.Second / batchBenchRate
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(wall.Seconds()/floor.Seconds(), "x-floor")
	b.ReportMetric(float64(calls)/float64(rows), "partner-calls/row")
	b.ReportMetric(float64(stats.Refused), "429s")
	b.ReportMetric(float64(stats.Early), "early-429s")
	b.ReportMetric(float64(len(posts)), "new-messages")
	b.ReportMetric(float64(len(edits)), "edits")
}

// accept hands attachbot the created event of a resource, as a webhook would.
func accept(b *testing.B, a *app.App, resource, id string) {
	b.Helper()
	ev := bot.Event{Key: bot.EventKey(resource, "created", id), Resource: resource, Event: "created",
		DataID: id, ActorID: webextest.AnnID, RoomID: webextest.PartnerSpaceID, Created: time.Now(), Received: time.Now()}
	if err := a.Bot().Accept(context.Background(), ev); err != nil {
		b.Fatal(err)
	}
}

// benchBatchCard returns the batch card in the thread of the command rootID.
func benchBatchCard(b *testing.B, sim *webextest.Sim, rootID string) webextest.Message {
	b.Helper()
	for _, m := range sim.Messages(webextest.PartnerSpaceID) {
		if m.ParentID == rootID && len(m.Attachments) > 0 {
			return m
		}
	}
	b.Fatal("no batch card")
	return webextest.Message{}
}

// batchIDIn returns the batch id a card's Start carries.
func batchIDIn(b *testing.B, card webextest.Message) string {
	b.Helper()
	id, _ := apptest.SubmitData(b, card, "Start")[bot.FieldBatchID].(string)
	if id == "" {
		b.Fatal("the card's Start carries no batch id")
	}
	return id
}

// partnerCalls counts the calls made with the partner's token.
func partnerCalls(sim *webextest.Sim) int {
	n := 0
	for _, c := range sim.Calls() {
		if c.Identity == webextest.IdentityPartner {
			n++
		}
	}
	return n
}

// waitProvisioned waits until rows requests are provisioned, looking at the store at most
// once a second of the simulated Webex's changes.
func waitProvisioned(b *testing.B, a *app.App, sim *webextest.Sim, rows int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var looked time.Time
	err := sim.WaitFor(ctx, func() bool {
		if time.Since(looked) < time.Second {
			return false
		}
		looked = time.Now()
		rs, err := a.Store().Requests(ctx, bot.RequestFilter{States: []bot.State{bot.StateProvisioned}})
		return err == nil && len(rs) >= rows
	})
	if err != nil {
		b.Fatalf("waiting for %d provisioned requests: %v", rows, err)
	}
}

// batchSpaceChanges returns when the bot posted a message in the thread of rootID after start
// (the batch's new messages), and when it edited one.
func batchSpaceChanges(sim *webextest.Sim, rootID string, start time.Time) (posts, edits []time.Time) {
	for _, m := range sim.Messages(webextest.PartnerSpaceID) {
		if m.PersonID == webextest.BotID && m.ParentID == rootID && m.Created.After(start) {
			posts = append(posts, m.Created)
		}
	}
	for _, c := range sim.CallsTo(http.MethodPut, "/v1/messages/*") {
		if c.Status == http.StatusOK {
			edits = append(edits, c.Time)
		}
	}
	slices.SortFunc(posts, func(x, y time.Time) int { return x.Compare(y) })
	return posts, edits
}
