package sandbox

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"attachbot/webex/webextest"
)

// The sandbox's page in headless Chromium.

// do sends a request to the sandbox and returns the status and the body.
func (s *testSandbox) do(method, path, body string) (int, []byte) {
	s.t.Helper()
	status, b, err := s.fetch(method, path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	return status, b
}

// newBrowser starts headless Chromium for the test and returns its context, which ends
// after timeout. The test is skipped, saying why, when no Chromium or Chrome is installed.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	var execPath string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			execPath = p
			break
		}
	}
	if execPath == "" {
		t.Skip("no browser: none of chromium, chromium-browser, google-chrome is on PATH (.ci/run installs Debian's chromium)")
	}
	profile := t.TempDir() // removed after the browser has exited: cleanups run in reverse
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1600, 1000),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", execPath, err)
	}
	return ctx
}

// do runs browser steps, failing the test with what they were for.
func do(ctx context.Context, t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one browser action that returns a value.
func get[T any](ctx context.Context, t *testing.T, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Selectors of the page.
const (
	partnerComposer = `#partner-space .composer textarea`
	partnerSend     = `#partner-space .composer button.send`
	directApprove   = `#direct-space .ac-card button.ac-action[data-title="Approve"]`
)

func TestSandboxInBrowser(t *testing.T) {
	started := time.Now()
	ctx := newBrowser(t, 50*time.Second)
	url := runSandbox(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "SANDBOX_DB": filepath.Join(t.TempDir(), "attachbot.db")})
	line := scenarioLine(t, webextest.BigOrgID)

	// The page is used from 1024 pixels wide: the test runs it at that width.
	bigScenario := `#scenario-list li[data-org-id="` + webextest.BigOrgID + `"] button[data-fill="attach"]`
	do(ctx, t, "open the page and set the next provisioning of Bigcorp to end provisioned after 1s",
		chromedp.EmulateViewport(1024, 768),
		chromedp.Navigate(url),
		chromedp.WaitVisible(bigScenario),
		chromedp.SetValue(`#outcome-status`, webextest.StatusProvisioned),
		chromedp.SetValue(`#outcome-delay`, "1"),
		chromedp.SetValue(`#outcome-org`, webextest.BigOrgID),
		chromedp.Click(`#outcome-form button[type="submit"]`),
		chromedp.WaitVisible(`#outcome-note[data-applied="true"]`),
	)
	do(ctx, t, "reload the page", chromedp.Reload(), chromedp.WaitVisible(bigScenario))
	control := get(ctx, t, "read the outcome control after the reload", chromedp.Evaluate[[]string](
		`["outcome-status", "outcome-delay", "outcome-org", "outcome-note"].map(id => { const e = document.getElementById(id); return e.value === undefined ? e.textContent : e.value; })`))
	if want := []string{webextest.StatusProvisioned, "1", webextest.BigOrgID, "The next provisioning of Bigcorp Logistics ends in provisioned after 1 s."}; !cmp.Equal(want, control) {
		t.Errorf("after a reload the outcome control shows %q, want the applied setting %q", control, want)
	}
	topBarBefore := get(ctx, t, "measure the top bar", chromedp.Evaluate[[]float64](topBarGeometry))
	do(ctx, t, "type the attach line as the partner admin and see the approval card in the customer admin's space",
		chromedp.Click(`#acting button[data-role="partner"]`),
		chromedp.SendKeys(partnerComposer, line),
		chromedp.Click(partnerSend),
		chromedp.WaitVisible(`//section[@id="partner-space"]//div[contains(@class,"message-body")][contains(., "The customer admin must approve")]`),
		chromedp.WaitVisible(directApprove),
	)
	directTitle := get(ctx, t, "read the direct space's title", chromedp.Text(`#direct-space .space-title`))
	refusalNotice := `//section[@id="partner-space"]//div[contains(@class,"message-body")][contains(., "tried to approve")]`
	do(ctx, t, "click Approve as the outsider and see the bot's refusal told in the partner space",
		chromedp.Click(`#acting button[data-role="outsider"]`),
		chromedp.Click(directApprove),
		chromedp.WaitVisible(refusalNotice),
		// Eve's own direct space is not on the page: the bot's message to her shows in the
		// status line.
		chromedp.WaitVisible(`//div[@id="status"][contains(., "attachbot to Eve Outsider, directly: Sorry, you can't approve or decline request")]`),
	)
	refusal := get(ctx, t, "read the refusal", chromedp.Text(refusalNotice))
	if topBar := get(ctx, t, "measure the top bar with a long status line", chromedp.Evaluate[[]float64](topBarGeometry)); !cmp.Equal(topBarBefore, topBar) {
		t.Errorf("a long status line moves the top bar: [height, acting switch left, top, status line height] went from %v to %v", topBarBefore, topBar)
	}
	provisionedCard := `//section[@id="partner-space"]//div[contains(@class,"ac-text")][contains(., " is provisioned")]`
	do(ctx, t, "click Approve as the customer admin and see the provisioned notice in the partner space",
		chromedp.Click(`#acting button[data-role="customer"]`),
		chromedp.Click(directApprove),
		chromedp.WaitVisible(`//section[@id="direct-space"]//div[contains(@class,"message-body")][contains(., "You approved request")]`),
		chromedp.WaitVisible(provisionedCard),
	)
	provisioned := get(ctx, t, "read the provisioned card", chromedp.Text(provisionedCard))
	if clipped := get(ctx, t, "look for clipped parts", chromedp.Evaluate[[]string](clippedParts)); len(clipped) != 0 {
		t.Errorf("at 1024 pixels wide, these parts of the page are clipped: %q", clipped)
	}
	screenshot := get(ctx, t, "take a screenshot", chromedp.FullScreenshot(100))
	if directTitle != "Bill Big" {
		t.Errorf("the direct space shown is %q's, want Bill Big's", directTitle)
	}
	if want := webextest.EveEmail + " tried to approve attach"; !strings.Contains(refusal, want) || !strings.Contains(refusal, "was refused") {
		t.Errorf("the outsider's click shows %q, want %q in it", refusal, want)
	}
	if !strings.HasPrefix(provisioned, "Attach ") {
		t.Errorf("the provisioned card says %q, want Attach <id> is provisioned", provisioned)
	}
	shot := filepath.Join(t.TempDir(), "sandbox-1024.png")
	if err := os.WriteFile(shot, screenshot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the sandbox at 1024 pixels: %s (the browser scenario took %s)", shot, time.Since(started).Round(time.Millisecond))
}

// topBarGeometry measures what a long status line must not change: the top bar's height,
// the acting switch's position, and the status line's height (one line).
const topBarGeometry = `(() => {
	const bar = document.querySelector(".topbar").getBoundingClientRect();
	const acting = document.getElementById("acting").getBoundingClientRect();
	return [bar.height, acting.left, acting.top, document.getElementById("status").getBoundingClientRect().height];
})()`

// clippedParts lists the page's parts that do not fit in the window's width, or are cut
// inside their own box: the spaces, the panel, the composers' Send buttons, the acting
// switch, the cards' buttons.
const clippedParts = `(() => {
	const clipped = [];
	if (document.documentElement.scrollWidth > window.innerWidth) clipped.push("the page scrolls sideways");
	const parts = ["#partner-space", "#direct-space", "#scenarios", "#acting", ".brand",
		"#partner-space .send", "#direct-space .send", "#outcome-form button", ".space-picker select"];
	for (const sel of parts) {
		const e = document.querySelector(sel);
		if (!e) { clipped.push(sel + " is missing"); continue; }
		const r = e.getBoundingClientRect();
		if (r.left < 0 || r.right > window.innerWidth || r.width < 1) clipped.push(sel + " is outside the window");
	}
	for (const e of document.querySelectorAll(".space-title, .composer textarea")) {
		if (e.clientHeight > 40) clipped.push(e.closest(".space").id + " " + e.tagName.toLowerCase() + "." + e.className + " takes several lines");
	}
	for (const e of document.querySelectorAll(".ac-action, .acting button, .brand strong, .space-title, .message-meta .name")) {
		if (e.scrollWidth > e.clientWidth + 1) clipped.push("the text of " + e.textContent.trim() + " is cut");
		const r = e.getBoundingClientRect();
		if (r.right > window.innerWidth) clipped.push(e.textContent.trim() + " is outside the window");
	}
	return clipped;
})()`
