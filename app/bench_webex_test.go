package app_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/webex/webextest"
)

// The drain benchmark runs the simulated Webex in a child process (this test binary run
// again with -bench-webex), so that the peak RSS it reports is attachbot's, not the
// simulator's, which keeps every message and call it saw. The child sets up the spaces and
// the `help` messages, prints them and its URL as one JSON line on its standard output,
// serves the simulated Webex on the loopback, answers the two control requests below, and
// ends when the parent closes its standard input.

// benchWebexFlag, when set to "events/spaces", makes the test binary serve the drain
// benchmark's simulated Webex instead of running tests (see TestMain).
var benchWebexFlag = flag.String("bench-webex", "", "serve the drain benchmark's simulated Webex with `events/spaces`, for a parent benchmark process (internal)")

// The child's control paths, beside the simulated Webex's own.
const (
	benchLatencyPath = "/_bench/latency" // POST ?latency=20ms: answer every call after it from now on
	benchReportPath  = "/_bench/report"  // GET: the calls since, the bot's replies per space, the CPU used
)

// benchWebexSetup is what the child prints when it is ready.
type benchWebexSetup struct {
	URL      string         `json:"url"`
	Rooms    []string       `json:"rooms"`
	Messages []benchMessage `json:"messages"` // in the order they were said
}

// benchMessage is a `help` said by Ann in a space, to be queued as an event.
type benchMessage struct {
	ID      string    `json:"id"`
	RoomID  string    `json:"roomId"`
	Created time.Time `json:"created"`
}

// benchWebexReport is the child's answer to benchReportPath.
type benchWebexReport struct {
	Calls   int            `json:"calls"`   // Webex calls since the latency was set
	Sends   int            `json:"sends"`   // of which POST /v1/messages: the outbox's
	Replies map[string]int `json:"replies"` // room id → messages the bot sent there
	// CPU is the CPU time (user and system) the child used since the latency was set.
	CPU time.Duration `json:"cpu"`
}

// serveBenchWebex is the child process: it returns the process's exit code.
func serveBenchWebex(spec string) int {
	var events, spaces int
	if _, err := fmt.Sscanf(spec, "%d/%d", &events, &spaces); err != nil || events < 0 || spaces <= 0 {
		fmt.Fprintf(os.Stderr, "-bench-webex=%q: want events/spaces, such as 2000/200\n", spec)
		return 2
	}
	sim := webextest.New(webextest.Options{})
	rooms, err := addBenchRooms(sim, spaces)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	setup := benchWebexSetup{Rooms: rooms, Messages: make([]benchMessage, events)}
	for i := range setup.Messages {
		msg, err := sim.Say(context.Background(), webextest.AnnID, rooms[i%spaces], "help")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		setup.Messages[i] = benchMessage{ID: msg.ID, RoomID: msg.RoomID, Created: msg.Created}
	}

	var (
		mu          sync.Mutex
		callsBefore int
		cpuBefore   time.Duration
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+benchLatencyPath, func(w http.ResponseWriter, r *http.Request) {
		latency, err := time.ParseDuration(r.URL.Query().Get("latency"))
		if err != nil || latency < 0 {
			http.Error(w, "want ?latency=20ms", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		callsBefore, cpuBefore = len(sim.Calls()), processCPU()
		sim.Inject(webextest.Fault{Latency: latency})
	})
	mux.HandleFunc("GET "+benchReportPath, func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		report := benchWebexReport{Replies: map[string]int{}, CPU: processCPU() - cpuBefore}
		calls := sim.Calls()[callsBefore:]
		report.Calls = len(calls)
		for _, c := range calls {
			if c.Method == http.MethodPost && c.Path == "/v1/messages" {
				report.Sends++
			}
		}
		for _, room := range rooms {
			for _, m := range sim.Messages(room) {
				if m.PersonID == webextest.BotID {
					report.Replies[room]++
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(report)
	})
	mux.Handle("/", sim)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	setup.URL = srv.URL
	if err := json.NewEncoder(os.Stdout).Encode(setup); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes it
	return 0
}

// benchWebex is the parent's side of the child process.
type benchWebex struct {
	benchWebexSetup
	client *http.Client
}

// startBenchWebex starts the child process with events `help` messages over spaces, and
// waits until it is ready. The child ends with the benchmark.
func startBenchWebex(tb testing.TB, events, spaces int) *benchWebex {
	tb.Helper()
	cmd := exec.Command(os.Args[0], fmt.Sprintf("-bench-webex=%d/%d", events, spaces))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the simulated Webex's process: %v", err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			tb.Errorf("the simulated Webex's process: %v", err)
		}
	})
	w := &benchWebex{client: &http.Client{Timeout: time.Minute}}
	if err := json.NewDecoder(stdout).Decode(&w.benchWebexSetup); err != nil {
		tb.Fatalf("read the simulated Webex's setup: %v", err)
	}
	return w
}

// setLatency makes the simulated Webex answer every call after latency from now on, and
// counts the calls and its CPU time from now on.
func (w *benchWebex) setLatency(tb testing.TB, latency time.Duration) {
	tb.Helper()
	resp, err := w.client.Post(w.URL+benchLatencyPath+"?latency="+latency.String(), "application/json", nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("set the latency: %s", resp.Status)
	}
}

// report returns the calls since setLatency, the bot's replies per space and the child's CPU
// time since.
func (w *benchWebex) report(tb testing.TB) benchWebexReport {
	tb.Helper()
	resp, err := w.client.Get(w.URL + benchReportPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var r benchWebexReport
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("read the report: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		tb.Fatalf("read the report: %v", err)
	}
	return r
}

// processCPU returns the CPU time (user and system) this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// addBenchRooms adds n group spaces with Ann and the bot in them.
func addBenchRooms(sim *webextest.Sim, n int) ([]string, error) {
	rooms := make([]string, n)
	for i := range rooms {
		r, err := sim.AddRoom(fmt.Sprintf("Bench space %03d", i), webextest.BotID, webextest.AnnID)
		if err != nil {
			return nil, err
		}
		rooms[i] = r.ID
	}
	return rooms, nil
}

// TestBenchWebexChild runs the drain benchmark's simulated Webex in its child process, as
// the benchmark does, on a small backlog: the setup it prints, and its report.
func TestBenchWebexChild(t *testing.T) {
	webhookOnly(t, "the child process serves no transport")
	w := startBenchWebex(t, 4, 2)
	if got, want := len(w.Rooms), 2; got != want {
		t.Fatalf("%d rooms, want %d", got, want)
	}
	var got []string
	for _, m := range w.Messages {
		got = append(got, m.RoomID)
	}
	if diff := cmp.Diff([]string{w.Rooms[0], w.Rooms[1], w.Rooms[0], w.Rooms[1]}, got); diff != "" {
		t.Errorf("the messages' spaces (-want +got):\n%s", diff)
	}
	w.setLatency(t, webexLatency)
	resp, err := http.Get(w.URL + "/v1/messages/" + w.Messages[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
		t.Errorf("a call without a token answered %d, want %d: the simulated Webex is served", got, want)
	}
	report := w.report(t)
	if report.CPU <= 0 {
		t.Errorf("the child reports %s of CPU time, want more than none", report.CPU)
	}
	report.CPU = 0
	if diff := cmp.Diff(benchWebexReport{Calls: 1, Replies: map[string]int{}}, report); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}
