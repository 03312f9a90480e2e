package webextest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"attachbot/webex/webextest"

	"github.com/google/go-cmp/cmp"
)

func TestFaults(t *testing.T) {
	type step struct {
		method, path string
		want         int
	}
	tests := []struct {
		name  string
		fault webextest.Fault
		steps []step
	}{
		{
			name:  "429 once",
			fault: webextest.Fault{Method: "POST", Path: "/v1/messages", Status: 429, RetryAfter: 1, Times: 1},
			steps: []step{{"POST", "/v1/messages", 429}, {"POST", "/v1/messages/", 200}},
		},
		{
			name:  "exact path spares other paths and methods",
			fault: webextest.Fault{Method: "POST", Path: "/v1/messages", Status: 503},
			steps: []step{{"GET", "/v1/people/me", 200}, {"POST", "/v1/messages", 503}, {"POST", "/v1/messages", 503}},
		},
		{
			name:  "prefix pattern",
			fault: webextest.Fault{Path: "/v1/wholesale/*", Status: 500, Times: 2},
			steps: []step{
				{"GET", "/v1/wholesale/customers", 500}, {"POST", "/v1/wholesale/customers/validate", 500},
				{"GET", "/v1/wholesale/customers", 200}, {"GET", "/v1/people/me", 200},
			},
		},
		{
			name:  "a room's fault fails that room's messages",
			fault: webextest.Fault{Method: "POST", Path: "/v1/messages", RoomID: webextest.PartnerSpaceID, Status: 503},
			steps: []step{{"POST", "/v1/messages", 503}, {"GET", "/v1/people/me", 200}},
		},
		{
			name:  "another room's fault spares this room",
			fault: webextest.Fault{Method: "POST", Path: "/v1/messages", RoomID: "another-room", Status: 503},
			steps: []step{{"POST", "/v1/messages", 200}},
		},
		{
			name:  "short latency only delays",
			fault: webextest.Fault{Path: "/v1/people/me", Latency: 10 * time.Millisecond},
			steps: []step{{"GET", "/v1/people/me", 200}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, webextest.Options{})
			e.sim.Inject(tc.fault)
			for i, s := range tc.steps {
				var b any
				token := webextest.DefaultPartnerToken
				switch s.path {
				case "/v1/messages", "/v1/messages/":
					b, token = body{"roomId": webextest.PartnerSpaceID, "text": "hi"}, webextest.DefaultBotToken
				case "/v1/wholesale/customers/validate":
					b = attachBody(webextest.SmallOrgID, "ext-f")
				}
				a := e.call(t, token, s.method, s.path, b)
				if a.status != s.want {
					t.Fatalf("step %d: %s %s = %d %s, want %d", i, s.method, s.path, a.status, a.body, s.want)
				}
				if a.status == 429 {
					if got := a.header.Get("Retry-After"); got != "1" {
						t.Errorf("Retry-After = %q, want 1", got)
					}
					if got := decode[webexError](t, a); got.Message == "" || got.TrackingID == "" {
						t.Errorf("429 body = %s, want Webex's error shape", a.body)
					}
				}
			}
		})
	}
}

func TestFaultFailedRequestChangesNothing(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	e.sim.Inject(webextest.Fault{Method: "POST", Path: "/v1/wholesale/customers", Status: 503, Times: 1})
	if a := e.call(t, webextest.DefaultPartnerToken, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-1")); a.status != 503 {
		t.Fatalf("POST = %d, want 503", a.status)
	}
	if n := len(e.sim.Customers()); n != 1 {
		t.Errorf("customers after a 503 = %d, want only the seeded one", n)
	}
}

func TestFaultAfterApply(t *testing.T) {
	e := newEnv(t, webextest.Options{})
	e.sim.Inject(webextest.Fault{Method: "POST", Path: "/v1/wholesale/customers", AfterApply: true, Times: 1})
	a := e.call(t, webextest.DefaultPartnerToken, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-timeout"))
	if a.status != 504 {
		t.Fatalf("POST = %d %s, want 504", a.status, a.body)
	}
	var externalIDs []string
	for _, c := range e.sim.Customers() {
		externalIDs = append(externalIDs, c.ExternalID)
	}
	if diff := cmp.Diff([]string{webextest.ExistingExternalID, "ext-timeout"}, externalIDs); diff != "" {
		t.Errorf("customers after a 504 that applied (-want +got):\n%s", diff)
	}
	// Retrying blindly now conflicts: Webex did act.
	if a := e.call(t, webextest.DefaultPartnerToken, "POST", "/v1/wholesale/customers", attachBody(webextest.SmallOrgID, "ext-timeout")); a.status != 409 {
		t.Errorf("retried POST = %d, want 409", a.status)
	}
	calls := e.sim.CallsTo("POST", "/v1/wholesale/customers")
	if len(calls) != 2 || calls[0].Status != 504 || calls[1].Status != 409 {
		t.Errorf("recorded calls = %+v, want 504 then 409", calls)
	}
}

func TestFaultHangsUntilTheClientGivesUp(t *testing.T) {
	tests := []struct {
		name        string
		fault       webextest.Fault
		wantApplied bool
	}{
		{"hang after apply", webextest.Fault{Method: "POST", Path: "/v1/messages", AfterApply: true, Hang: true}, true},
		{"latency before apply", webextest.Fault{Method: "POST", Path: "/v1/messages", Latency: time.Minute}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, webextest.Options{})
			e.sim.Inject(tc.fault)
			// The client gives up once the fault has taken effect: as soon as the message
			// exists when Webex acts first, else after a second (the minute's latency means
			// no answer comes before).
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if tc.wantApplied {
				created, cancelCreated := context.WithCancel(context.Background())
				defer cancelCreated()
				ctx = created
				go func() {
					defer cancelCreated()
					wait, cancelWait := context.WithTimeout(created, 10*time.Second)
					defer cancelWait()
					_ = e.sim.WaitFor(wait, func() bool { return len(e.sim.Messages(webextest.PartnerSpaceID)) == 1 })
				}()
			}
			raw, err := json.Marshal(body{"roomId": webextest.PartnerSpaceID, "text": "hi"})
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/messages", bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+webextest.DefaultBotToken)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := e.srv.Client().Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("POST answered %d, want the client to time out", resp.StatusCode)
			}
			// The handler notices the client is gone and records the call without a status.
			wait, cancelWait := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancelWait()
			if err := e.sim.WaitFor(wait, func() bool { return e.sim.CountCalls("POST", "/v1/messages") == 1 }); err != nil {
				t.Fatalf("waiting for the call to be recorded: %v", err)
			}
			if got := e.sim.Calls()[0].Status; got != 0 {
				t.Errorf("recorded status = %d, want 0 (no answer)", got)
			}
			if got := len(e.sim.Messages(webextest.PartnerSpaceID)) == 1; got != tc.wantApplied {
				t.Errorf("message created = %v, want %v", got, tc.wantApplied)
			}
		})
	}
}
