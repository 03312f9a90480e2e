package app_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/store/postgres/pgtest"
	"attachbot/webex/webextest"
)

// The end-to-end tests run attachbot through apptest (see its doc). harness adds to
// apptest.Harness the helpers of this package's tests, such as attach and approvalCard.
type harness struct{ *apptest.Harness }

// transport is the transport of this run of the package's tests: TestMain runs them once
// per transport, and newHarness uses it unless the options choose one.
var transport = apptest.Webhook

// pg is the package's throwaway PostgreSQL (pgtest), for the tests of the PostgreSQL store;
// it has no server when PostgreSQL is not installed (see pgtest).
var pg *pgtest.Server

// storeOnPostgres has newHarness keep attachbot's state in PostgreSQL: TestMain runs the
// suite once more so, over webhooks, when PostgreSQL is installed.
var storeOnPostgres bool

// TestMain runs every test of the package once per transport (apptest.Transports), so that
// the whole end-to-end suite holds over webhooks and over the websocket alike, then once more
// over webhooks with the state in PostgreSQL (storeOnPostgres) when it is installed. Tests
// that are about webhooks alone skip the websocket run (webhookOnly).
//
// Run with -bench-webex, the test binary serves the drain benchmark's simulated Webex
// instead (bench_webex_test.go).
func TestMain(m *testing.M) {
	flag.Parse()
	if *benchWebexFlag != "" {
		os.Exit(serveBenchWebex(*benchWebexFlag))
	}
	var err error
	if pg, err = pgtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		os.Exit(1)
	}
	code := 0
	for _, tr := range apptest.Transports() {
		transport = tr
		fmt.Printf("=== transport %s\n", tr)
		if c := m.Run(); c != 0 {
			fmt.Printf("--- FAIL: the tests over %s\n", tr)
			code = c
		}
	}
	if pg.Available() {
		transport, storeOnPostgres = apptest.Webhook, true
		fmt.Printf("=== store postgres, transport %s\n", transport)
		if c := m.Run(); c != 0 {
			fmt.Printf("--- FAIL: the tests on PostgreSQL\n")
			code = c
		}
	}
	if err := pg.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// webhookOnly skips the test in the websocket run, saying why.
func webhookOnly(t *testing.T, why string) {
	t.Helper()
	if transport != apptest.Webhook {
		t.Skipf("webhook only: %s", why)
	}
}

// newHarness is apptest.New for this package's tests, over this run's transport unless
// opts choose one.
func newHarness(t *testing.T, opts apptest.Options) *harness {
	t.Helper()
	if opts.Transport == "" {
		opts.Transport = transport
	}
	if storeOnPostgres {
		opts, _ = onPostgres(t, opts)
	}
	return &harness{apptest.New(t, opts)}
}

// attachLine is a complete one-line attach of an organization, with the declared facts in
// facts (such as "verified-domain=no claimed-domain=no").
func attachLine(orgID, adminEmail, packages, facts string) string {
	return fmt.Sprintf(`attach org=%s admin=%s template=Standard packages=%s name="Nordlys AS" street="Storgata 1" city=Oslo zip=0155 country=NO %s`,
		orgID, adminEmail, packages, facts)
}

// attach says line as Ann in the partner space and returns the command message and the
// bot's replies to it.
func (h *harness) attach(line string) (webextest.Message, []webextest.Message) {
	h.T.Helper()
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, line)
	return cmd, h.RepliesTo(cmd)
}

// provisionCalls returns the bodies of POST /wholesale/customers Webex received.
func (h *harness) provisionCalls() []map[string]any {
	h.T.Helper()
	var bodies []map[string]any
	for _, c := range h.Sim.CallsTo(http.MethodPost, "/v1/wholesale/customers") {
		var body map[string]any
		if err := json.Unmarshal(c.Body, &body); err != nil {
			h.T.Fatalf("POST /wholesale/customers body: %v\n%s", err, c.Body)
		}
		bodies = append(bodies, body)
	}
	return bodies
}

// newCustomers counts the wholesale customers other than the seeded one.
func (h *harness) newCustomers() int {
	n := 0
	for _, c := range h.Sim.Customers() {
		if c.ExternalID != webextest.ExistingExternalID {
			n++
		}
	}
	return n
}

// webexWrites returns the calls that would change something in Webex, other than the bot's
// own messages, webhooks and websocket devices.
func (h *harness) webexWrites() []string {
	var got []string
	for _, c := range h.Sim.Calls() {
		if c.Method == http.MethodGet || strings.HasPrefix(c.Path, "/v1/messages") || c.Path == "/v1/webhooks" ||
			strings.HasPrefix(c.Path, "/wdm/") || c.Path == "/v1/wholesale/customers/validate" {
			continue
		}
		got = append(got, c.Method+" "+c.Path)
	}
	return got
}

// partnerCalls returns the calls made with the partner token.
func (h *harness) partnerCalls() []string {
	var got []string
	for _, c := range h.Sim.Calls() {
		if c.Identity == webextest.IdentityPartner {
			got = append(got, c.Method+" "+c.Path)
		}
	}
	return got
}

// approvalCard returns the one approval card the bot sent to a customer admin.
func (h *harness) approvalCard(adminID string) webextest.Message {
	h.T.Helper()
	var cards []webextest.Message
	for _, m := range h.DirectFromBot(adminID) {
		if len(m.Attachments) > 0 {
			cards = append(cards, m)
		}
	}
	if len(cards) != 1 {
		h.T.Fatalf("the bot sent %d cards to %s, want 1", len(cards), adminID)
	}
	return cards[0]
}

// statusNeverSchedule is a POLL_SCHEDULE that never fires (30 February).
const statusNeverSchedule = "0 0 30 2 *"

// The status job's default first poll and backoff cap (bot.Config).
const (
	statusFirstPoll = bot.DefaultFirstPoll
	statusMaxPoll   = 15 * time.Minute
)

// statusAskFullAdmin is the title of the provisioned card's button.
const statusAskFullAdmin = "Ask the customer admin for Full Admin"

// The markers of the notices in a request's thread.
const (
	statusProvisionedMarker = "is provisioned."
	statusStuckMarker       = "is still being provisioned"
)

// newStatusHarness is newHarness with a cron schedule that never fires, so that only the test
// runs the sweep.
func newStatusHarness(t *testing.T, opts apptest.Options) *harness {
	t.Helper()
	configure := opts.Configure
	opts.Configure = func(c *app.Config) {
		c.PollSchedule = statusNeverSchedule
		if configure != nil {
			configure(c)
		}
	}
	return newHarness(t, opts)
}

// statusAttachLine is a complete one-line attach of an organization with no verified or
// claimed domain, declared not a trial.
func statusAttachLine(orgID, adminEmail, packages string) string {
	return fmt.Sprintf(`attach org=%s admin=%s template=Standard packages=%s name="Status Co" street="1 Main St" city=Oslo zip=0150 country=NO verified-domain=no claimed-domain=no trial=no`,
		orgID, adminEmail, packages)
}

// statusAttach has Ann attach an organization in the partner space, and returns her command
// and the request it created.
func (h *harness) statusAttach(orgID, adminEmail, packages string) (webextest.Message, bot.Request) {
	h.T.Helper()
	return h.statusAttachIn(webextest.PartnerSpaceID, orgID, adminEmail, packages)
}

// statusAttachIn is statusAttach in another space.
func (h *harness) statusAttachIn(roomID, orgID, adminEmail, packages string) (webextest.Message, bot.Request) {
	h.T.Helper()
	cmd := h.Say(webextest.AnnID, roomID, statusAttachLine(orgID, adminEmail, packages))
	rs, err := h.App().Store().Requests(h.T.Context(), bot.RequestFilter{RoomID: roomID})
	if err != nil {
		h.T.Fatal(err)
	}
	for _, r := range rs {
		if r.ThreadID == cmd.ID {
			return cmd, r
		}
	}
	h.T.Fatalf("the attach created no request; the bot answered:\n%s", apptest.Joined(h.RepliesTo(cmd)))
	return cmd, bot.Request{}
}

// statusRequest returns a request as the store has it now.
func (h *harness) statusRequest(id string) bot.Request {
	h.T.Helper()
	r, err := h.App().Store().Request(h.T.Context(), id)
	if err != nil {
		h.T.Fatal(err)
	}
	return r
}

// statusRunJob runs the status job every minute, as the default POLL_SCHEDULE does, while the
// clock moves d forward.
func (h *harness) statusRunJob(d time.Duration) {
	h.T.Helper()
	for end := h.Clock.Now().Add(d); h.Clock.Now().Before(end); {
		h.Clock.Advance(time.Minute)
		h.MustSweep()
	}
}

// statusNotices returns the bot's messages in the thread of root that contain marker.
func (h *harness) statusNotices(root webextest.Message, marker string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.RepliesTo(root) {
		if strings.Contains(m.Markdown, marker) {
			got = append(got, m)
		}
	}
	return got
}

// statusOneNotice returns the one message in the thread of root that contains marker, and
// fails the test if there is not exactly one.
func (h *harness) statusOneNotice(root webextest.Message, marker string) webextest.Message {
	h.T.Helper()
	got := h.statusNotices(root, marker)
	if len(got) != 1 {
		h.T.Fatalf("the thread has %d notices saying %q, want 1; the thread:\n%s", len(got), marker, apptest.Joined(h.RepliesTo(root)))
	}
	return got[0]
}

// statusPolls returns the status calls for a customer (GET /wholesale/customers/{id}).
func (h *harness) statusPolls(customerID string) []webextest.Call {
	return h.Sim.CallsTo(http.MethodGet, "/v1/wholesale/customers/"+customerID)
}

// statusTopLevel returns the bot's messages in a room that are not in a thread and contain
// marker.
func (h *harness) statusTopLevel(roomID, marker string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.BotMessages(roomID) {
		if m.ParentID == "" && strings.Contains(m.Markdown, marker) {
			got = append(got, m)
		}
	}
	return got
}

// statusCards returns the messages with a card that the bot sent a person directly.
func (h *harness) statusCards(personID string) []webextest.Message {
	var got []webextest.Message
	for _, m := range h.DirectFromBot(personID) {
		if len(m.Attachments) > 0 {
			got = append(got, m)
		}
	}
	return got
}

// statusAddRoom adds a group space with Ann and the bot.
func (h *harness) statusAddRoom(title string) string {
	h.T.Helper()
	room, err := h.Sim.AddRoom(title, webextest.BotID, webextest.AnnID)
	if err != nil {
		h.T.Fatal(err)
	}
	return room.ID
}

// statusFormatUTC formats a time as the bot shows it to people.
func statusFormatUTC(t time.Time) string { return bot.FormatTime(t) }
