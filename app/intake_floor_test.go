package app_test

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The intake benchmark's second floor: a receiver that does what the bare one does and, before
// it answers, makes the delivery durable the cheapest way there is: an append to a file whose
// space was written beforehand (so that a sync writes the appended data and never the file's
// size), synced by group commit (one sync for every append gathered while the previous sync
// ran). No store can acknowledge a delivery only once it is durable for less; what attachbot
// does beyond it is its inbox (a B+tree with its indexes, two syncs a commit) and its work.

// syncLogSpace is how much space a sync log writes at its creation: the appends of
// 20,000 deliveries fit several times over.
const syncLogSpace = 64 << 20

// syncLog is the durable floor's store: length-prefixed records written at increasing
// offsets of a file whose space is already written, synced by group commit.
type syncLog struct {
	file *os.File

	mu       sync.Mutex
	synced   *sync.Cond // broadcast when a sync ends
	pending  []byte     // the records appended since the last write
	spare    []byte     // the buffer of the last write, for reuse
	offset   int64      // where the next write goes
	appended uint64     // the records appended
	durable  uint64     // how many of them a sync covered
	syncing  bool       // a caller writes and syncs for the others
	err      error      // a write or sync failed: nothing is durable any more
}

// newSyncLog creates a sync log in dir and writes its space.
func newSyncLog(tb testing.TB, dir string) *syncLog {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "intake.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	if _, err := f.Write(make([]byte, syncLogSpace)); err != nil {
		tb.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		tb.Fatal(err)
	}
	l := &syncLog{file: f}
	l.synced = sync.NewCond(&l.mu)
	return l
}

// append writes rec and returns once a sync covered it: the caller that finds no sync
// running writes and syncs everything appended so far, the others wait for it.
func (l *syncLog) append(rec []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = binary.AppendUvarint(l.pending, uint64(len(rec)))
	l.pending = append(l.pending, rec...)
	l.appended++
	mine := l.appended
	for l.durable < mine && l.err == nil {
		if l.syncing {
			l.synced.Wait()
			continue
		}
		l.syncing = true
		buf, upto, at := l.pending, l.appended, l.offset
		l.pending, l.spare = l.spare[:0], nil
		l.offset += int64(len(buf))
		l.mu.Unlock()
		_, err := l.file.WriteAt(buf, at)
		if err == nil {
			err = syncData(l.file)
		}
		l.mu.Lock()
		l.syncing, l.spare = false, buf
		if err != nil {
			l.err = fmt.Errorf("sync the intake log: %w", err)
		} else {
			l.durable = upto
		}
		l.synced.Broadcast()
	}
	return l.err
}

// durableReceiver is the bare receiver that answers only once the delivery's bytes are in
// log and synced.
func durableReceiver(secret []byte, log *syncLog) http.Handler {
	return receiver(secret, func(body []byte) error { return log.append(body) })
}

// TestSyncLogKeepsEveryAppend checks the durable floor's log: concurrent appends, each
// answered once synced, are all in its file, each once, whole.
func TestSyncLogKeepsEveryAppend(t *testing.T) {
	dir := t.TempDir()
	l := newSyncLog(t, dir)
	const n = 500
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := l.append(fmt.Appendf(nil, "record %03d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	data, err := os.ReadFile(filepath.Join(dir, "intake.log"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for len(data) > 0 {
		size, k := binary.Uvarint(data)
		if k <= 0 || size == 0 {
			break // the space written at creation, never appended to
		}
		seen[string(data[k:k+int(size)])]++
		data = data[k+int(size):]
	}
	want := map[string]int{}
	for i := range n {
		want[fmt.Sprintf("record %03d", i)] = 1
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("records in the log (-want +got):\n%s", diff)
	}
}

// BenchmarkSyncLog measures the durable floor's unit of work alone, one delivery's bytes
// appended and synced at a time (no group): ns/op is a sync's wall time on this disk, and
// cpu-us/op the CPU time the process spent for it (on a virtual machine a sync can keep a
// processor busy for much of its wall time).
func BenchmarkSyncLog(b *testing.B) {
	onceOnly(b)
	l := newSyncLog(b, b.TempDir())
	bodies, _ := intakeBodies(1)
	cpu := processCPU()
	for b.Loop() {
		if err := l.append(bodies[0]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-us/op")
}
