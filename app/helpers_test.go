package app_test

import (
	"bytes"
	"sync"
	"testing"

	"attachbot/app/apptest"
)

// The end-to-end tests run attachbot through apptest (see its doc). harness adds to
// apptest.Harness the helpers of this package's tests, such as attach and approvalCard.
type harness struct{ *apptest.Harness }

// newHarness is apptest.New for this package's tests.
func newHarness(t *testing.T, opts apptest.Options) *harness {
	t.Helper()
	return &harness{apptest.New(t, opts)}
}

// syncBuffer is a bytes.Buffer safe for a logger and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
