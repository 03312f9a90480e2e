package app_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"attachbot/app/apptest"
	"attachbot/webex/webextest"
)

// GET /metrics after an automatic attach end to end, its provisioning polled to the end and
// a forged delivery refused: every family an operator relies on is there, with its labels and
// the figures the run implies.
func TestMetricsAfterAnAttach(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	_, r := h.statusAttach(webextest.SmallOrgID, webextest.SmallAdminEmail, "webex_meetings")
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()
	h.Settle()

	webhooks := transport == apptest.Webhook // over the websocket, no delivery comes to /webhook
	if webhooks {
		forged, err := http.Post(h.BotURL+"/webhook", "application/json", strings.NewReader(`{"resource":"messages","event":"created","data":{"id":"x"}}`))
		if err != nil {
			t.Fatal(err)
		}
		forged.Body.Close()
	}

	got := scrape(t, h.BotURL+"/metrics")
	exact := map[string]float64{
		`attachbot_provisionings_total{outcome="submitted"}`:                                                          1,
		`attachbot_provisionings_total{outcome="provisioned"}`:                                                        1,
		`attachbot_webex_calls_total{endpoint="/wholesale/customers",method="POST",status="202",token="partner"}`:     1,
		`attachbot_webex_calls_total{endpoint="/wholesale/customers/{id}",method="GET",status="200",token="partner"}`: 1,
		`attachbot_queue_depth{queue="inbox"}`:                                                                        0,
		`attachbot_queue_depth{queue="outbox"}`:                                                                       0,
		`attachbot_queue_depth{queue="polls_due"}`:                                                                    0,
		`attachbot_queue_oldest_age_seconds{queue="inbox"}`:                                                           0,
	}
	for series, want := range exact {
		v, ok := got[series]
		if !ok {
			t.Errorf("no series %s", series)
			continue
		}
		if v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	if webhooks {
		exact[`attachbot_webhook_deliveries_total{outcome="refused",reason="bad_signature"}`] = 1
	}
	atLeastOne := []string{
		`attachbot_webex_calls_total{endpoint="/messages/{id}",method="GET",status="200",token="bot"}`,
		`attachbot_webex_calls_total{endpoint="/messages",method="POST",status="200",token="bot"}`,
		`attachbot_webex_call_duration_seconds_count{endpoint="/messages",method="POST",token="bot"}`,
		`attachbot_outbox_send_duration_seconds_count{result="ok"}`,
		`go_goroutines`,
	}
	if webhooks {
		atLeastOne = append(atLeastOne, `attachbot_webhook_deliveries_total{outcome="accepted",reason="acknowledged"}`)
		if _, ok := got[`attachbot_transport_connected{transport="websocket"}`]; ok {
			t.Errorf("a websocket's state is shown where events come as webhooks")
		}
	} else {
		// Over the websocket, its state: connected, since when, and the events it brought.
		atLeastOne = append(atLeastOne, `attachbot_transport_connected{transport="websocket"}`,
			`attachbot_transport_state_since_timestamp_seconds{transport="websocket"}`,
			`attachbot_transport_last_event_timestamp_seconds{transport="websocket"}`)
		if v, ok := got[`attachbot_transport_failures{transport="websocket"}`]; !ok || v != 0 {
			t.Errorf("attachbot_transport_failures = %v (present %v), want 0", v, ok)
		}
	}
	for _, series := range atLeastOne {
		if got[series] < 1 {
			t.Errorf("%s = %v, want at least 1", series, got[series])
		}
	}
	if _, ok := got[`attachbot_webex_rate_limited_total{endpoint="/messages",method="POST",token="bot"}`]; ok {
		t.Errorf("a 429 is counted where Webex sent none")
	}
	// No id is a label: the endpoints are templates.
	for series := range got {
		for _, id := range []string{r.CustomerID, webextest.SmallOrgID, webextest.PartnerSpaceID} {
			if strings.Contains(series, id) {
				t.Errorf("series %s names the id %s", series, id)
			}
		}
	}
}

// A 429 from Webex is counted, by endpoint, and so is the call it answered.
func TestMetricsCountRateLimits(t *testing.T) {
	h := newHarness(t, apptest.Options{})
	h.Sim.Inject(webextest.Fault{Method: http.MethodGet, Path: "/v1/messages/*", Status: http.StatusTooManyRequests, RetryAfter: 2, Times: 1})
	h.Say(webextest.AnnID, webextest.PartnerSpaceID, "help")

	got := scrape(t, h.BotURL+"/metrics")
	want := map[string]float64{
		`attachbot_webex_rate_limited_total{endpoint="/messages/{id}",method="GET",token="bot"}`:       1,
		`attachbot_webex_calls_total{endpoint="/messages/{id}",method="GET",status="429",token="bot"}`: 1,
		`attachbot_webex_calls_total{endpoint="/messages/{id}",method="GET",status="200",token="bot"}`: 1,
	}
	for series, w := range want {
		if diff := cmp.Diff(w, got[series]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", series, diff)
		}
	}
}

// Every refused delivery is counted by its reason, and a redelivery is acknowledged (it is
// counted as accepted: the bot stores it once).
func TestMetricsCountDeliveriesByReason(t *testing.T) {
	webhookOnly(t, "it counts the deliveries to /webhook")
	h := newHarness(t, apptest.Options{})
	secret := h.Cfg.WebhookSecret
	deliveries := []struct {
		secret string
		body   string
	}{
		{"wrong-secret-for-this-test", `{"resource":"messages","event":"created","data":{"id":"m1"}}`},
		{"", `{"resource":"messages","event":"created","data":{"id":"m1"}}`},
		{secret, `not json`},
		{secret, `{"resource":"messages","event":"created","data":{}}`},
		{secret, `{"resource":"messages","event":"created","data":{"id":"` + strings.Repeat("x", 1<<20) + `"}}`},
		{secret, `{"resource":"memberships","event":"created","data":{"id":"m2"}}`},
		{secret, `{"resource":"memberships","event":"created","data":{"id":"m2"}}`},
	}
	for _, d := range deliveries {
		if _, err := h.Sim.SendSigned(t.Context(), h.BotURL+"/webhook", d.secret, []byte(d.body)); err != nil {
			t.Fatal(err)
		}
	}
	h.Settle()

	got := scrape(t, h.BotURL+"/metrics")
	want := map[string]float64{
		`attachbot_webhook_deliveries_total{outcome="refused",reason="bad_signature"}`:  2,
		`attachbot_webhook_deliveries_total{outcome="refused",reason="not_json"}`:       1,
		`attachbot_webhook_deliveries_total{outcome="refused",reason="missing_fields"}`: 1,
		`attachbot_webhook_deliveries_total{outcome="refused",reason="body_too_large"}`: 1,
		`attachbot_webhook_deliveries_total{outcome="accepted",reason="acknowledged"}`:  2,
	}
	for series, w := range want {
		if diff := cmp.Diff(w, got[series]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", series, diff)
		}
	}
}

// seriesLine is one sample of the text exposition format: the series and its value.
var seriesLine = regexp.MustCompile(`^(\S+(?:\{.*\})?) (\S+)$`)

// scrape reads a metrics endpoint into its series (name and labels as the exposition writes
// them) and their values.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d:\n%s", resp.StatusCode, body)
	}
	series := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := seriesLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("GET /metrics: a line that is not a sample: %q", line)
		}
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("GET /metrics: %q: %v", line, err)
		}
		series[m[1]] = v
	}
	return series
}
