package app_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The digests: a summary of the open requests sent to a space on its schedule, within Webex's
// message limit.

// statusDigests returns when the bot posted a digest in a room.
func (h *harness) statusDigests(roomID string) []time.Time {
	var got []time.Time
	for _, m := range h.statusTopLevel(roomID, "**Attach digest**") {
		got = append(got, m.Created)
	}
	return got
}

func TestStatusDigestSchedules(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	// start is Tuesday 24 November 2026, 09:00 UTC.
	day := func(d, hour int) time.Time { return time.Date(2026, 11, d, hour, 0, 0, 0, time.UTC) }
	tests := []struct {
		title     string
		command   string
		wantReply string
		want      []time.Time
	}{
		{"Weekdays", "digest on", "This space gets the attach digest weekdays at 08:00 UTC; the next one on Wed 25 Nov 2026, 08:00 UTC. `digest off` stops it.",
			[]time.Time{day(25, 8), day(26, 8), day(27, 8), day(30, 8), time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}},
		// Pasted no-break and ideographic spaces separate words as a space does.
		{"Mondays", "digest\u00a0on\u3000\"0 7 * * 1\"", "This space gets the attach digest Mondays at 07:00 UTC; the next one on Mon 30 Nov 2026, 07:00 UTC. `digest off` stops it.",
			[]time.Time{day(30, 7)}},
		{"Daily", "digest on @daily", "This space gets the attach digest every day at 00:00 UTC; the next one on Wed 25 Nov 2026, 00:00 UTC. `digest off` stops it.",
			[]time.Time{day(25, 0), day(26, 0), day(27, 0), day(28, 0), day(29, 0), day(30, 0), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}},
		{"Never", "", "", nil},
	}
	rooms := make([]string, len(tests))
	for i, tt := range tests {
		rooms[i] = h.statusAddRoom(tt.title)
		if tt.command == "" {
			continue
		}
		cmd := h.Say(webextest.AnnID, rooms[i], tt.command)
		if got := apptest.Joined(h.RepliesTo(cmd)); got != tt.wantReply {
			t.Errorf("%s: %s answered %q, want %q", tt.title, tt.command, got, tt.wantReply)
		}
	}

	// A week of the job, hourly, with a restart half way: the subscriptions are in the store.
	for hour := 1; hour <= 7*24; hour++ {
		h.Clock.Advance(time.Hour)
		h.MustSweep()
		if hour == 3*24 {
			h.CloseApp(h.App())
			h.StartApp()
		}
	}
	for i, tt := range tests {
		if diff := cmp.Diff(tt.want, h.statusDigests(rooms[i])); diff != "" {
			t.Errorf("%s: digest times (-want +got):\n%s", tt.title, diff)
		}
	}
}

func TestStatusDigestOff(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "digest on")
	h.Clock.Advance(24 * time.Hour) // Wednesday 09:00: one digest is due
	h.MustSweep()

	replies := func(text string) string {
		return apptest.Joined(h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, text)))
	}
	if got, want := replies("digest off"), "This space gets no more digests."; got != want {
		t.Errorf("digest off answered %q, want %q", got, want)
	}
	if got, want := replies("digest off"), "This space gets no digest. `digest on` starts one."; got != want {
		t.Errorf("a second digest off answered %q, want %q", got, want)
	}
	for range 7 {
		h.Clock.Advance(24 * time.Hour)
		h.MustSweep()
	}
	if got := len(h.statusDigests(webextest.PartnerSpaceID)); got != 1 {
		t.Errorf("got %d digests, want 1 (before digest off)", got)
	}
	for _, tt := range []struct{ line, want string }{
		{`digest on "every tuesday"`, "`every tuesday` is not a schedule I understand"},
		{`digest on "@every 1m"`, "would send a digest more often than hourly"},
		{`digest on "*/10 8 * * *"`, "would send a digest more often than hourly"},
		{`digest on "0 0 30 2 *"`, "`0 0 30 2 *` never comes round"},
		{`digest on "0 0 31 4,6 *"`, "never comes round"},
		{`digest on "0 8 29 2 *"`, "would send the next digest only on Tue 29 Feb 2028, 08:00 UTC, more than a year from now"},
		{`digest on "CRON_TZ=Europe/Oslo 0 8 * * *"`, "(UTC, such as"},
	} {
		if got := replies(tt.line); !strings.Contains(got, tt.want) {
			t.Errorf("%s answered %q, want %q in it", tt.line, got, tt.want)
		}
	}
	if got := len(h.statusDigests(webextest.PartnerSpaceID)); got != 1 {
		t.Errorf("got %d digests after refused schedules, want still 1", got)
	}
}

// statusDigestSections parses a digest into its sections' titles and the request ids listed
// under each.
func statusDigestSections(markdown string) map[string][]string {
	sections := map[string][]string{}
	title := ""
	header := regexp.MustCompile(`^\*\*(.+)\*\*: (\d+ requests?)$`)
	line := regexp.MustCompile(`^- \*\*([A-Z0-9]+)\*\* `)
	for l := range strings.SplitSeq(markdown, "\n") {
		if m := header.FindStringSubmatch(l); m != nil {
			title = m[1]
			sections[title] = []string{}
		} else if m := line.FindStringSubmatch(l); m != nil && title != "" {
			sections[title] = append(sections[title], m[1])
		}
	}
	return sections
}

func TestStatusDigestContents(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "digest on")
	if err := h.Sim.SetOutcome(webextest.SmallOrgID, webextest.StatusProvisioned, 96*time.Hour); err != nil {
		t.Fatal(err)
	}
	// A minute apart, so that newest first is a fixed order.
	attach := func(orgID, admin string) bot.Request {
		t.Helper()
		h.Clock.Advance(time.Minute)
		_, r := h.statusAttach(orgID, admin, "webex_meetings")
		return r
	}
	waiting := attach(webextest.BigOrgID, webextest.BigAdminEmail)
	slow := attach(webextest.SmallOrgID, webextest.SmallAdminEmail)
	done := attach(webextest.NoLicenseOrgID, webextest.NoLicenseAdminEmail)
	failed := attach(webextest.ErrorOrgID, webextest.ErrorAdminEmail)
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep() // done is provisioned and failed is error now

	const (
		waitingTitle  = "Waiting for the customer admin's approval"
		progressTitle = "In progress"
		finishedTitle = "Finished or failed since the last digest"
	)
	want := []map[string][]string{
		{waitingTitle: {waiting.ID}, progressTitle: {slow.ID}, finishedTitle: {failed.ID, done.ID}},
		{waitingTitle: {waiting.ID}, progressTitle: {slow.ID}, finishedTitle: {}},
	}
	// Wednesday and Thursday 08:00.
	for range 2 {
		h.Clock.Advance(24 * time.Hour)
		h.MustSweep()
	}
	msgs := h.statusTopLevel(webextest.PartnerSpaceID, "**Attach digest**")
	var got []map[string][]string
	for _, m := range msgs {
		got = append(got, statusDigestSections(m.Markdown))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the digests' sections (-want +got):\n%s", diff)
	}
	if len(msgs) == 2 {
		apptest.Says(t, "the second digest", msgs[1].Markdown, []string{"since " + statusFormatUTC(msgs[0].Created)}, nil)
	}
}

func TestStatusDigestStaysWithinWebexLimit(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "digest on")
	// Many requests of every kind, seeded in the store; none is due for a poll.
	seeded := map[bot.State][]string{} // newest first
	for i, s := range []struct {
		state bot.State
		n     int
	}{{bot.StateAwaitingApproval, 30}, {bot.StateProvisioning, 300}, {bot.StateError, 3}} {
		for j := s.n - 1; j >= 0; j-- {
			r := bot.Request{
				ID: fmt.Sprintf("D%d%03d", i, j), Source: "seed", State: s.state, RoomID: webextest.PartnerSpaceID,
				Created: apptest.Start.Add(time.Duration(j) * time.Second), Updated: apptest.Start.Add(time.Minute),
				ApprovalSent: apptest.Start, NextPoll: apptest.Start.Add(1000 * time.Hour),
				Spec: bot.AttachSpec{OrgID: webextest.SmallOrgID, AdminEmail: webextest.SmallAdminEmail, CustomerName: "Seeded Customer"},
			}
			if err := h.App().Store().CreateRequest(t.Context(), r, nil); err != nil {
				t.Fatal(err)
			}
			seeded[s.state] = append(seeded[s.state], r.ID)
		}
	}

	h.Clock.Advance(23 * time.Hour) // Wednesday 08:00
	h.MustSweep()

	parts := h.statusTopLevel(webextest.PartnerSpaceID, "")
	for _, p := range parts {
		if len(p.Markdown) > bot.MaxMessageBytes {
			t.Errorf("a digest message has %d bytes, more than Webex's %d", len(p.Markdown), bot.MaxMessageBytes)
		}
	}
	text := apptest.Joined(parts)
	want := map[string][]string{
		"Waiting for the customer admin's approval": seeded[bot.StateAwaitingApproval][:20],
		"In progress": seeded[bot.StateProvisioning][:20],
		"Finished or failed since the last digest": seeded[bot.StateError],
	}
	if diff := cmp.Diff(want, statusDigestSections(text)); diff != "" {
		t.Errorf("the digest's sections (-want +got):\n%s", diff)
	}
	apptest.Says(t, "the digest", text, []string{
		"**Waiting for the customer admin's approval**: 30 requests", "… and 10 more: `list approvals`",
		"**In progress**: 300 requests", "… and 280 more: `list pending`",
		"**Finished or failed since the last digest**: 3 requests",
	}, nil)
}
