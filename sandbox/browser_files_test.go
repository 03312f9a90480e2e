package sandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"attachbot/app/apptest"
)

// Files on the sandbox's page in headless Chromium: the sample dropped on the partner space
// and sent with check, the bot's answer file as a download link, a file too large, and a
// file name that is markup.

// dropFile drops a file on the partner space as a person drags one from their desktop:
// the file, named name, is made in the page from the sample's link (fromSample) or of size
// bytes of "x".
func dropFile(name string, size int, fromSample bool) string {
	return dropFileOn("#partner-space .messages", name, size, fromSample)
}

// dropFileOn is dropFile on the element selected by target.
func dropFileOn(target, name string, size int, fromSample bool) string {
	source := `new Blob(["x".repeat(` + strconv.Itoa(size) + `)])`
	if fromSample {
		source = `await (await fetch(document.getElementById("sample-link").getAttribute("href"))).blob()`
	}
	return `(async () => {
	const file = new File([` + source + `], ` + jsString(name) + `, {type: "text/csv"});
	const data = new DataTransfer();
	data.items.add(file);
	const target = document.querySelector(` + jsString(target) + `);
	for (const type of ["dragenter", "dragover", "drop"]) {
		target.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
	}
	return file.size;
})()`
}

func TestSandboxFilesInBrowser(t *testing.T) {
	ctx := newBrowser(t, 50*time.Second)
	url := runSandbox(t, map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "SANDBOX_DB": filepath.Join(t.TempDir(), "attachbot.db")})
	const (
		chip       = `#partner-space .composer-file`
		chipName   = `#partner-space .composer-file .file-name`
		composeErr = `#partner-space .composer-error`
		answerLink = `#partner-space .message-files a.file-link[download="check-results.csv"]`
	)
	do(ctx, t, "open the page",
		chromedp.EmulateViewport(1024, 768),
		chromedp.Navigate(url),
		chromedp.WaitVisible(`#sample-link[href="/sandbox/api/sample.csv"]`),
	)

	get(ctx, t, "drop a file on the scenarios panel", chromedp.Evaluate[int](dropFileOn("#scenarios", "elsewhere.csv", 10, false), chromedp.EvalAwaitPromise))
	do(ctx, t, "see where files go", chromedp.WaitVisible(`//div[@id="status"][contains(., "Drop files on the partner space")]`))
	if hidden := get(ctx, t, "look at the file chip", chromedp.Evaluate[bool](`document.querySelector("`+chip+`").hidden`)); !hidden {
		t.Errorf("a file dropped on the panel shows in the composer")
	}

	get(ctx, t, "drop a file larger than the sandbox posts", chromedp.Evaluate[int](dropFile("huge.csv", sandboxMaxFile+1, false), chromedp.EvalAwaitPromise))
	do(ctx, t, "see the size refused", chromedp.WaitVisible(`//div[contains(@class,"composer-error")][contains(., "huge.csv is 6.0 MiB; the sandbox posts files of at most 6.0 MiB")]`))
	if hidden := get(ctx, t, "look at the file chip", chromedp.Evaluate[bool](`document.querySelector("`+chip+`").hidden`)); !hidden {
		t.Errorf("a refused file shows in the composer")
	}

	size := get(ctx, t, "drop the sample", chromedp.Evaluate[int](dropFile(sampleFileName, 0, true), chromedp.EvalAwaitPromise))
	if size != len(sampleCSV()) {
		t.Errorf("the page's sample has %d bytes, want %d", size, len(sampleCSV()))
	}
	do(ctx, t, "see the sample in the composer, type check and send it",
		chromedp.WaitVisible(chip),
		chromedp.Click(`#acting button[data-role="partner"]`),
		chromedp.SendKeys(partnerComposer, "check"),
		chromedp.Click(partnerSend),
		chromedp.WaitVisible(`//section[@id="partner-space"]//div[contains(@class,"message-body")][contains(., "Check of 9 rows")]`),
		chromedp.WaitVisible(answerLink),
	)
	if name := get(ctx, t, "read the composer's file chip", chromedp.Text(chipName)); name != "" {
		t.Errorf("after sending, the composer still holds the file %q", name)
	}
	summary := get(ctx, t, "read the summary", chromedp.Text(`//section[@id="partner-space"]//div[contains(@class,"message-body")][contains(., "Check of 9 rows")]`))
	apptest.MustContain(t, "the summary on the page", summary, "would attach automatically: 3", "need the customer admin's approval: 2", "refused: 4")
	dropped := get(ctx, t, "read the dropped file's link", chromedp.Text(`#partner-space .message-files a.file-link[download="`+sampleFileName+`"] .file-name`))
	if dropped != sampleFileName {
		t.Errorf("the partner admin's message shows the file %q, want %s", dropped, sampleFileName)
	}
	results := get(ctx, t, "download the answer file through its link", chromedp.Evaluate[string](
		`fetch(document.querySelector('`+answerLink+`').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	verdicts := apptest.CSVColumn(t, apptest.ParseCSV(t, []byte(results)), "verdict")
	if got := strings.Join(verdicts, " "); got != "automatic approval automatic refused refused automatic approval refused refused" {
		t.Errorf("the answer file's verdicts = %q", got)
	}

	screenshot := get(ctx, t, "take a screenshot", chromedp.FullScreenshot(100))

	do(ctx, t, "attach the sample with the panel's button",
		chromedp.Click(`#sample-attach`),
		chromedp.WaitVisible(chip),
	)
	if name := get(ctx, t, "read the composer's file chip", chromedp.Text(chipName)); name != sampleFileName {
		t.Errorf("Attach it put %q in the composer, want %s", name, sampleFileName)
	}
	if text := get(ctx, t, "read the composer", chromedp.Value(partnerComposer)); text != "check" {
		t.Errorf("Attach it typed %q, want check", text)
	}
	do(ctx, t, "remove the file", chromedp.Click(`#partner-space .file-remove`), chromedp.WaitNotVisible(chip))
	get(ctx, t, "clear the composer", chromedp.Evaluate[string](`document.querySelector("`+partnerComposer+`").value = ""`))

	const markup = `<img src=x onerror="document.title='owned'">.csv`
	get(ctx, t, "drop a file whose name is markup", chromedp.Evaluate[int](dropFile(markup, 40, false), chromedp.EvalAwaitPromise))
	do(ctx, t, "send it with check and see the bot's answer",
		chromedp.SendKeys(partnerComposer, "check"),
		chromedp.Click(partnerSend),
		chromedp.WaitVisible(`//section[@id="partner-space"]//div[contains(@class,"message-body")][contains(., "I could not read your file")]`),
	)
	shown := get(ctx, t, "read the file names shown", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#partner-space .file-name")].map(e => e.textContent)`))
	if !strings.Contains(strings.Join(shown, "\n"), markup) {
		t.Errorf("the file names shown are %q, want %q among them as text", shown, markup)
	}
	if images := get(ctx, t, "count the images", chromedp.Evaluate[int](`document.querySelectorAll("#partner-space img").length`)); images != 0 {
		t.Errorf("a file name became %d images on the page", images)
	}
	if clipped := get(ctx, t, "look for clipped parts", chromedp.Evaluate[[]string](clippedParts)); len(clipped) != 0 {
		t.Errorf("at 1024 pixels wide, with files, these parts of the page are clipped: %q", clipped)
	}
	shot := filepath.Join(t.TempDir(), "sandbox-files-1024.png")
	if err := os.WriteFile(shot, screenshot, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the sandbox's check of the sample file at 1024 pixels: %s", shot)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "<", `\x3c`)
	return `"` + r.Replace(s) + `"`
}
