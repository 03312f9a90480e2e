package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// The bound of a batch's submission. Each row is a one-line attach: about seven partner calls
// (the organization, its people, its licenses, wholesale customers by orgId, the precheck,
// customers by externalId, the provisioning). Webex does not publish the wholesale API's rate
// limit, and answers 429 with Retry-After above it; the partner client then holds every call
// until that instant (webex.Client). So the batch bounds what it asks for instead of leaning
// on 429s: at most batchConcurrency rows at once, and a row started at most every
// batchRowInterval, which is about 2.5 rows, some 18 calls, a second: under the 20 calls a
// second the benchmark's simulated Webex allows, and leaving room for the polls, checks and
// commands of the rest of the bot.
const (
	batchConcurrency = 2
	batchRowInterval = 400 * time.Millisecond
)

// runBatches submits the rows of the running batches and reports on every batch until ctx
// ends: when woken (a Start, a cancel, the sweep's batches job), and when a row is due again
// or a report was held back by batchReportGap.
func (b *Bot) runBatches(ctx context.Context) {
	for {
		wakes := b.batchWakes.Load()
		next := b.advanceBatches(ctx)
		b.batchNext.Store(next.UnixNano())
		if next.IsZero() {
			b.batchNext.Store(0)
		}
		b.batchRead.Store(wakes)
		b.progressed()
		select {
		case <-ctx.Done():
			b.releaseBatches()
			return
		case <-b.wakeBatch:
		case <-b.timerFor(next):
		}
	}
}

// wakeBatches tells the batch loop that there is work; Settle waits until it has looked.
func (b *Bot) wakeBatches() {
	b.batchWakes.Add(1)
	wake(b.wakeBatch)
}

// batchBehind reports whether the batch loop has work it has not looked at yet: a wake, or
// work that is due now.
func (b *Bot) batchBehind() bool {
	if b.batchWakes.Load() != b.batchRead.Load() {
		return true
	}
	next := b.batchNext.Load()
	return next != 0 && !time.Unix(0, next).After(b.clock.Now())
}

// advanceBatches submits the due rows of every running batch, then reports on every batch
// not finished. It returns when it has work again (zero: when woken).
func (b *Bot) advanceBatches(ctx context.Context) time.Time {
	open, err := b.db.Batches(ctx, []BatchState{BatchRunning, BatchSubmitted, BatchCancelled})
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("list the batches", "err", err)
		}
		return b.clock.Now().Add(b.cfg.RetryBase)
	}
	var next time.Time
	for _, bt := range open {
		if bt.Finished {
			continue
		}
		_, held, err := b.claimBatch(ctx, bt.ID)
		if err != nil || !held.IsZero() {
			if err != nil && ctx.Err() == nil {
				b.log.Error("claim a batch", "batch", bt.ID, "err", err)
			}
			next = earliest(next, held)
			continue
		}
		if bt.State == BatchRunning {
			due, err := b.submitBatch(ctx, bt.ID)
			if err != nil && ctx.Err() == nil {
				b.log.Error("submit a batch's rows", "batch", bt.ID, "err", err)
			}
			next = earliest(next, due)
		}
		due, err := b.reportBatch(ctx, bt.ID)
		if err != nil && ctx.Err() == nil {
			b.log.Error("report on a batch", "batch", bt.ID, "err", err)
		}
		next = earliest(next, due)
	}
	if ctx.Err() != nil {
		return time.Time{}
	}
	return next
}

// batchLease is how long a process keeps a batch to itself after it last claimed it (the
// store's named lease "batch/<id>"): longer than a window of rows takes with the Webex client's
// retries. batchLeaseRetry is how soon a process looks again at a batch another one holds.
const (
	batchLease      = 2 * time.Minute
	batchLeaseRetry = 30 * time.Second
)

// batchLeaseName is the name of a batch's lease in the store.
func batchLeaseName(id string) string { return "batch/" + id }

// claimBatch claims a batch for this process (Bot.owner) for batchLease, or renews its claim,
// so that one process at a time (of replicas sharing the store) submits and reports on it,
// and returns the batch; held is when to look again when another process holds it. Only the
// batch loop calls it, and releaseBatches gives the claims up when the loop stops.
func (b *Bot) claimBatch(ctx context.Context, id string) (bt Batch, held time.Time, err error) {
	now := b.clock.Now()
	ok, err := b.db.AcquireLease(ctx, batchLeaseName(id), b.owner, now, now.Add(batchLease))
	if err != nil {
		return Batch{}, time.Time{}, fmt.Errorf("claim batch %s: %w", id, err)
	}
	if !ok {
		return Batch{}, now.Add(batchLeaseRetry), nil
	}
	b.batchHeld[id] = true
	bt, err = b.db.Batch(ctx, id)
	if err != nil {
		return Batch{}, time.Time{}, fmt.Errorf("load batch %s: %w", id, err)
	}
	return bt, time.Time{}, nil
}

// releaseBatches gives up this process's claims on batches when the batch loop stops, so that
// the next process (a restart, another replica) carries on at once.
func (b *Bot) releaseBatches() {
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	for id := range b.batchHeld {
		if err := b.db.ReleaseLease(ctx, batchLeaseName(id), b.owner); err != nil && !errors.Is(err, ErrLeaseLost) {
			b.log.Warn("give up a batch's lease; another process takes it when it runs out", "batch", id, "err", err)
		}
		delete(b.batchHeld, id)
	}
}

// rowOutcome is what submitting one row came to: a request (refusal and err empty), the
// one-line attach's refusal, or an error that may pass.
type rowOutcome struct {
	refusal string
	err     error
}

// submitBatch submits a running batch's rows from where it stands, batchConcurrency at a
// time, until they are all submitted, the batch is cancelled, or a row fails for a reason
// that may pass; it returns when that row is due again (zero: not stalled).
func (b *Bot) submitBatch(ctx context.Context, id string) (time.Time, error) {
	rows, err := b.db.BatchRows(ctx, id)
	if err != nil {
		return time.Time{}, fmt.Errorf("load the rows of batch %s: %w", id, err)
	}
	for {
		bt, held, err := b.claimBatch(ctx, id)
		if err != nil {
			return time.Time{}, err
		}
		now := b.clock.Now()
		switch {
		case !held.IsZero():
			return held, nil
		case bt.State != BatchRunning:
			return time.Time{}, nil
		case bt.NotBefore.After(now):
			return bt.NotBefore, nil
		}
		from := bt.Next
		window := rows[from:min(from+batchConcurrency, len(rows))]
		outcomes := make([]rowOutcome, len(window))
		var wg sync.WaitGroup
		for i, row := range window {
			if err := b.paceRow(ctx); err != nil {
				break
			}
			wg.Go(func() { outcomes[i] = b.submitRow(ctx, bt, row) })
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		bt, err = b.db.UpdateBatch(ctx, id, func(bt *Batch) ([]Outgoing, error) {
			if bt.Next != from {
				return nil, nil
			}
			// Recorded even when the batch was cancelled meanwhile: these rows were submitted.
			b.recordRows(bt, window, outcomes, len(rows))
			return nil, nil
		})
		if err != nil {
			return time.Time{}, fmt.Errorf("record the rows of batch %s: %w", id, err)
		}
		if _, err := b.reportBatch(ctx, id); err != nil {
			b.log.Error("report on a batch", "batch", id, "err", err)
		}
	}
}

// recordRows records the outcomes of a window of rows in the batch: the rows before the first
// that failed are submitted; that one is tried again after a backoff, or, after MaxAttempts,
// refused with its error so that the batch goes on.
func (b *Bot) recordRows(bt *Batch, window []BulkRow, outcomes []rowOutcome, total int) {
	now := b.clock.Now()
	bt.Updated = now
	for i, o := range outcomes {
		if o.err != nil {
			bt.Attempts++
			bt.LastError = o.err.Error()
			if bt.Attempts < b.cfg.MaxAttempts {
				bt.NotBefore = now.Add(b.backoff(bt.Attempts))
				return
			}
			o.refusal = fmt.Sprintf("Webex failed %d times in a row (%s); attach it again later.", bt.Attempts, Literal(trimMarkdown(o.err.Error(), 200)))
		}
		if o.refusal != "" {
			bt.Refusals = append(bt.Refusals, BatchRefusal{Line: window[i].Line, Reason: o.refusal})
		}
		bt.Next++
		bt.Attempts, bt.NotBefore, bt.LastError = 0, time.Time{}, ""
	}
	if bt.Next >= total && bt.State == BatchRunning {
		bt.State = BatchSubmitted
	}
}

// paceRow waits until batchRowInterval has passed since the last row of any batch started.
func (b *Bot) paceRow(ctx context.Context) error {
	b.batchPace.Lock()
	defer b.batchPace.Unlock()
	if wait := b.batchLastRow.Add(batchRowInterval).Sub(b.clock.Now()); wait > 0 {
		select {
		case <-b.clock.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	b.batchLastRow = b.clock.Now()
	return nil
}

// submitRow submits one row of a batch as the one-line attach of its values, by the partner
// admin who sent the file, in the batch's thread. The request's id (and so its externalId,
// unless the row gives one) derives from the batch and the row, so that a row submitted
// again (after a restart, or a failure that may pass) finds the request it made, and goes on
// with it, instead of making another.
func (b *Bot) submitRow(ctx context.Context, bt Batch, row BulkRow) rowOutcome {
	spec, problems := b.SpecFromArgs(row.Values, bt.RequestedBy)
	if len(problems) > 0 {
		return rowOutcome{refusal: Explain(&InputError{Problems: problems})}
	}
	source := batchRowSource(bt.ID, row.Line)
	t := &Turn{
		Event: Event{Key: source}, RoomID: bt.RoomID, ThreadID: bt.ThreadID, Now: b.clock.Now(), BatchID: bt.ID,
		Actor: Person{ID: bt.RequestedByID, Emails: []string{bt.RequestedBy}},
	}
	err := b.Attach(ctx, t, spec)
	_, made, lookErr := b.claimRequestID(ctx, source)
	switch {
	case lookErr != nil:
		return rowOutcome{err: errors.Join(err, lookErr)}
	case made != nil:
		// The request exists: a submission that failed is carried on by the sweep's
		// resubmission, as for a one-line attach.
		return rowOutcome{}
	case err != nil && (isTemporary(err) || errors.Is(err, ErrOutcomeUnknown) || ctx.Err() != nil):
		return rowOutcome{err: err}
	case err != nil:
		return rowOutcome{refusal: "Webex refused to check it: " + Explain(err)}
	}
	var said []string
	for _, m := range t.Messages() {
		said = append(said, m.Markdown)
	}
	if len(said) == 0 {
		said = append(said, "no request was made")
	}
	return rowOutcome{refusal: strings.Join(said, " ")}
}
