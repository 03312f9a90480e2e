package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultDigestSchedule is when a digest goes out unless the space says otherwise: weekdays
// at 08:00 UTC.
const DefaultDigestSchedule = "0 8 * * 1-5"

// DigestOn subscribes the turn's space to the digest on a cron schedule (UTC).
func (b *Bot) DigestOn(ctx context.Context, t *Turn, spec string) error {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		spec = DefaultDigestSchedule
	}
	sched, err := cron.ParseStandard(spec)
	switch {
	case strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ="):
		t.Replyf("%s: digests run in UTC, without a time zone. Give five cron fields in UTC, such as `0 8 * * 1-5` (weekdays at 08:00 UTC).", Code(spec))
		return nil
	case err != nil:
		t.Replyf("Please fix this and try again:\n- %s is not a schedule I understand (%s). Use five cron fields in UTC, such as `0 8 * * 1-5` (weekdays at 08:00 UTC), or `@daily`",
			Code(spec), Literal(err.Error()))
		return nil
	}
	now := b.clock.Now()
	switch next := sched.Next(now.UTC()); {
	case next.IsZero():
		t.Replyf("%s never comes round (such as the 30th of February), so it would send no digest. Choose a date that exists, such as `0 8 * * 1-5` (weekdays at 08:00 UTC).", Code(spec))
		return nil
	case next.Sub(now) > maxDigestWait:
		t.Replyf("%s would send the next digest only on %s, more than a year from now. Choose a schedule that comes round within a year, such as `0 8 1 * *` (the 1st of each month, 08:00 UTC).", Code(spec), formatWhen(next))
		return nil
	case tooFrequent(sched, now):
		t.Replyf("%s would send a digest more often than hourly. Choose a schedule with at least an hour between digests, such as `0 * * * *` or `0 8 * * 1-5`.", Code(spec))
		return nil
	}
	sub := Subscription{RoomID: t.RoomID, Schedule: spec, CreatedBy: t.Actor.Email(), Created: now, LastSent: now}
	if err := b.db.SaveSubscription(ctx, sub); err != nil {
		return fmt.Errorf("save the digest subscription of %s: %w", t.RoomID, err)
	}
	t.Replyf("This space gets the attach digest %s; the next one on %s. `digest off` stops it.", scheduleText(spec), formatWhen(sched.Next(now.UTC())))
	return nil
}

// maxDigestWait is the longest a new subscription may wait for its first digest: a schedule
// that comes round more rarely (the 29th of February) or never (the 30th) is refused.
const maxDigestWait = 366 * 24 * time.Hour

// tooFrequent reports whether a schedule fires twice within an hour in the coming week (a
// digest every minute would flood the space).
func tooFrequent(sched cron.Schedule, from time.Time) bool {
	prev := sched.Next(from.UTC())
	for range 7 * 24 {
		next := sched.Next(prev)
		if next.IsZero() {
			return false
		}
		if next.Sub(prev) < time.Hour {
			return true
		}
		prev = next
	}
	return false
}

// DigestOff ends the turn's space's digest.
func (b *Bot) DigestOff(ctx context.Context, t *Turn) error {
	err := b.db.DeleteSubscription(ctx, t.RoomID)
	switch {
	case errors.Is(err, ErrNotFound):
		t.Reply("This space gets no digest. `digest on` starts one.")
		return nil
	case err != nil:
		return fmt.Errorf("delete the digest subscription of %s: %w", t.RoomID, err)
	}
	t.Reply("This space gets no more digests.")
	return nil
}

// sendDigests enqueues the digests that are due, each together with its subscription's new
// LastSent (Store.RecordDigest), so that a crash, an overlapping run or a `digest off`
// meanwhile never sends one twice or to a space that stopped them. A digest longer than
// Webex's limit goes in several messages.
func (b *Bot) sendDigests(ctx context.Context) error {
	subs, err := b.db.Subscriptions(ctx)
	if err != nil {
		return fmt.Errorf("list digest subscriptions: %w", err)
	}
	now := b.clock.Now()
	var errs []error
	for _, sub := range subs {
		sched, err := cron.ParseStandard(sub.Schedule)
		if err != nil {
			errs = append(errs, fmt.Errorf("digest schedule %q of %s: %w", sub.Schedule, sub.RoomID, err))
			continue
		}
		due := sched.Next(sub.LastSent.UTC())
		if due.After(now) {
			continue
		}
		text, err := b.digest(ctx, sub.LastSent)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var msgs []Outgoing
		for i, part := range splitMarkdown(text, MaxMessageBytes) {
			msgs = append(msgs, Outgoing{Key: digestKey(sub.RoomID, due, i), Created: now,
				Message: OutMessage{RoomID: sub.RoomID, Markdown: part}})
		}
		recorded, err := b.db.RecordDigest(ctx, sub, now, msgs)
		if err != nil {
			errs = append(errs, fmt.Errorf("enqueue the digest of %s: %w", sub.RoomID, err))
			continue
		}
		if recorded {
			b.wakeOutbox()
		}
	}
	return errors.Join(errs...)
}

// digestSectionLimit is how many requests a digest lists in each section; `list` shows the
// rest.
const digestSectionLimit = 20

// digest summarizes what waits for approval, what is in progress, and what finished or
// failed since the last digest: each section's count, and its newest requests.
func (b *Bot) digest(ctx context.Context, since time.Time) (string, error) {
	all, err := b.db.Requests(ctx, RequestFilter{})
	if err != nil {
		return "", fmt.Errorf("list requests for the digest: %w", err)
	}
	var waiting, inProgress, finished []Request
	for _, r := range all {
		switch {
		case r.State == StateAwaitingApproval:
			waiting = append(waiting, r)
		case !r.State.Final():
			inProgress = append(inProgress, r)
		case r.Updated.After(since):
			finished = append(finished, r)
		}
	}
	var s strings.Builder
	fmt.Fprintf(&s, "**Attach digest**, since %s\n", formatWhen(since))
	for _, section := range []struct {
		title    string
		requests []Request
		more     string // the command that lists them all
	}{
		{"Waiting for the customer admin's approval", waiting, "`list approvals`"},
		{"In progress", inProgress, "`list pending`"},
		{"Finished or failed since the last digest", finished, "`list done` and `list failed`"},
	} {
		fmt.Fprintf(&s, "\n**%s**: %s\n", section.title, plural(len(section.requests), "request"))
		for i, r := range section.requests {
			if i == digestSectionLimit {
				fmt.Fprintf(&s, "… and %d more: %s\n", len(section.requests)-i, section.more)
				break
			}
			s.WriteString(formatRequestLine(r) + "\n")
		}
	}
	return strings.TrimRight(s.String(), "\n"), nil
}

// webhookCheckEvery is how often the sweep makes sure the bot's webhooks are active.
const webhookCheckEvery = time.Hour

// checkWebhooks re-activates the bot's webhooks when Webex disabled them (it never does by
// itself), and tells the spaces that get the digest.
func (b *Bot) checkWebhooks(ctx context.Context) error {
	if b.cfg.WebhookURL == "" {
		return nil
	}
	now := b.clock.Now()
	b.mu.Lock()
	due := b.lastWebhookCheck.IsZero() || now.Sub(b.lastWebhookCheck) >= webhookCheckEvery
	b.mu.Unlock()
	if !due {
		return nil
	}
	changed, err := b.EnsureWebhooks(ctx, b.cfg.WebhookURL, b.cfg.WebhookSecret)
	if err != nil {
		return err // checked again at the next sweep
	}
	b.mu.Lock()
	b.lastWebhookCheck = now
	b.mu.Unlock()
	var reactivated []string
	for _, c := range changed {
		if strings.HasPrefix(c, "re-activated") {
			reactivated = append(reactivated, c)
		}
	}
	if len(reactivated) == 0 {
		return nil
	}
	subs, err := b.db.Subscriptions(ctx)
	if err != nil {
		return fmt.Errorf("list digest subscriptions: %w", err)
	}
	var out []Outgoing
	for _, sub := range subs {
		out = append(out, Outgoing{Key: webhooksKey(sub.RoomID, now), Created: now, Message: OutMessage{RoomID: sub.RoomID,
			Markdown: "Note: Webex had disabled my webhooks (" + strings.Join(reactivated, "; ") + "), so commands and card clicks sent meanwhile may not have reached me. I re-activated them; please repeat anything that got no answer."}})
	}
	if err := b.db.Enqueue(ctx, out); err != nil {
		return fmt.Errorf("enqueue the webhook notes: %w", err)
	}
	b.wakeOutbox()
	return nil
}
