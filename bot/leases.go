package bot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Claims with leases: the bot holds its work (events, outbox lanes, polls) and its named
// leases (the leader's, the per-organization and per-request locks) in the store, for a time.
// A timer renews every claim held (runLeases); a claim found lost stops its work, whose
// context is cancelled with ErrLeaseLost as the cause. docs/engine.md has the timings.
const (
	// laneLease is how long a claim on an outbox lane lives.
	laneLease = time.Minute
	// pollLease is how long a claim on a request's poll lives.
	pollLease = time.Minute
	// leaderLease is how long the leader's lease lives: a leader that dies is replaced
	// within it (and renewEvery).
	leaderLease = 30 * time.Second
	// lockLease is how long a per-organization or per-request lock lives.
	lockLease = time.Minute
	// renewEvery is how often the held claims are renewed: well within the shortest lease.
	renewEvery = 10 * time.Second
	// scanEvery is how often, by default (Config.ScanEvery), the inbox and the outbox are
	// scanned for due work that no one holds (another replica's, or one that died): such
	// work is picked up within its lease and the scan's period.
	scanEvery = 10 * time.Second
	// scanLimit bounds the work one scan finds.
	scanLimit = 1000
	// lockRetry is how long a lock held by another process is waited for before asking again.
	lockRetry = 200 * time.Millisecond
)

// leaderName is the name of the leader's lease: the jobs that must run once run on its
// holder.
const leaderName = "leader"

// claimKind is a kind of claim the bot holds.
type claimKind int

const (
	claimEvent claimKind = iota
	claimLane
	claimPoll
	claimNamed
	claimKinds
)

// leaseKeeper is the claims this process holds, and how to stop the work of each. A key
// may be claimed again once its claim was forgotten (an outbox lane, for its next head):
// each claim is its own, so that a verdict about an old claim never stops a newer one.
type leaseKeeper struct {
	mu   sync.Mutex
	held [claimKinds]map[string]*heldClaim
}

// heldClaim is one claim held: how to stop its work.
type heldClaim struct {
	cancel context.CancelCauseFunc
}

// hold records a claim on key, and returns the context of its work (cancelled with
// ErrLeaseLost when the claim is lost) and the function that forgets the claim once the
// work is done.
func (k *leaseKeeper) hold(ctx context.Context, kind claimKind, key string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	c := &heldClaim{cancel: cancel}
	k.mu.Lock()
	if k.held[kind] == nil {
		k.held[kind] = map[string]*heldClaim{}
	}
	k.held[kind][key] = c
	k.mu.Unlock()
	return ctx, func() {
		k.mu.Lock()
		if k.held[kind][key] == c {
			delete(k.held[kind], key)
		}
		k.mu.Unlock()
		cancel(nil)
	}
}

// holds reports whether a claim on key is held.
func (k *leaseKeeper) holds(kind claimKind, key string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.held[kind][key]
	return ok
}

// claims returns the claims of a kind held, by key.
func (k *leaseKeeper) claims(kind claimKind) map[string]*heldClaim {
	k.mu.Lock()
	defer k.mu.Unlock()
	return maps.Clone(k.held[kind])
}

// lost stops the work of claim c on key, found lost, and forgets it; it reports whether c
// was still held. When c was forgotten (its work ended: a lane sent and released), and
// perhaps key claimed again since, nothing stops: a new claim is not the one found lost.
func (k *leaseKeeper) lost(kind claimKind, key string, c *heldClaim) bool {
	k.mu.Lock()
	if k.held[kind][key] != c {
		k.mu.Unlock()
		return false
	}
	delete(k.held[kind], key)
	k.mu.Unlock()
	c.cancel(fmt.Errorf("%s: %w", key, ErrLeaseLost))
	return true
}

// runLeases renews the held claims every renewEvery until ctx ends.
func (b *Bot) runLeases(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.timers.After(renewEvery):
		}
		b.renewLeases(ctx)
	}
}

// renewLeases extends every claim held. A claim the store says is lost has its work stopped.
// A claim that could not be renewed for another reason (the store is unreachable) is tried
// again at the next tick.
func (b *Bot) renewLeases(ctx context.Context) {
	now := b.clock.Now()
	batches := []struct {
		kind  claimKind
		renew func(ctx context.Context, keys []string, owner string, until time.Time) error
		lease time.Duration
	}{
		{claimEvent, b.db.RenewEvents, eventLease},
		{claimLane, b.db.RenewLanes, laneLease},
		{claimPoll, b.db.RenewPolls, pollLease},
		{claimNamed, b.renewNamed, lockLease},
	}
	for _, batch := range batches {
		held := b.keeper.claims(batch.kind)
		if len(held) == 0 {
			continue
		}
		keys := slices.Collect(maps.Keys(held))
		until := now.Add(batch.lease)
		err := batch.renew(ctx, keys, b.owner, until)
		if !errors.Is(err, ErrLeaseLost) {
			if err != nil && ctx.Err() == nil {
				b.log.Error("renew claims", "claims", len(keys), "err", err)
			}
			continue
		}
		// One of them is lost: find which, one by one.
		for _, key := range keys {
			if err := batch.renew(ctx, []string{key}, b.owner, until); errors.Is(err, ErrLeaseLost) {
				if b.keeper.lost(batch.kind, key, held[key]) {
					b.log.Warn("claim lost; its work stops", "claim", key, "err", err)
				}
			}
		}
	}
}

// renewNamed renews named leases, each for its own time: the leader's for leaderLease, a
// lock's for lockLease (until is now + lockLease).
func (b *Bot) renewNamed(ctx context.Context, names []string, owner string, until time.Time) error {
	var errs []error
	for _, name := range names {
		u := until
		if name == leaderName {
			u = until.Add(leaderLease - lockLease)
		}
		errs = append(errs, b.db.RenewLease(ctx, name, owner, u))
	}
	return errors.Join(errs...)
}

// lock takes the lock on key for this process (one goroutine at a time) and in the store (one
// process at a time), waiting for it, and returns the context of the work it guards
// (cancelled if the lock's lease is lost) and the function that frees it.
func (b *Bot) lock(ctx context.Context, key string) (context.Context, func(), error) {
	unlockLocal := b.locks.lock(key)
	name := "lock/" + key
	for {
		now := b.clock.Now()
		ok, err := b.db.AcquireLease(ctx, name, b.owner, now, now.Add(lockLease))
		if err != nil {
			unlockLocal()
			return nil, nil, fmt.Errorf("take the lock on %s: %w", key, err)
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			unlockLocal()
			return nil, nil, fmt.Errorf("wait for the lock on %s: %w", key, ctx.Err())
		case <-b.timers.After(lockRetry):
		}
	}
	lockCtx, forget := b.keeper.hold(ctx, claimNamed, name)
	return lockCtx, func() {
		forget()
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := b.db.ReleaseLease(releaseCtx, name, b.owner); err != nil {
			b.log.Warn("free a lock; it is freed when its lease runs out", "lock", key, "err", err)
		}
		unlockLocal()
	}, nil
}

// lead reports whether this process is the leader, taking the leader's lease when it is free
// or ran out, and returns the context of the leader's work (cancelled if the lease is lost).
func (b *Bot) lead(ctx context.Context) (context.Context, bool, error) {
	now := b.clock.Now()
	ok, err := b.db.AcquireLease(ctx, leaderName, b.owner, now, now.Add(leaderLease))
	if err != nil || !ok {
		return nil, false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.leaderCtx == nil || b.leaderCtx.Err() != nil {
		if b.leaderCtx == nil {
			b.log.Info("this process leads: it runs the jobs that must run once", "owner", b.owner)
		}
		parent := b.runCtx
		if parent == nil { // not started: a sweep run by hand
			parent = context.Background()
		}
		b.leaderCtx, _ = b.keeper.hold(parent, claimNamed, leaderName)
	}
	return b.leaderCtx, true, nil
}

// leading returns ctx made to end when this process's leadership does, and the function that
// ends it; and whether this process leads (when it does not, ctx is returned as it is).
func (b *Bot) leading(ctx context.Context) (context.Context, func(), bool, error) {
	leaderCtx, ok, err := b.lead(ctx)
	if err != nil || !ok {
		return ctx, func() {}, false, err
	}
	workCtx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(leaderCtx, func() { cancel(context.Cause(leaderCtx)) })
	return workCtx, func() { stop(); cancel(nil) }, true, nil
}

// asLeader returns job made to run on the leader only: elsewhere it does nothing. The job
// stops if the leadership is lost while it runs.
func (b *Bot) asLeader(job Job) Job {
	run := job.Run
	job.Run = func(ctx context.Context) error {
		ctx, end, ok, err := b.leading(ctx)
		if err != nil {
			return fmt.Errorf("%s: find the leader: %w", job.Name, err)
		}
		defer end()
		if !ok {
			b.log.Debug("job left to the leader", "job", job.Name)
			return nil
		}
		return run(ctx)
	}
	return job
}

// giveBack releases, when the bot stops, the claim on work it did not finish (release saves
// the work as it was and drops the claim), so that another replica, or the next start, takes
// the work over at once rather than when the lease runs out. A claim lost meanwhile is
// another's already; any other failure is logged, and the lease then runs out.
func (b *Bot) giveBack(ctx context.Context, what string, release func(ctx context.Context) error) {
	releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := release(releaseCtx); err != nil && !errors.Is(err, ErrLeaseLost) {
		b.log.Warn("give back the claim on "+what+"; it is taken over when its lease runs out", "err", err)
	}
}

// resign gives up the leader's lease when the bot stops, so that another replica takes the
// jobs over at once.
func (b *Bot) resign(ctx context.Context) {
	c, ok := b.keeper.claims(claimNamed)[leaderName]
	if !ok {
		return
	}
	b.keeper.lost(claimNamed, leaderName, c)
	if err := b.db.ReleaseLease(ctx, leaderName, b.owner); err != nil {
		b.log.Warn("give up the leader's lease; another replica takes over when it runs out", "err", err)
	}
}
