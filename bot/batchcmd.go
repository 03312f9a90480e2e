package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AttachFile answers `attach` with a CSV file attached: the dry run of `check` first, then,
// when some rows can be attached, a batch of them, saved, and a card with the counts and
// Start and Cancel. Nothing is submitted before Start.
func (b *Bot) AttachFile(ctx context.Context, t *Turn) error {
	results, fileName, err := b.dryRunFile(ctx, t, "attach")
	if err != nil || results == nil {
		return err
	}
	now := b.clock.Now()
	bt := Batch{
		Source: t.Event.Key, Created: now, Updated: now, State: BatchReady,
		RoomID: t.RoomID, ThreadID: t.ThreadID, FileName: fileName, FileRows: len(results),
		RequestedBy: t.Actor.Email(), RequestedByID: t.Actor.ID,
	}
	var rows []BulkRow
	for _, r := range results {
		switch r.Verdict {
		case BulkAutomatic:
			bt.Automatic++
		case BulkApproval:
			bt.Approval++
		default:
			bt.Refused++
			continue
		}
		rows = append(rows, r.Row)
	}
	if len(rows) == 0 {
		t.Reply("No row of your file can be attached, so there is nothing to start. Fix the rows the attached file names, and send the file again with `attach`.")
		return nil
	}
	saved, err := b.saveBatch(ctx, bt, rows)
	if err != nil {
		return err
	}
	card, err := b.cards.Batch(BatchView{Batch: saved})
	if err != nil {
		return fmt.Errorf("build the card of batch %s: %w", saved.ID, err)
	}
	t.ReplyCard(fmt.Sprintf("**Batch %s**: %s can be attached (%d automatically, %d with the customer admin's approval); %d refused. Press Start on the card to submit them, or Cancel.",
		saved.ID, plural(len(rows), "row"), saved.Automatic, saved.Approval, saved.Refused), card)
	return nil
}

// saveBatch saves a new batch under an id derived from its source event, or returns the batch
// the same event saved before (it is processed again after a crash).
func (b *Bot) saveBatch(ctx context.Context, bt Batch, rows []BulkRow) (Batch, error) {
	for salt := 0; ; salt++ {
		bt.ID = batchID(bt.Source, salt)
		err := b.db.CreateBatch(ctx, bt, rows, nil)
		if err == nil {
			return bt, nil
		}
		if !errors.Is(err, ErrExists) {
			return Batch{}, fmt.Errorf("save batch %s: %w", bt.ID, err)
		}
		found, err := b.db.Batch(ctx, bt.ID)
		if err != nil {
			return Batch{}, fmt.Errorf("load batch %s: %w", bt.ID, err)
		}
		if found.Source == bt.Source {
			return found, nil
		}
	}
}

// StartBatch handles a click on the batch card's Start: the batch starts once, whoever clicks
// again (or the same click redelivered) is told, and the rows are submitted in the background.
func (b *Bot) StartBatch(ctx context.Context, t *Turn, rawID string) error {
	return b.decideBatch(ctx, t, rawID, true)
}

// DiscardBatch handles a click on the batch card's Cancel: a batch that has not started is
// discarded, and nothing is attached.
func (b *Bot) DiscardBatch(ctx context.Context, t *Turn, rawID string) error {
	return b.decideBatch(ctx, t, rawID, false)
}

// decideBatch starts (start) or discards a ready batch, once.
func (b *Bot) decideBatch(ctx context.Context, t *Turn, rawID string, start bool) error {
	id, ok := ParseBatchID(rawID)
	if !ok {
		t.Reply(damagedCard)
		return nil
	}
	var problem string
	bt, err := b.db.UpdateBatch(ctx, id, func(bt *Batch) ([]Outgoing, error) {
		problem = ""
		if bt.StartEvent == t.Event.Key || bt.EndEvent == t.Event.Key {
			return nil, nil // this click, processed again after a crash
		}
		if bt.State != BatchReady {
			problem = fmt.Sprintf("Batch **%s** is %s already; your click changed nothing. `batch %s` shows it.", bt.ID, batchStateText(*bt), bt.ID)
			return nil, nil
		}
		now := b.clock.Now()
		bt.Updated = now
		if start {
			bt.State, bt.StartEvent, bt.StartedBy, bt.Started = BatchRunning, t.Event.Key, t.Actor.Email(), now
			bt.Progress.At = time.Time{} // shown at once
		} else {
			bt.State, bt.EndEvent, bt.EndedBy = BatchDiscarded, t.Event.Key, t.Actor.Email()
		}
		return nil, nil
	})
	switch {
	case errors.Is(err, ErrNotFound):
		t.Replyf("I don't know batch %s; send the file again with `attach`.", id)
		return nil
	case err != nil:
		return fmt.Errorf("record the click on batch %s: %w", id, err)
	case problem != "":
		t.Reply(problem)
		return nil
	}
	if !start {
		t.ReplaceCard(fmt.Sprintf("%s discarded batch **%s**: nothing was attached.", Literal(t.Actor.Email()), bt.ID))
		return nil
	}
	// The progress message, posted by the batch loop at once, is the answer: one message.
	t.ReplaceCard("")
	b.wakeBatches()
	return nil
}

// batchForCommand loads the batch a `<command> <batch id>` names, for a command that may act
// only in the batch's space or in an admin space. When it returns ok false it has answered.
func (b *Bot) batchForCommand(ctx context.Context, t *Turn, rawID string) (Batch, bool, error) {
	id, valid := ParseBatchID(rawID)
	if !valid {
		t.Reply("That is not a batch id: a batch id is `B-` and 6 letters and digits, such as `B-K7QM2X`. `batch` lists this space's batches.")
		return Batch{}, false, nil
	}
	bt, err := b.db.Batch(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		t.Replyf("I don't know batch %s. `batch` lists this space's batches.", id)
		return Batch{}, false, nil
	case err != nil:
		return Batch{}, false, fmt.Errorf("load batch %s: %w", id, err)
	}
	if !b.mayActOn(t.RoomID, Request{RoomID: bt.RoomID}) {
		t.Replyf("Batch %s was made in another space: ask about it there, or in a space the operator lists in ADMIN_SPACES.", id)
		return Batch{}, false, nil
	}
	return bt, true, nil
}

// CancelBatch answers `cancel <batch id>`: the rows not submitted yet are not submitted; the
// requests already made go on, each as any request (`cancel <id>` withdraws one that waits
// for approval).
func (b *Bot) CancelBatch(ctx context.Context, t *Turn, rawID string) error {
	found, ok, err := b.batchForCommand(ctx, t, rawID)
	if !ok || err != nil {
		return err
	}
	var problem string
	bt, err := b.db.UpdateBatch(ctx, found.ID, func(bt *Batch) ([]Outgoing, error) {
		problem = ""
		if bt.EndEvent == t.Event.Key {
			return nil, nil
		}
		if !bt.State.Open() {
			problem = fmt.Sprintf("Batch **%s** is %s, so there is nothing left to stop. `cancel <request id>` withdraws one of its requests that waits for approval.", bt.ID, batchStateText(*bt))
			return nil, nil
		}
		bt.State, bt.EndEvent, bt.EndedBy, bt.Updated = BatchCancelled, t.Event.Key, t.Actor.Email(), b.clock.Now()
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("cancel batch %s: %w", found.ID, err)
	}
	if problem != "" {
		t.Reply(problem)
		return nil
	}
	rows := bt.Automatic + bt.Approval
	t.Replyf("Batch **%s** is cancelled: %d of its %s were submitted and go on; the %d left will not be. Rows being submitted right now finish.",
		bt.ID, bt.Next, plural(rows, "row"), rows-bt.Next)
	b.wakeBatches()
	return nil
}

// ShowBatch answers `batch [<batch id>]`: one batch's progress and refused rows, or this
// space's batches.
func (b *Bot) ShowBatch(ctx context.Context, t *Turn, rawID string) error {
	if strings.TrimSpace(rawID) == "" {
		all, err := b.db.Batches(ctx, nil)
		if err != nil {
			return fmt.Errorf("list batches: %w", err)
		}
		lines := []string{"**Batches in this space**, newest first:"}
		for i := len(all) - 1; i >= 0; i-- {
			if bt := all[i]; bt.RoomID == t.RoomID {
				lines = append(lines, fmt.Sprintf("- **%s**: %s, %s, %s", bt.ID, Literal(bt.FileName), plural(bt.Automatic+bt.Approval, "row"), batchStateText(bt)))
			}
		}
		if len(lines) == 1 {
			t.Reply("No batches in this space. `attach` with a CSV file attached starts one.")
			return nil
		}
		t.Reply(strings.Join(append(lines, "", "`batch <id>` shows one."), "\n"))
		return nil
	}
	bt, ok, err := b.batchForCommand(ctx, t, rawID)
	if !ok || err != nil {
		return err
	}
	c, err := b.batchCounts(ctx, bt)
	if err != nil {
		return err
	}
	text := batchProgressText(bt, c, b.clock.Now())
	if len(bt.Refusals) > 0 {
		text += "\n\nRows refused when submitted:\n" + refusalLines(bt.Refusals)
	}
	t.Reply(text + "\n\n`export` gives every request as a file.")
	return nil
}

// batchStateText says where a batch stands, in words.
func batchStateText(bt Batch) string {
	switch bt.State {
	case BatchReady:
		return "waiting for Start"
	case BatchRunning:
		return "being submitted"
	case BatchSubmitted:
		return "submitted (every row)"
	case BatchCancelled:
		return "cancelled by " + Literal(bt.EndedBy)
	case BatchDiscarded:
		return "discarded by " + Literal(bt.EndedBy)
	}
	return Code(string(bt.State))
}
