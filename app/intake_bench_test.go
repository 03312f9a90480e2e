package app_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"attachbot/app"
	"attachbot/handlers"
	"attachbot/store"
	"attachbot/webex/webextest"
)

// intakeSenders is how many deliveries are in flight at once in the unpaced intake runs.
const intakeSenders = 32

// intakeRate is the paced intake runs' rate, in deliveries per second.
const intakeRate = 1_000

// intakeSecret signs the intake benchmark's deliveries.
const intakeSecret = "s3cret-for-benchmarks"

// intakeSeq makes every delivery's data.id fresh across runs, so that none is a redelivery.
var intakeSeq atomic.Int64

// bareReceiver is the intake floor: what any webhook receiver must do (read the body, check
// its HMAC, parse the JSON) and nothing else.
func bareReceiver(secret []byte) http.Handler { return receiver(secret, nil) }

// receiver reads a delivery's body, checks its HMAC and parses the JSON, then, unless keep is
// nil, hands the body to keep, and answers 200 when all went well.
func receiver(secret []byte, keep func(body []byte) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, handlers.MaxWebhookBody))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		mac := hmac.New(sha1.New, secret)
		mac.Write(body)
		got, err := hex.DecodeString(r.Header.Get("X-Spark-Signature"))
		if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var env struct {
			Resource string `json:"resource"`
			Event    string `json:"event"`
			Data     struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Data.ID == "" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if keep != nil {
			if err := keep(body); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.WriteHeader(http.StatusOK)
	})
}

// intakeBodies returns n signed messages/created deliveries, each with a fresh data.id, about
// messages in no space (the bot finds none of them at Webex, and tells no one).
func intakeBodies(n int) ([][]byte, []string) {
	bodies, sigs := make([][]byte, n), make([]string, n)
	created := time.Now().UTC().Format(time.RFC3339Nano)
	for i := range bodies {
		id := fmt.Sprintf("bench-intake-%09d", intakeSeq.Add(1))
		bodies[i] = fmt.Appendf(nil, `{"id":"hook","name":"attachbot","resource":"messages","event":"created","actorId":%q,"data":{"id":%q,"personId":%q,"created":%q}}`,
			webextest.AnnID, id, webextest.AnnID, created)
		sigs[i] = handlers.Sign([]byte(intakeSecret), bodies[i])
	}
	return bodies, sigs
}

// intakeRun posts the deliveries to url and returns each one's acknowledgement latency and
// the wall time. Unpaced, intakeSenders post at once as fast as they are answered; paced,
// one delivery starts every 1/intakeRate s, whatever is still in flight.
func intakeRun(b *testing.B, client *http.Client, url string, bodies [][]byte, sigs []string, paced bool) ([]time.Duration, time.Duration) {
	latencies := make([]time.Duration, len(bodies))
	var failed atomic.Value
	post := func(i int) {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(bodies[i]))
		if err != nil {
			failed.Store(err)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Spark-Signature", sigs[i])
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			failed.Store(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		latencies[i] = time.Since(start)
		if resp.StatusCode != http.StatusOK {
			failed.Store(fmt.Errorf("delivery %d answered %d", i, resp.StatusCode))
		}
	}
	var wg sync.WaitGroup
	start := time.Now()
	if paced {
		tick := time.NewTicker(time.Second / intakeRate)
		for i := range bodies {
			wg.Go(func() { post(i) })
			<-tick.C
		}
		tick.Stop()
	} else {
		next := atomic.Int64{}
		for range intakeSenders {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(bodies); i = int(next.Add(1) - 1) {
					post(i)
				}
			})
		}
	}
	wg.Wait()
	wall := time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return latencies, wall
}

// p99 returns the 99th percentile of ds.
func p99(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*99/100)]
}

// BenchmarkIntake measures signed messages/created deliveries acknowledged by attachbot's
// real handler (the real store on disk; the bot started, its workers taking the events up
// against a simulated Webex that answers at once) against two floors measured in the same
// run with deliveries of the same form, all over HTTP on the loopback: a bare receiver that
// checks the HMAC and parses the JSON, and a durable one that also makes each delivery
// durable before answering, the cheapest way known (intake_floor_test.go):
//   - senders=32: 32 concurrent senders, as fast as they are answered: ns/op is attachbot's
//     time per delivery; deliveries/s for each side (bare-, durable-), the ratio to the bare
//     receiver's, durable-ratio (the durable floor's to the bare one's) and
//     ratio-to-durable; on bbolt, writes/commit, the mean number of writes (one per
//     delivery, and the workers') each of the store's transactions held;
//   - both: cpu-us/op for each side, the process's CPU time per delivery while it was
//     measured (a figure the other processes' load changes less than the rates), and each
//     side's p99 acknowledgement latency;
//   - paced=1000/s: one delivery every millisecond.
func BenchmarkIntake(b *testing.B) {
	onceOnly(b)
	for _, paced := range []bool{false, true} {
		name := fmt.Sprintf("senders=%d", intakeSenders)
		if paced {
			name = fmt.Sprintf("paced=%d/s", intakeRate)
		}
		b.Run(name, func(b *testing.B) {
			intakeBench(b, paced, func(sim *webextest.Sim) []*app.App { return []*app.App{newEngineBench(b, sim, 0)} })
		})
	}
	// On PostgreSQL, one replica and three sharing the database behind a round-robin
	// balancer (replicas_bench_test.go).
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("postgres/replicas=%d/senders=%d", replicas, intakeSenders), func(b *testing.B) {
			url := benchDatabase(b)
			intakeBench(b, false, func(sim *webextest.Sim) []*app.App {
				srv := httptest.NewServer(sim)
				b.Cleanup(srv.Close)
				apps, _ := newReplicasBench(b, srv.URL, url, replicas, 0)
				return apps
			})
		})
	}
}

// intakeBench measures b.N deliveries to the attachbots build returns (started, behind a
// round-robin balancer when several) and as many to each of the two floors (the bare
// receiver, and the durable one of intake_floor_test.go), the three taking turns, and
// reports all three.
func intakeBench(b *testing.B, paced bool, build func(sim *webextest.Sim) []*app.App) {
	b.StopTimer()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * intakeSenders, MaxConnsPerHost: 0}}
	defer client.CloseIdleConnections()
	bare := httptest.NewServer(bareReceiver([]byte(intakeSecret)))
	defer bare.Close()
	durable := httptest.NewServer(durableReceiver([]byte(intakeSecret), newSyncLog(b, b.TempDir())))
	defer durable.Close()
	balancer := &roundRobin{}
	var onDisk *store.DB // the store on disk, when there is one attachbot on bbolt
	apps := build(webextest.New(webextest.Options{}))
	for _, a := range apps {
		if err := a.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		balancer.handlers = append(balancer.handlers, a.Handler())
		onDisk, _ = a.Store().(*store.DB)
	}
	real := httptest.NewServer(balancer)
	defer real.Close()

	// The three sides take turns, each sending a share of b.N deliveries a turn, so that a
	// change in the machine's load weighs on all three alike; after each of attachbot's turns
	// its workers finish the events it took, so that none of its work falls in a floor's turn.
	var floor, durableFloor, got intakeFigures
	var commits store.CommitCounts // attachbot's transactions during its turns
	for turn := range intakeTurns {
		n := b.N / intakeTurns
		if turn == intakeTurns-1 {
			n = b.N - n*(intakeTurns-1)
		}
		floor.add(intakeMeasure(b, client, bare.URL, n, paced))
		durableFloor.add(intakeMeasure(b, client, durable.URL, n, paced))
		var before store.CommitCounts
		if onDisk != nil {
			before = onDisk.CommitCounts()
		}
		b.StartTimer()
		got.add(intakeMeasure(b, client, real.URL, n, paced))
		b.StopTimer()
		if onDisk != nil {
			after := onDisk.CommitCounts()
			commits.Commits += after.Commits - before.Commits
			commits.Writes += after.Writes - before.Writes
		}
		for _, a := range apps {
			if err := a.Bot().Settle(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if commits.Commits > 0 {
		// The writes of the deliveries and of the workers, per bbolt transaction (two
		// fsyncs each) during attachbot's turns.
		b.ReportMetric(float64(commits.Writes)/float64(commits.Commits), "writes/commit")
	}

	for _, side := range []struct {
		prefix string
		f      intakeFigures
	}{{"", got}, {"bare-", floor}, {"durable-", durableFloor}} {
		b.ReportMetric(float64(side.f.cpu.Microseconds())/float64(b.N), side.prefix+"cpu-us/op")
		b.ReportMetric(float64(p99(side.f.latencies).Microseconds())/1e3, side.prefix+"p99-ms")
		if !paced {
			b.ReportMetric(side.f.rate(), side.prefix+"deliveries/s")
		}
	}
	if !paced {
		b.ReportMetric(got.rate()/floor.rate(), "ratio")
		b.ReportMetric(durableFloor.rate()/floor.rate(), "durable-ratio")
		b.ReportMetric(got.rate()/durableFloor.rate(), "ratio-to-durable")
	}
}

// intakeTurns is how many turns each side of the intake benchmark takes (intakeBench).
const intakeTurns = 4

// intakeFigures is what one side of the intake benchmark measured, over its turns.
type intakeFigures struct {
	latencies []time.Duration // each delivery's, from its sending to its answer
	wall      time.Duration   // from the first sending to the last answer, summed over the turns
	cpu       time.Duration   // the process's CPU time meanwhile
}

// add counts another turn's figures in f.
func (f *intakeFigures) add(turn intakeFigures) {
	f.latencies = append(f.latencies, turn.latencies...)
	f.wall += turn.wall
	f.cpu += turn.cpu
}

// rate returns the deliveries acknowledged per second.
func (f intakeFigures) rate() float64 { return float64(len(f.latencies)) / f.wall.Seconds() }

// intakeMeasure sends n fresh deliveries to the receiver at base and returns its figures.
func intakeMeasure(b *testing.B, client *http.Client, base string, n int, paced bool) intakeFigures {
	bodies, sigs := intakeBodies(n)
	cpu := processCPU()
	latencies, wall := intakeRun(b, client, base+"/webhook", bodies, sigs, paced)
	return intakeFigures{latencies: latencies, wall: wall, cpu: processCPU() - cpu}
}
