package bot

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config is the bot's behaviour, as the operator configured it.
type Config struct {
	PartnerAdmins Allowlist
	Templates     []Template
	// PartnerName is how customer admins are told who asks (default: the requester's
	// email domain).
	PartnerName string
	// AdminSpaces are the room ids of the spaces where `status <id>`, `cancel <id>`,
	// `remind <id>` and `retry <id>` may act on a request made in any space; elsewhere they act
	// only on the requests made in the same space.
	AdminSpaces []string
	// Workers is how many events are processed at once (default 4); the events of one
	// space are processed one at a time, in arrival order.
	Workers int
	// SendConcurrency is how many messages are sent at once (default
	// DefaultSendConcurrency); the messages to one space, or one person, are sent one at a
	// time, in order.
	SendConcurrency int
	// ApprovalTTL is how long a customer admin has to approve (default DefaultApprovalTTL).
	ApprovalTTL time.Duration
	// StuckAfter is how long provisioning may take before the partner is warned (default
	// DefaultStuckAfter).
	StuckAfter time.Duration
	// Retention is how long processed event keys are remembered (default 7 days).
	Retention time.Duration
	// MaxAttempts is how often an event or a message is tried before it is given up
	// (default 8).
	MaxAttempts int
	// WebhookURL and WebhookSecret, when WebhookURL is set, are what the sweep keeps the
	// bot's webhooks pointed at and signed with (hourly).
	WebhookURL, WebhookSecret string
	// RefreshToken is the partner's OAuth refresh token from the environment; the store
	// keeps the newer ones the bot gets. Used when Deps.Tokens is set.
	RefreshToken string
	// RetryBase is the first retry delay of an event or a message (default 2s), doubled
	// on each attempt up to RetryMax (default 5m).
	RetryBase, RetryMax time.Duration
	// FirstPoll is how long after a submission or a status change Webex is asked for the
	// status (default 5s), and how often during the fast window (2 minutes) after them;
	// after it, an unchanged status doubles the wait, up to MaxPoll (default 15m). A poll that
	// failed for a reason that may pass is retried after FirstPoll too, never before a
	// Retry-After (docs/polling.md). The sandbox shortens both.
	FirstPoll, MaxPoll time.Duration
	// PollInSweepOnly leaves polling to Sweep: no poll loop runs (tests that drive the
	// sweep on a fake clock themselves). By default the bot's poll loop polls each request
	// when its poll is due, and Sweep does not poll.
	PollInSweepOnly bool
	// Owner is who this process is in the store's claims and leases: unique per process
	// (default: a random one). Replicas sharing a store must have different owners.
	Owner string
	// ScanEvery is how often the inbox and the outbox are scanned for due work no one holds
	// (default 10s, docs/engine.md); tests of replicas shorten it.
	ScanEvery time.Duration
}

// The defaults of Config's durations, where a field is zero; the operator's configuration
// starts from them too.
const (
	// DefaultApprovalTTL is how long a customer admin has to approve.
	DefaultApprovalTTL = 7 * 24 * time.Hour
	// DefaultStuckAfter is how long provisioning may take before the partner is warned.
	DefaultStuckAfter = 2 * time.Hour
	// DefaultSendConcurrency is how many messages are sent at once.
	DefaultSendConcurrency = 16
)

// Template is an onboarding template the partner offers: a name people type and the
// provisioningId Webex knows it by.
type Template struct {
	Name           string
	ProvisioningID string
}

// Deps are what the bot talks to.
type Deps struct {
	Messenger Messenger
	Partner   Partner
	Store     Store
	Cards     Cards
	Clock     Clock
	// Timers times the renewal of the claims, the scans for work no one holds and the waits
	// for a lock held elsewhere (default: Clock). Tests whose Clock moves at every wait give
	// these periodic timers a clock of their own.
	Timers Clock
	Logger *slog.Logger
	// Tokens, when set, keeps the partner's OAuth token fresh.
	Tokens TokenRefresher
	// Metrics, when set, is told of provisioning outcomes and sends.
	Metrics Metrics
}

// Bot is attachbot's core. It owns the worker pool that processes the durable inbox and the
// sender that drains the durable outbox; Start launches them and Stop ends them.
type Bot struct {
	cfg       Config
	locks     keyLocks // one submission per request, one open request per organization
	webex     Messenger
	partner   Partner
	db        Store
	cards     Cards
	tokens    TokenRefresher
	metrics   Metrics
	clock     Clock
	timers    Clock // the periodic timers' (Deps.Timers)
	log       *slog.Logger
	me        atomic.Pointer[Person] // learnt once by Start, before the workers run
	table     []route                // the command table
	wakeInbox chan struct{}
	wakeOut   chan struct{}
	wakePoll  chan struct{}
	polling   atomic.Bool   // the poll loop runs
	pollSlots chan struct{} // one per status call under way, pollConcurrency at most

	wakeBatch    chan struct{}
	batchWakes   atomic.Uint64   // how often the batch loop was woken (wakeBatches)
	batchRead    atomic.Uint64   // the batchWakes the batch loop has looked after
	batchNext    atomic.Int64    // when the batch loop has work again (UnixNano; 0: when woken)
	batchPace    sync.Mutex      // guards batchLastRow
	batchLastRow time.Time       // when the last row of a batch started (paceRow)
	batchHeld    map[string]bool // the batches this process claimed (the batch loop's)

	owner    string           // who this bot is in the store's claims (Config.Owner)
	keeper   leaseKeeper      // the claims held, renewed by runLeases
	intake   *groupCommit     // the group commit of accepted events
	inbox    *lanes[struct{}] // the inbox, as an index in memory: a lane per space (keys and order only: an event is read from the store when claimed)
	outbox   *lanes[struct{}] // the outbox, as an index in memory: a lane per destination (keys and order only: a message is read from the store when its lane is claimed)
	outSeq   uint64           // the last outbox Seq read from the store (the outbox loop's)
	outWakes atomic.Uint64    // how often messages were committed to the outbox (wakeOutbox)
	outRead  atomic.Uint64    // the outWakes the outbox loop has read the store after

	mu               sync.Mutex
	changed          chan struct{} // closed and replaced whenever work finishes
	inflight         int           // events being handled, poll runs under way, lanes to probe and accepted events the intake holds back
	lastWebhookCheck time.Time
	tokenInUse       string          // the partner access token the bot last gave its client (tokens.go)
	runCtx           context.Context // the loops' context, from Start
	leaderCtx        context.Context // the leader's work, while this process leads

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a bot. It does no I/O; Start does.
func New(cfg Config, deps Deps) (*Bot, error) {
	switch {
	case deps.Messenger == nil:
		return nil, errors.New("bot.New: no Messenger")
	case deps.Partner == nil:
		return nil, errors.New("bot.New: no Partner")
	case deps.Store == nil:
		return nil, errors.New("bot.New: no Store")
	case deps.Cards == nil:
		return nil, errors.New("bot.New: no Cards")
	}
	if deps.Clock == nil {
		deps.Clock = SystemClock{}
	}
	if deps.Timers == nil {
		deps.Timers = deps.Clock
	}
	if cfg.Owner == "" {
		cfg.Owner = rand.Text()
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Metrics == nil {
		deps.Metrics = noMetrics{}
	}
	if cfg.ScanEvery <= 0 {
		cfg.ScanEvery = scanEvery
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.SendConcurrency <= 0 {
		cfg.SendConcurrency = DefaultSendConcurrency
	}
	if cfg.ApprovalTTL <= 0 {
		cfg.ApprovalTTL = DefaultApprovalTTL
	}
	if cfg.StuckAfter <= 0 {
		cfg.StuckAfter = DefaultStuckAfter
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 2 * time.Second
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 5 * time.Minute
	}
	if cfg.FirstPoll <= 0 {
		cfg.FirstPoll = DefaultFirstPoll
	}
	if cfg.MaxPoll < cfg.FirstPoll {
		cfg.MaxPoll = max(15*time.Minute, cfg.FirstPoll)
	}
	b := &Bot{
		cfg:       cfg,
		webex:     timedMessenger{Messenger: deps.Messenger, metrics: deps.Metrics, clock: deps.Clock},
		partner:   deps.Partner,
		db:        groupedNotices{deps.Store},
		cards:     deps.Cards,
		tokens:    deps.Tokens,
		metrics:   deps.Metrics,
		clock:     deps.Clock,
		timers:    deps.Timers,
		log:       deps.Logger,
		wakeInbox: make(chan struct{}, 1),
		wakeOut:   make(chan struct{}, 1),
		wakePoll:  make(chan struct{}, 1),
		wakeBatch: make(chan struct{}, 1),
		batchHeld: map[string]bool{},
		pollSlots: make(chan struct{}, pollConcurrency),
		changed:   make(chan struct{}),
		owner:     cfg.Owner,
		inbox:     newLanes[struct{}](),
		outbox:    newLanes[struct{}](),
	}
	b.intake = &groupCommit{commit: b.db.AddEvents, committed: b.queueAdded, holding: b.holdAdded}
	b.table = b.routes()
	return b, nil
}

// Me returns the bot's own person, known once Start has run (the zero Person before).
func (b *Bot) Me() Person {
	if me := b.me.Load(); me != nil {
		return *me
	}
	return Person{}
}

// Templates returns the onboarding templates the bot offers.
func (b *Bot) Templates() []Template { return b.cfg.Templates }

// Start learns who the bot is (GET /people/me), then starts the workers, the outbox
// sender and the poll loop, which run until Stop. Events and messages left over from an earlier run are
// processed and sent.
func (b *Bot) Start(ctx context.Context) error {
	me, err := b.webex.Me(ctx)
	if err != nil {
		return fmt.Errorf("learn the bot's own identity: %w", err)
	}
	b.me.Store(&me)
	if err := b.useStoredToken(ctx); err != nil {
		return err
	}
	if err := b.recover(ctx); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	b.mu.Lock()
	b.runCtx = runCtx
	b.mu.Unlock()
	b.wakeBatches() // the batches an earlier run left running carry on
	b.wg.Add(4)
	go func() { defer b.wg.Done(); b.runInbox(runCtx) }()
	go func() { defer b.wg.Done(); b.runOutbox(runCtx) }()
	go func() { defer b.wg.Done(); b.runLeases(runCtx) }()
	go func() { defer b.wg.Done(); b.runBatches(runCtx) }()
	if !b.cfg.PollInSweepOnly {
		b.polling.Store(true)
		b.wg.Add(1)
		go func() { defer b.wg.Done(); defer b.polling.Store(false); b.runPolls(runCtx) }()
	}
	b.log.Info("bot started", "person_id", me.ID, "name", me.DisplayName, "workers", b.cfg.Workers, "send_concurrency", b.cfg.SendConcurrency, "owner", b.owner)
	return nil
}

// recover loads the store's inbox and outbox into memory, once: the events and messages
// left over from an earlier run. After it, the store is not read whole again.
func (b *Bot) recover(ctx context.Context) error {
	events, err := b.db.EventRefs(ctx)
	if err != nil {
		return fmt.Errorf("load the inbox: %w", err)
	}
	for _, ev := range events {
		b.inbox.push(ev.Lane(), ev.Key, ev.Seq, struct{}{}, ev.NotBefore, ev.Received)
	}
	out, err := b.db.OutboxAfter(ctx, 0)
	if err != nil {
		return fmt.Errorf("load the outbox: %w", err)
	}
	b.queueOutgoing(out)
	if len(events) > 0 || len(out) > 0 {
		b.log.Info("work left from an earlier run", "events", len(events), "messages", len(out))
	}
	return nil
}

// QueueStats is what waits in the bot's queues, read from memory (no I/O).
type QueueStats struct {
	// InboxDepth is how many events wait in the inbox, those in work included.
	InboxDepth int
	// InboxOldest is when the oldest of them was received (zero when none waits).
	InboxOldest time.Time
	// OutboxDepth is how many messages wait in the outbox, those being sent included.
	OutboxDepth int
	// OutboxOldest is when the oldest of them was enqueued (zero when none waits).
	OutboxOldest time.Time
}

// QueueStats returns the depths of the inbox and the outbox and the age of their oldest
// entries. It is cheap (a look at memory, under a lock), for metrics.
func (b *Bot) QueueStats() QueueStats {
	var s QueueStats
	s.InboxDepth, s.InboxOldest = b.inbox.stats()
	s.OutboxDepth, s.OutboxOldest = b.outbox.stats()
	return s
}

// Stop ends the workers, the sender and the poll loop and waits for them, or for ctx. Work cut short stays
// in the inbox and the outbox and is done after the next Start.
func (b *Bot) Stop(ctx context.Context) error {
	if b.cancel == nil {
		return nil
	}
	b.cancel()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		b.resign(ctx)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop the bot's workers: %w", ctx.Err())
	}
}

// Halt stops the bot's loops as a crash would, for the tests of replicas that kill one: the
// work under way is abandoned where it is, and unlike Stop, the leader's lease is not given
// up; the claims stay in the store until their leases run out. It waits for the loops.
func (b *Bot) Halt() {
	if b.cancel == nil {
		return
	}
	b.cancel()
	b.wg.Wait()
}

// Accept stores a verified webhook event in the durable inbox and wakes the workers. It
// returns once the event is stored: concurrent calls share one transaction (group commit,
// see intake); a redelivered event is acknowledged and ignored, and so
// are an event the bot caused itself and one about a change older than MaxEventAge.
func (b *Bot) Accept(ctx context.Context, ev Event) error {
	if me := b.Me(); me.ID != "" && ev.ActorID == me.ID {
		b.log.Debug("event caused by the bot itself dropped", "event", ev.Key)
		return nil
	}
	if ev.Received.IsZero() {
		ev.Received = b.clock.Now()
	}
	if stale(ev.Created, ev.Received) {
		b.log.Warn("stale webhook delivery acknowledged and ignored: a replay, or delivered days late", "event", ev.Key, "created", ev.Created, "received", ev.Received)
		return nil
	}
	added, err := b.intake.add(ctx, ev)
	if err != nil {
		return fmt.Errorf("store event %s: %w", ev.Key, err)
	}
	if !added {
		b.log.Info("redelivered event acknowledged", "event", ev.Key)
	}
	return nil
}

// Settle waits until the inbox and the outbox are empty (as the bot's memory of them says:
// it reads neither from the store), nothing is being processed and, when the poll loop runs,
// no poll is due or under way, or until ctx ends. Tests and the sandbox use it to wait for
// the bot instead of sleeping.
func (b *Bot) Settle(ctx context.Context) error {
	for {
		b.mu.Lock()
		changed, inflight := b.changed, b.inflight
		b.mu.Unlock()
		// Polls first: a poll recorded after this look put its notice in the outbox before
		// the outbox is read below.
		pollDue, err := b.pollLoopBehind(ctx)
		if err != nil {
			return err
		}
		if inflight == 0 && !pollDue && !b.batchBehind() && b.outWakes.Load() == b.outRead.Load() {
			if s := b.QueueStats(); s.InboxDepth == 0 && s.OutboxDepth == 0 && b.quietSince(changed) {
				return nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// quietSince reports whether nothing is in flight now and nothing progressed since changed
// was read: then Settle's looks, taken one after the other, saw one moment. Without it, a
// look at the work in flight taken before a lane's emptying and a look at the queues taken
// after it could both see nothing while the lane waits for its probe.
func (b *Bot) quietSince(changed chan struct{}) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inflight == 0 && b.changed == changed
}

// progressed tells Settle that something finished.
func (b *Bot) progressed() {
	b.mu.Lock()
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// wake signals a loop without blocking.
func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// backoff returns the delay before attempt n+1 after n failed attempts.
func (b *Bot) backoff(attempts int) time.Duration {
	d := b.cfg.RetryBase
	for i := 1; i < attempts && d < b.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, b.cfg.RetryMax)
}

// timerFor returns a channel that fires at the earliest of the given times, or nil (never)
// when there is none.
func (b *Bot) timerFor(next time.Time) <-chan time.Time {
	if next.IsZero() {
		return nil
	}
	return b.clock.After(max(next.Sub(b.clock.Now()), 0))
}
