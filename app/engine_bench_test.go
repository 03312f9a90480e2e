package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The engine's benchmarks: intake (intake_bench_test.go), draining a backlog of events and
// sending a backlog of messages (this file), each reported against its floor measured or
// computed in the same run. docs/benchmarks-engine.md gives the commands and the figures.
// With -short the drain and send benchmarks run smaller backlogs, for a quick look.

// webexLatency is how long the simulated Webex takes to answer every call in the drain and
// send benchmarks.
const webexLatency = 20 * time.Millisecond

// benchWorkers is the bot's event workers in the drain benchmark (WORKERS).
const benchWorkers = 16

// benchSendConcurrency is the send concurrency the send benchmark's floor assumes: the
// engine's SEND_CONCURRENCY default. An engine that sends one message at a time is measured
// against it all the same.
const benchSendConcurrency = 16

// onceOnly skips a benchmark in TestMain's websocket run: it builds its own attachbot,
// always over webhooks, so the second run would measure the same thing again.
func onceOnly(b *testing.B) {
	b.Helper()
	if transport != apptest.Webhook || storeOnPostgres {
		b.Skip("measured once, in the webhook run on bbolt")
	}
}

// newEngineBench builds (but does not start) attachbot as serve wires it: the real store in
// a temporary directory, the real Webex adapter over HTTP, the system clock, against a
// simulated Webex; no webhooks are kept (PUBLIC_URL is unset) and the cron job never fires.
func newEngineBench(tb testing.TB, sim *webextest.Sim, workers int) *app.App {
	tb.Helper()
	srv := httptest.NewServer(sim)
	tb.Cleanup(srv.Close)
	return newEngineBenchAt(tb, srv.URL, workers)
}

// newEngineBenchAt is newEngineBench against the simulated Webex at webexURL.
func newEngineBenchAt(tb testing.TB, webexURL string, workers int) *app.App {
	tb.Helper()
	return newBenchApp(tb, benchConfig(tb, webexURL), app.Wiring{Workers: workers})
}

// newBenchApp builds (but does not start) attachbot on cfg and w, logging nothing, and closes
// it when the benchmark ends.
func newBenchApp(tb testing.TB, cfg app.Config, w app.Wiring) *app.App {
	tb.Helper()
	a, err := app.New(tb.Context(), cfg, w, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			tb.Error(err)
		}
	})
	return a
}

// benchRooms adds n group spaces with Ann and the bot in them.
func benchRooms(tb testing.TB, sim *webextest.Sim, n int) []string {
	tb.Helper()
	rooms, err := addBenchRooms(sim, n)
	if err != nil {
		tb.Fatal(err)
	}
	return rooms
}

// settleWithin waits for the bot to finish everything queued, or fails after limit.
func settleWithin(tb testing.TB, a *app.App, limit time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := a.Bot().Settle(ctx); err != nil {
		tb.Fatalf("the bot did not settle within %s: %v", limit, err)
	}
}

// resetPeakRSS resets the kernel's peak resident set size of this process (VmHWM), so that
// peakRSS measures what follows; it reports whether the kernel allowed it.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the process's peak resident set size in MiB (VmHWM of /proc/self/status):
// attachbot and the benchmark around it (the simulated Webex runs in a process of its own).
func peakRSS(tb testing.TB) float64 {
	tb.Helper()
	return vmHWM(tb, "/proc/self/status")
}

// vmHWM returns the peak resident set size, in MiB, that a /proc/<pid>/status file tells.
func vmHWM(tb testing.TB, statusFile string) float64 {
	tb.Helper()
	status, err := os.ReadFile(statusFile)
	if err != nil {
		tb.Fatalf("read the peak RSS: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				tb.Fatalf("read the peak RSS from %q: %v", line, err)
			}
			return kib / 1024
		}
	}
	tb.Fatalf("no VmHWM in %s", statusFile)
	return 0
}

// BenchmarkDrain measures how long attachbot takes to process a backlog of `help` commands
// (events × the bot's Webex calls per event), queued in the inbox before it starts, from 200
// spaces, against a simulated Webex that answers every call after 20 ms: the wall time per
// event, and the ratio to the floor, events × Webex calls per event × 20 ms / workers. It
// reports the peak RSS of the benchmark process (VmHWM) too: attachbot's, since the
// simulated Webex runs in a child process (bench_webex_test.go). The PostgreSQL
// sub-benchmarks are in replicas_bench_test.go.
func BenchmarkDrain(b *testing.B) {
	onceOnly(b)
	sizes := []int{2_000, 20_000}
	if testing.Short() {
		sizes = []int{200, 2_000}
	}
	for _, events := range sizes {
		b.Run(fmt.Sprintf("events=%d", events), func(b *testing.B) {
			for range b.N {
				drainOnce(b, drainCase{events: events, latency: webexLatency, workers: benchWorkers}, func(webexURL string) ([]*app.App, []*replicaCalls) {
					return []*app.App{newEngineBenchAt(b, webexURL, benchWorkers)}, nil
				})
			}
		})
	}
	benchmarkDrainPostgres(b, sizes[0])
}

// drainCase is one drain: its backlog, how long Webex takes to answer each call, and the
// event workers of each attachbot.
type drainCase struct {
	events  int
	latency time.Duration
	workers int
	// postgres says that the attachbots use the package's PostgreSQL, whose CPU time is
	// then measured too.
	postgres bool
}

// drainOnce queues c.events help commands (timer stopped), then starts the attachbots build
// returns (one, or replicas sharing a store, with the counters of each one's Webex calls,
// or none) and times them until everything is answered. The floor counts every replica's
// workers. It reports the CPU time attachbot (this process), the simulated Webex and
// PostgreSQL (when the attachbots use the package's) used per event, and with counters, how
// the events were shared out.
func drainOnce(b *testing.B, c drainCase, build func(webexURL string) ([]*app.App, []*replicaCalls)) {
	const spaces = 200
	b.StopTimer()
	sim := startBenchWebex(b, c.events, spaces)
	apps, counters := build(sim.URL)
	a := apps[0]
	ctx := context.Background()
	queued := make([]bot.Event, len(sim.Messages))
	for i, msg := range sim.Messages {
		queued[i] = bot.Event{
			Key: bot.EventKey("messages", "created", msg.ID), Resource: "messages", Event: "created",
			DataID: msg.ID, ActorID: webextest.AnnID, RoomID: msg.RoomID, Created: msg.Created, Received: time.Now(),
		}
	}
	for batch := range slices.Chunk(queued, 1_000) {
		added, err := a.Store().AddEvents(ctx, batch)
		if err != nil || slices.Contains(added, false) {
			b.Fatalf("queue %d events: added %v, %v", len(batch), added, err)
		}
	}
	rooms := sim.Rooms
	queued, sim.Messages = nil, nil
	sim.setLatency(b, c.latency)
	debug.FreeOSMemory() // the setup's garbage is not attachbot's
	rssReset := resetPeakRSS()
	cpu := startCPUWatch(b, c.postgres)
	start := time.Now()
	b.StartTimer()

	for _, a := range apps {
		if err := a.Start(ctx); err != nil {
			b.Fatal(err)
		}
	}
	settleAllWithin(b, apps, time.Hour)

	b.StopTimer()
	wall := time.Since(start)
	used := cpu.stop(b)
	report := sim.report(b)
	calls := report.Calls - len(apps) // GET /people/me at each start
	for _, room := range rooms[:min(spaces, c.events)] {
		if got, want := report.Replies[room], c.events/spaces; got != want {
			b.Fatalf("space %s got %d replies, want %d", room, got, want)
		}
	}
	perEvent := float64(calls) / float64(c.events)
	floor := time.Duration(float64(c.events) * perEvent * float64(c.latency) / float64(c.workers*len(apps)))
	b.ReportMetric(wall.Seconds()*1e3/float64(c.events), "ms/event")
	b.ReportMetric(float64(c.events)/wall.Seconds(), "events/s")
	b.ReportMetric(perEvent, "webex-calls/event")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(wall.Seconds()/floor.Seconds(), "x-floor")
	// The least time Webex's latency alone allows, the workers' calls and the outbox's sends
	// (SEND_CONCURRENCY at once) going on side by side.
	latencyFloor := time.Duration(max(float64(calls-report.Sends)/float64(c.workers), float64(report.Sends)/benchSendConcurrency) *
		float64(c.latency) / float64(len(apps)))
	b.ReportMetric(latencyFloor.Seconds(), "latency-floor-s")
	b.ReportMetric(wall.Seconds()/latencyFloor.Seconds(), "x-latency-floor")
	used.webex = report.CPU
	used.report(b, c.events, wall)
	if counters != nil {
		reportShares(b, counters, c.events)
	}
	if rssReset {
		b.ReportMetric(peakRSS(b), "peak-RSS-MiB")
	} else {
		b.ReportMetric(peakRSS(b), "process-peak-RSS-MiB")
	}
}

// BenchmarkSend measures how long attachbot takes to send a backlog of 10,000 messages, 100
// spaces with 100 each, enqueued before it starts, against a simulated Webex that answers
// every call after 20 ms: the wall time, and its ratio to the floor, messages × 20 ms / send
// concurrency (benchSendConcurrency). The order of each space's messages is checked.
func BenchmarkSend(b *testing.B) {
	onceOnly(b)
	messages := 10_000
	if testing.Short() {
		messages = 1_000
	}
	b.Run(fmt.Sprintf("messages=%d", messages), func(b *testing.B) {
		for range b.N {
			sendOnce(b, messages)
		}
	})
}

// sendOnce enqueues messages over 100 spaces (timer stopped), then starts the bot and times
// it until the outbox is empty, and checks each space's order.
func sendOnce(b *testing.B, messages int) {
	const spaces = 100
	b.StopTimer()
	sim := webextest.New(webextest.Options{})
	rooms := benchRooms(b, sim, spaces)
	a := newEngineBench(b, sim, 0)
	ctx := context.Background()
	now := time.Now()
	out := make([]bot.Outgoing, messages)
	for i := range out {
		out[i] = bot.Outgoing{
			Key:     fmt.Sprintf("bench/%06d", i),
			Message: bot.OutMessage{RoomID: rooms[i%spaces], Markdown: fmt.Sprintf("message %06d", i)},
			Created: now,
		}
	}
	for batch := range slices.Chunk(out, 1_000) {
		if err := a.Store().Enqueue(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	sim.Inject(webextest.Fault{Latency: webexLatency})
	start := time.Now()
	b.StartTimer()

	if err := a.Start(ctx); err != nil {
		b.Fatal(err)
	}
	settleWithin(b, a, time.Hour)

	b.StopTimer()
	wall := time.Since(start)
	for _, room := range rooms {
		var got []string
		for _, m := range sim.Messages(room) {
			got = append(got, m.Text)
		}
		if len(got) != messages/spaces {
			b.Fatalf("space %s got %d messages, want %d", room, len(got), messages/spaces)
		}
		if !slices.IsSorted(got) {
			b.Fatalf("space %s got its messages out of order: %v", room, got)
		}
	}
	floor := time.Duration(messages) * webexLatency / benchSendConcurrency
	b.ReportMetric(wall.Seconds()*1e3/float64(messages), "ms/message")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(wall.Seconds()/floor.Seconds(), "x-floor")
}

// benchConfig is the configuration the benchmarks run attachbot with, against the simulated
// Webex at webexURL: Ann as the partner admin, one template, a store in a temporary
// directory, and a status job that never fires on its own.
func benchConfig(tb testing.TB, webexURL string) app.Config {
	tb.Helper()
	admins, err := bot.ParseAllowlist(webextest.AnnEmail)
	if err != nil {
		tb.Fatal(err)
	}
	return app.Config{
		WebexAPIURL:   webexURL + "/v1",
		BotToken:      webextest.DefaultBotToken,
		PartnerToken:  webextest.DefaultPartnerToken,
		WebhookSecret: "s3cret-for-benchmarks",
		DBPath:        filepath.Join(tb.TempDir(), "attachbot.db"),
		PartnerAdmins: admins,
		Templates:     []bot.Template{{Name: "Standard", ProvisioningID: "cHJvdmlzaW9uaW5nSWQtc3RhbmRhcmQ"}},
		PollSchedule:  statusNeverSchedule,
		ApprovalTTL:   bot.DefaultApprovalTTL,
		StuckAfter:    bot.DefaultStuckAfter,
	}
}
