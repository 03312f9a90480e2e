package bot_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/cards"
	"attachbot/store"
)

var update = flag.Bool("update", false, "rewrite the golden notices in testdata/notices")

const (
	testOrg     = "6f1c0a52-4d0e-4c55-9a5e-2f1b8c1d9e01"
	partnerRoom = "room-partner"
	adminEmail  = "it@smallshop.example"
	partnerMail = "ann@partner.example"
)

// core is a bot on fakes: the Messenger and the Partner in memory, the real store, a fake
// clock. Its loops do not run: the tests call the bot and read the outbox.
type core struct {
	bot     *bot.Bot
	db      *store.DB
	msgr    *bottest.Messenger
	partner *bottest.Partner
	clock   *bottest.Clock
	orgID   string // testOrg as the bot keeps it
	events  int
}

// newCore returns a bot whose partner manages the test organization, so that its facts are
// read.
func newCore(t *testing.T) *core {
	t.Helper()
	orgID, ok := bot.NormalizeOrgID(testOrg)
	if !ok {
		t.Fatalf("NormalizeOrgID(%q) failed", testOrg)
	}
	c := &core{
		db:      bottest.NewStore(t),
		msgr:    bottest.NewMessenger(bot.Person{ID: "bot-1", Emails: []string{"attachbot@webex.bot"}, DisplayName: "attachbot"}),
		partner: bottest.NewPartner(map[string]bottest.Org{orgID: {Name: "Small Shop ApS", Managed: true}}),
		clock:   bottest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), false),
		orgID:   orgID,
	}
	admins, err := bot.ParseAllowlist(partnerMail)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bot.New(bot.Config{
		PartnerAdmins:   admins,
		Templates:       []bot.Template{{Name: "Standard", ProvisioningID: "prov-standard"}},
		PollInSweepOnly: true,
	}, bot.Deps{
		Messenger: c.msgr, Partner: c.partner, Store: c.db, Cards: cards.New(), Clock: c.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	c.bot = b
	return c
}

// turn returns the processing of a new event by actor in the partner's space.
func (c *core) turn(actor bot.Person) *bot.Turn {
	c.events++
	key := "messages/created/event-" + strings.Repeat("x", c.events)
	return &bot.Turn{Event: bot.Event{Key: key}, Actor: actor, RoomID: partnerRoom, ThreadID: "thread-1", Now: c.clock.Now()}
}

var partnerAdmin = bot.Person{ID: "person-ann", Emails: []string{partnerMail}}

// attach runs `attach` for the test organization and returns the request. With
// needsApproval, the partner declares a verified domain, which needs the customer admin's
// approval.
func (c *core) attach(t *testing.T, needsApproval bool) bot.Request {
	t.Helper()
	spec, problems := c.bot.SpecFromArgs(map[string]string{
		"org": testOrg, "admin": adminEmail, "template": "Standard", "packages": "webex_meetings",
		"name": "Small Shop ApS", "street": "Nørregade 1", "city": "København", "zip": "1165", "country": "DK",
		"verified-domain": map[bool]string{true: "yes", false: "no"}[needsApproval],
		"claimed-domain":  "no", "trial": "no", "inactive-licenses": "no",
	}, partnerMail)
	if len(problems) > 0 {
		t.Fatalf("SpecFromArgs: %q", problems)
	}
	tn := c.turn(partnerAdmin)
	if err := c.bot.Attach(context.Background(), tn, spec); err != nil {
		t.Fatalf("Attach: %v", err)
	}
	rs, err := c.db.Requests(context.Background(), bot.RequestFilter{})
	if err != nil || len(rs) != 1 {
		t.Fatalf("after Attach: requests %v, %v; replies %q", rs, err, tn.Messages())
	}
	return rs[0]
}

// request returns the request with id as stored.
func (c *core) request(t *testing.T, id string) bot.Request {
	t.Helper()
	r, err := c.db.Request(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// outbox returns the markdown of the messages waiting in the outbox, by key, and empties it
// (as if they were sent).
func (c *core) outbox(t *testing.T) map[string]bot.Outgoing {
	t.Helper()
	ctx := context.Background()
	out, err := c.db.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]bot.Outgoing{}
	for _, o := range out {
		byKey[o.Key] = o
		if err := c.db.MarkSent(ctx, o.Key, c.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return byKey
}

// poll moves the clock past the next poll and runs the sweep, which polls.
func (c *core) poll(t *testing.T) {
	t.Helper()
	c.clock.Advance(time.Minute)
	if err := c.bot.Sweep(context.Background()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
}

// golden compares text with testdata/notices/name.md, or rewrites it with -update.
func golden(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join("testdata", "notices", name+".md")
	if *update {
		if err := os.WriteFile(path, []byte(text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden notice (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), text+"\n"); diff != "" {
		t.Errorf("notice %s (-golden +got):\n%s", name, diff)
	}
}

// partnerNotices returns the messages of out about request id to the partner's space, in
// key order, as one text.
func partnerNotices(out map[string]bot.Outgoing, id string) string {
	var keys []string
	for k, o := range out {
		if o.RequestID == id && o.Message.RoomID == partnerRoom {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	texts := make([]string, len(keys))
	for i, k := range keys {
		texts[i] = "<!-- " + strings.TrimPrefix(k, "req/"+id+"/") + " -->\n" + out[k].Message.Markdown
	}
	return strings.Join(texts, "\n\n")
}

// notice returns the one message of out keyed req/<id>/<what>.
func notice(t *testing.T, out map[string]bot.Outgoing, id, what string) string {
	t.Helper()
	o, ok := out["req/"+id+"/"+what]
	if !ok {
		keys := make([]string, 0, len(out))
		for k := range out {
			keys = append(keys, k)
		}
		t.Fatalf("no notice req/%s/%s; the outbox has %q", id, what, keys)
	}
	if o.RequestID != id {
		t.Errorf("notice %s: RequestID = %q, want %q", o.Key, o.RequestID, id)
	}
	return o.Message.Markdown
}
