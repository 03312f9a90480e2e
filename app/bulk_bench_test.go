package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/webex/webextest"
)

// The bulk check's benchmark: `check` with a CSV file of 1,000 rows, each naming an
// organization of its own, against a simulated Webex that answers every call after 50 ms.
// attachbot runs as its own process (the binary `go build` makes, started as `attachbot
// serve` with webhooks), so that its peak RSS is attachbot's alone, without the simulated
// Webex, its 37,500 people or the benchmark. docs/bulk.md gives the command and the figures.

// bulkLatency is how long the simulated Webex takes to answer every call in the bulk
// benchmark.
const bulkLatency = 50 * time.Millisecond

// BenchmarkCheckFile measures `check` with a CSV file attached, from the partner admin's
// message to the bot's answer file: the wall time, and its ratio to the floor of the Webex
// calls it made (counted by the simulated Webex), calls × 50 ms / bot.BulkCheckConcurrency;
// and the peak RSS of the attachbot process (VmHWM of /proc/<pid>/status, over its whole
// life: start, the check, the answer). With -short the file has 100 rows.
func BenchmarkCheckFile(b *testing.B) {
	onceOnly(b)
	goTool, err := exec.LookPath("go")
	if err != nil {
		b.Skip("no go tool on PATH to build attachbot with")
	}
	binary := filepath.Join(b.TempDir(), "attachbot")
	build := exec.Command(goTool, "build", "-o", binary, "attachbot")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build attachbot: %v\n%s", err, out)
	}
	rows := 1_000
	if testing.Short() {
		rows = 100
	}
	b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
		for range b.N {
			checkFileOnce(b, binary, rows)
		}
	})
}

// bulkBenchOrgs adds n organizations to the simulated Webex and returns the CSV file that
// names them and the verdicts the check must give: every tenth has 150 users (the customer
// admin's approval), every 50th from the 7th is a trial and every 100th from the 33rd is a
// wholesale customer already (refused by the precheck and the customer list), the others
// attach automatically.
func bulkBenchOrgs(tb testing.TB, sim *webextest.Sim, n int) ([]byte, map[string]int) {
	tb.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"org", "admin", "template", "packages", "name", "street", "city", "zip", "country", "verified-domain", "claimed-domain", "trial"})
	want := map[string]int{}
	for i := range n {
		o := webextest.Org{
			Name:       fmt.Sprintf("Bulk Customer %04d", i),
			AdminEmail: fmt.Sprintf("admin@bulk%04d.example", i),
			Users:      5 + i%40,
			Licenses:   []webextest.License{{Name: "Messaging", TotalUnits: 50, ConsumedUnits: 5}},
			Readable:   true,
		}
		verdict := string(bot.BulkAutomatic)
		switch {
		case i%100 == 33:
			o.Existing = &webextest.ExistingCustomer{ExternalID: fmt.Sprintf("ext-%04d", i), Packages: []string{"webex_meetings"}}
			verdict = string(bot.BulkRefused)
		case i%50 == 7:
			o.Trial = true
			verdict = string(bot.BulkRefused)
		case i%10 == 0:
			o.Users = 150
			verdict = string(bot.BulkApproval)
		}
		want[verdict]++
		org, err := sim.AddOrg(o)
		if err != nil {
			tb.Fatal(err)
		}
		_ = w.Write([]string{org.ID, o.AdminEmail, "Standard", "webex_meetings", o.Name,
			fmt.Sprintf("Storgata %d", i+1), "Oslo", "0155", "NO", "no", "no", "no"})
	}
	w.Flush()
	return buf.Bytes(), want
}

// checkFileOnce starts attachbot against a simulated Webex with rows organizations (timer
// stopped), then times `check` with their file until the bot's answer file is posted.
func checkFileOnce(b *testing.B, binary string, rows int) {
	b.StopTimer()
	sim := webextest.New(webextest.Options{})
	file, want := bulkBenchOrgs(b, sim, rows)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	child := startAttachbot(b, binary, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if err := sim.WaitFor(ctx, func() bool { return len(sim.Webhooks()) == 2 }); err != nil {
		b.Fatalf("attachbot did not register its webhooks: %v\n%s", err, child.stderr.String())
	}
	sim.Inject(webextest.Fault{Latency: bulkLatency})
	callsBefore := len(sim.Calls())
	start := time.Now()
	b.StartTimer()

	cmd, err := sim.SayFile(ctx, webextest.AnnID, webextest.PartnerSpaceID, "check", webextest.File{Name: "orgs.csv", ContentType: "text/csv", Data: file})
	if err != nil {
		b.Fatal(err)
	}
	var answer webextest.Message
	err = sim.WaitFor(ctx, func() bool {
		for _, m := range sim.Messages(webextest.PartnerSpaceID) {
			if m.PersonID == webextest.BotID && m.ParentID == cmd.ID && len(m.Files) > 0 {
				answer = m
				return true
			}
		}
		return false
	})

	b.StopTimer()
	wall := time.Since(start)
	if err != nil {
		b.Fatalf("no answer file: %v\n%s", err, child.stderr.String())
	}
	peak := child.peakRSS(b)
	child.stop(b)
	calls := sim.Calls()[callsBefore:]
	partnerCalls := 0
	for _, c := range calls {
		if c.Identity == webextest.IdentityPartner {
			partnerCalls++
		}
	}
	f, ok := sim.FileContent(answer.Files[0])
	if !ok {
		b.Fatal("the answer file is not stored")
	}
	got := map[string]int{}
	for _, v := range apptest.CSVColumn(b, apptest.ParseCSV(b, f.Data), "verdict") {
		got[v]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		b.Fatalf("the answer file's verdicts = %v, want %v", got, want)
	}
	floor := time.Duration(len(calls)) * bulkLatency / bot.BulkCheckConcurrency
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(floor.Seconds(), "floor-s")
	b.ReportMetric(wall.Seconds()/floor.Seconds(), "x-floor")
	b.ReportMetric(float64(len(calls)), "webex-calls")
	b.ReportMetric(float64(partnerCalls), "partner-calls")
	b.ReportMetric(peak, "attachbot-peak-RSS-MiB")
}

// attachbotProcess is attachbot running as its own process.
type attachbotProcess struct {
	cmd    *exec.Cmd
	stderr *apptest.SyncBuffer
}

// startAttachbot runs `attachbot serve` against the simulated Webex at webexURL, with
// webhooks to a free loopback port, Ann as the partner admin and a store in a temporary
// directory; the process is stopped when the benchmark ends, if stop was not called before.
func startAttachbot(tb testing.TB, binary, webexURL string) *attachbotProcess {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		tb.Fatal(err)
	}
	p := &attachbotProcess{cmd: exec.Command(binary, "serve"), stderr: &apptest.SyncBuffer{}}
	p.cmd.Env = []string{
		"WEBEX_API_URL=" + webexURL + "/v1",
		"WEBEX_BOT_TOKEN=" + webextest.DefaultBotToken,
		"WEBEX_PARTNER_TOKEN=" + webextest.DefaultPartnerToken,
		"EVENTS=webhook",
		"PUBLIC_URL=http://" + addr,
		"WEBHOOK_SECRET=s3cret-for-benchmarks",
		"LISTEN_ADDR=" + addr,
		"DB_PATH=" + filepath.Join(tb.TempDir(), "attachbot.db"),
		"PARTNER_ADMINS=" + webextest.AnnEmail,
		"TEMPLATES=" + webextest.Templates,
		"POLL_SCHEDULE=" + statusNeverSchedule,
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start attachbot: %v", err)
	}
	tb.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.stop(tb)
		}
	})
	return p
}

// peakRSS returns the process's peak resident set size in MiB (VmHWM).
func (p *attachbotProcess) peakRSS(tb testing.TB) float64 {
	tb.Helper()
	return vmHWM(tb, fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
}

// stop ends the process as a service manager does (SIGTERM) and waits for it.
func (p *attachbotProcess) stop(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Errorf("stop attachbot: %v", err)
	}
	if err := p.cmd.Wait(); err != nil {
		tb.Errorf("attachbot stopped with %v\n%s", err, p.stderr.String())
	}
}
