// Tests of what a Client tells its Observer.

package webex_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"attachbot/webex"
)

// observed is one Observer call, as recordingObserver keeps it.
type observed struct {
	Kind, Method, Endpoint string
	Status                 int
	RetryAfter             time.Duration
}

// recordingObserver keeps what it is told.
type recordingObserver struct {
	mu   sync.Mutex
	seen []observed
}

func (o *recordingObserver) Call(method, endpoint string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, observed{Kind: "call", Method: method, Endpoint: endpoint, Status: status})
}

func (o *recordingObserver) RateLimited(method, endpoint string, retryAfter time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, observed{Kind: "429", Method: method, Endpoint: endpoint, RetryAfter: retryAfter})
}

func TestObserverSeesEveryAttemptAndEvery429(t *testing.T) {
	h, _ := refuseOnce(t, http.StatusTooManyRequests, "7", person1)
	obs := &recordingObserver{}
	c := newTestClient(t, h, webex.Options{Clock: newFakeClock(), Observer: obs})

	if _, err := c.Person(t.Context(), "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hYmM"); err != nil {
		t.Fatalf("Person: %v", err)
	}
	want := []observed{
		{Kind: "call", Method: "GET", Endpoint: "/people/{id}", Status: http.StatusTooManyRequests},
		{Kind: "429", Method: "GET", Endpoint: "/people/{id}", RetryAfter: 7 * time.Second},
		{Kind: "call", Method: "GET", Endpoint: "/people/{id}", Status: http.StatusOK},
	}
	if diff := cmp.Diff(want, obs.seen); diff != "" {
		t.Errorf("observed (-want +got):\n%s", diff)
	}
}
