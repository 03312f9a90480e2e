package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// batchReportGap is the least time between two changes the space sees for a batch: two
// edits of its progress message, or two new messages about it (a grouped notice, a new
// progress message). A 500-row batch must not flood the space.
const batchReportGap = 10 * time.Second

// maxProgressEdits is how often Webex lets a message be edited (Edit a Message: "not more
// than 10 times"); the progress message is posted anew, and the old one deleted, after it.
const maxProgressEdits = 10

// batchNoticeLines bounds the requests one grouped notice names; `batch <id>` and `export`
// have the rest.
const batchNoticeLines = 30

// batchCounts are a batch's requests by where they stand.
type batchCounts struct {
	requests []Request // the batch's requests, newest first
	// provisioning counts the requests being submitted or provisioned; failed those that
	// ended error, provisioned_with_errors or rejected; closed those declined, expired,
	// withdrawn or deleted.
	provisioning, awaiting, provisioned, failed, closed int
}

// batchCounts reads a batch's requests and counts them by where they stand.
func (b *Bot) batchCounts(ctx context.Context, bt Batch) (batchCounts, error) {
	rs, err := b.db.Requests(ctx, RequestFilter{RoomID: bt.RoomID})
	if err != nil {
		return batchCounts{}, fmt.Errorf("list the requests of batch %s: %w", bt.ID, err)
	}
	var c batchCounts
	for _, r := range rs {
		if r.BatchID != bt.ID {
			continue
		}
		c.requests = append(c.requests, r)
		switch r.State {
		case StateAwaitingApproval:
			c.awaiting++
		case StateProvisioned:
			c.provisioned++
		case StateError, StateProvisionedWithErrors, StateRejected:
			c.failed++
		case StateDeclined, StateExpired, StateWithdrawn, StateDeleting:
			c.closed++
		default:
			c.provisioning++
		}
	}
	return c, nil
}

// open reports whether any of the batch's requests has not ended.
func (c batchCounts) open() bool { return c.provisioning+c.awaiting > 0 }

// batchProgressText is the body of a batch's progress message: what the space is shown, the
// time it was shown at aside (see progressMessage).
func batchProgressText(bt Batch, c batchCounts, now time.Time) string {
	rows := bt.Automatic + bt.Approval
	var s strings.Builder
	fmt.Fprintf(&s, "**Batch %s** (%s), started by %s: %s.\n", bt.ID, Literal(bt.FileName), Literal(bt.StartedBy), batchStateText(bt))
	fmt.Fprintf(&s, "- submitted: %d of %d rows", bt.Next, rows)
	if n := len(bt.Refusals); n > 0 {
		fmt.Fprintf(&s, " (%d refused when submitted)", n)
	}
	fmt.Fprintf(&s, "\n- provisioning: %d\n- awaiting approval: %d\n- provisioned: %d\n- failed: %d\n", c.provisioning, c.awaiting, c.provisioned, c.failed)
	if c.closed > 0 {
		fmt.Fprintf(&s, "- declined, expired or withdrawn: %d\n", c.closed)
	}
	if bt.State == BatchRunning && bt.LastError != "" && bt.NotBefore.After(now) {
		fmt.Fprintf(&s, "\nWebex did not answer for a row; I try it again at %s.\n", formatWhen(bt.NotBefore))
	}
	return strings.TrimRight(s.String(), "\n")
}

// progressMessage is the progress message as it is posted or edited at now.
func progressMessage(body string, bt Batch, now time.Time) string {
	text := fmt.Sprintf("%s\n\nAs of %s; I edit this message as it goes. `batch %s` shows it; `export` gives every request as a file.", body, formatWhen(now), bt.ID)
	if bt.State == BatchRunning {
		text += fmt.Sprintf(" `cancel %s` stops the rows not submitted yet.", bt.ID)
	}
	return text
}

// reportBatch brings what the space shows of a batch up to date, at most one change per
// batchReportGap: the progress message (posted once, then edited in place), and one grouped
// notice of what happened to its requests since the last one. It returns when it should run
// again because something is left to show (zero: nothing is).
func (b *Bot) reportBatch(ctx context.Context, id string) (time.Time, error) {
	bt, err := b.db.Batch(ctx, id)
	if err != nil {
		return time.Time{}, fmt.Errorf("load batch %s: %w", id, err)
	}
	now := b.clock.Now()
	editAt, postAt := bt.Progress.At.Add(batchReportGap), bt.LastPost.Add(batchReportGap)
	if bt.Finished || (now.Before(editAt) && now.Before(postAt)) {
		if bt.Finished {
			return time.Time{}, nil
		}
		return earliest(editAt, postAt), nil
	}
	c, err := b.batchCounts(ctx, bt)
	if err != nil {
		return time.Time{}, err
	}
	body := batchProgressText(bt, c, now)
	notice, told := batchNotice(bt, c)
	var next time.Time
	switch {
	case body == bt.Progress.Shown:
	case now.Before(editAt) || (bt.Progress.Edits >= maxProgressEdits && now.Before(postAt)):
		next = earliest(editAt, postAt)
	default:
		posted, err := b.showProgress(ctx, bt, body, now)
		if err != nil {
			return now.Add(batchReportGap), err
		}
		if posted {
			postAt = b.clock.Now().Add(batchReportGap)
		}
	}
	switch {
	case notice == "":
	case now.Before(postAt):
		next = earliest(next, postAt)
	default:
		if err := b.sendNotice(ctx, bt, notice, told); err != nil {
			return now.Add(batchReportGap), err
		}
	}
	if next.IsZero() && c.open() && b.polling.Load() {
		// The poll loop changes the requests without waking the batch loop: it looks again.
		// (With Config.PollInSweepOnly, the sweep's batches job wakes it.)
		next = now.Add(batchReportGap)
	}
	if next.IsZero() && !c.open() && !bt.State.Open() && notice == "" {
		_, err = b.db.UpdateBatch(ctx, id, func(bt *Batch) ([]Outgoing, error) {
			bt.Finished = bt.Progress.Shown == body && !bt.State.Open()
			return nil, nil
		})
	}
	return next, err
}

// sendNotice posts a grouped notice to the batch's thread and records what it told. It is sent
// directly, as the progress message is, so that the gap between two of the batch's messages is
// measured from when Webex had the first; a crash between the post and the record tells it
// again, which is better than not at all.
func (b *Bot) sendNotice(ctx context.Context, bt Batch, notice string, told toldState) error {
	if _, err := b.webex.Send(ctx, OutMessage{RoomID: bt.RoomID, ParentID: bt.ThreadID, Markdown: trimMarkdown(notice, MaxMessageBytes)}); err != nil {
		return fmt.Errorf("post the grouped notice of batch %s: %w", bt.ID, err)
	}
	done := b.clock.Now()
	_, err := b.db.UpdateBatch(ctx, bt.ID, func(bt *Batch) ([]Outgoing, error) {
		bt.Notices++
		bt.LastPost, bt.Told, bt.ToldRefusals = done, told.states, told.refusals
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("record the grouped notice of batch %s: %w", bt.ID, err)
	}
	return nil
}

// earliest returns the earlier of two times, a zero time being none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// showProgress shows body in the batch's progress message: it posts the message the first
// time and after Webex's edit limit (deleting the old one through the outbox), and edits it
// otherwise. It reports whether it posted a new message. The message is sent directly, not
// through the outbox, because its id is needed to edit it; what it shows is recomputed from
// the store each time, so a lost post or edit is made good by the next one.
func (b *Bot) showProgress(ctx context.Context, bt Batch, body string, now time.Time) (bool, error) {
	text := progressMessage(body, bt, now)
	old := bt.Progress.MessageID
	if old != "" && bt.Progress.Edits < maxProgressEdits {
		_, err := b.webex.EditMessage(ctx, old, bt.RoomID, text)
		if apiStatus(err) != 404 && apiStatus(err) != 400 { // gone, or past its edits: posted anew
			if err != nil {
				return false, fmt.Errorf("edit the progress of batch %s: %w", bt.ID, err)
			}
			done := b.clock.Now() // the gap runs from when Webex had the edit
			_, err = b.db.UpdateBatch(ctx, bt.ID, func(bt *Batch) ([]Outgoing, error) {
				bt.Progress.Shown, bt.Progress.At = body, done
				bt.Progress.Edits++
				return nil, nil
			})
			return false, err
		}
	}
	sent, err := b.webex.Send(ctx, OutMessage{RoomID: bt.RoomID, ParentID: bt.ThreadID, Markdown: trimMarkdown(text, MaxMessageBytes)})
	if err != nil {
		return false, fmt.Errorf("post the progress of batch %s: %w", bt.ID, err)
	}
	done := b.clock.Now()
	_, err = b.db.UpdateBatch(ctx, bt.ID, func(bt *Batch) ([]Outgoing, error) {
		bt.Progress = BatchProgress{MessageID: sent.ID, Shown: body, At: done}
		bt.LastPost = done
		if old != "" {
			return []Outgoing{deleteCard(old, now)}, nil
		}
		return nil, nil
	})
	if err != nil {
		return true, fmt.Errorf("record the progress message of batch %s: %w", bt.ID, err)
	}
	if old != "" {
		b.wakeOutbox()
	}
	return true, nil
}

// toldState is what a grouped notice tells: the state of each request, and how many of the
// batch's refused rows.
type toldState struct {
	states   map[string]State
	refusals int
}

// quietStates are the states a grouped notice does not name a request for: the progress
// message counts them.
var quietStates = []State{StateSubmitting, StateProvisioning, StateUpdating}

// batchNotice composes the grouped notice of what happened to a batch's requests and rows
// since the last one, and what it tells; "" when nothing did.
func batchNotice(bt Batch, c batchCounts) (string, toldState) {
	told := toldState{states: map[string]State{}, refusals: len(bt.Refusals)}
	var lines []string
	for i := len(c.requests) - 1; i >= 0; i-- { // oldest first
		r := c.requests[i]
		told.states[r.ID] = r.State
		if bt.Told[r.ID] == r.State || slices.Contains(quietStates, r.State) {
			continue
		}
		lines = append(lines, batchNoticeLine(r))
	}
	for _, f := range bt.Refusals[min(bt.ToldRefusals, len(bt.Refusals)):] {
		lines = append(lines, refusalLines([]BatchRefusal{f}))
	}
	if len(lines) == 0 {
		return "", told
	}
	more := ""
	if len(lines) > batchNoticeLines {
		more = fmt.Sprintf("\n… and %d more: `batch %s` and `export` have them all.", len(lines)-batchNoticeLines, bt.ID)
		lines = lines[:batchNoticeLines]
	}
	return fmt.Sprintf("**Batch %s**, what happened since the last update:\n%s%s", bt.ID, strings.Join(lines, "\n"), more), told
}

// batchNoticeLine tells what happened to one request of a batch, in a line.
func batchNoticeLine(r Request) string {
	line := fmt.Sprintf("- **%s** %s: %s", r.ID, orgOf(r), stateText(r.State))
	switch r.State {
	case StateAwaitingApproval:
		line += fmt.Sprintf(" (card sent to %s)", Literal(r.Spec.AdminEmail))
	case StateProvisioned:
		if r.Role != "" {
			line += fmt.Sprintf(" (partner role %s)", Code(r.Role))
		}
	case StateError, StateProvisionedWithErrors, StateRejected:
		if len(r.Errors) > 0 {
			line += ": " + Literal(trimMarkdown(r.Errors[0].Description, 200))
		}
		if r.State != StateRejected {
			line += fmt.Sprintf("; `retry %s` tries again", r.ID)
		}
	}
	return line
}

// refusalLines lists rows refused when submitted, a line each.
func refusalLines(fs []BatchRefusal) string {
	lines := make([]string, len(fs))
	for i, f := range fs {
		lines[i] = fmt.Sprintf("- line %d: not attached: %s", f.Line, trimMarkdown(strings.ReplaceAll(f.Reason, "\n", " "), 400))
	}
	return strings.Join(lines, "\n")
}
