package bot

import (
	"context"
	"errors"
	"time"
)

// ErrExists is returned by Store.CreateRequest when the id is taken.
var ErrExists = errors.New("already exists")

// Store is the bot's durable state: the event inbox, the outbox, attach requests, batches,
// digest subscriptions and OAuth tokens. Every method is one transaction. The bot reads the inbox's
// index (EventRefs) and the outbox whole once, when it starts, and keeps an index of them in memory after;
// the store stays the truth. Work that several processes sharing one store could do twice
// (events, outbox lanes, polls, the leader's jobs, the locks) is claimed in it with a lease
// (docs/engine.md). The contract is tested for every implementation by package
// store/storetest.
type Store interface {
	// AddEvent puts a verified event in the inbox. It reports false, and changes nothing,
	// when an event with the same key is already in the inbox or was processed.
	AddEvent(ctx context.Context, ev Event) (bool, error)
	// AddEvents is AddEvent for many events in one transaction: it reports for each
	// whether it was added, and sets the Seq of those added (their order of arrival). Of two
	// events with one key in evs, the first is added.
	AddEvents(ctx context.Context, evs []Event) ([]bool, error)
	// Events returns the inbox, oldest first.
	Events(ctx context.Context) ([]Event, error)
	// EventRefs returns what the bot indexes of each inbox event, in the order of Events,
	// without reading the rest of the events into memory: what a start with a large inbox
	// needs.
	EventRefs(ctx context.Context) ([]EventRef, error)
	// SaveEvent updates an event in the inbox (its attempts, when to try again, why).
	SaveEvent(ctx context.Context, ev Event) error
	// The inbox's events are in lanes (Event.Lane: the events of one space), processed one
	// at a time in the store's order (Seq) whoever processes them: an event is handed out
	// only while it is the head of its lane (the lane's first event in the inbox) and no
	// other event of its lane is claimed under a lease that lives, by any owner.

	// ClaimEvents claims, for owner until until, those of the events with keys that are in
	// the inbox, due at now, heads of their lanes with no other event of the lane claimed
	// under a living lease, and not claimed by another owner under a lease that lives at
	// now (owner's own claims are extended), and returns them as stored. A claimed event is
	// handed to no other owner until its lease runs out.
	ClaimEvents(ctx context.Context, keys []string, owner string, now, until time.Time) ([]Event, error)
	// ClaimEventLanes is ClaimEvents for the heads of lanes, whatever their keys: what a
	// process that finished a lane's head asks for the next, which another process may
	// have accepted.
	ClaimEventLanes(ctx context.Context, lanes []string, owner string, now, until time.Time) ([]Event, error)
	// RenewEvents extends owner's claims until until; ErrLeaseLost, changing nothing, if
	// owner does not hold one of them.
	RenewEvents(ctx context.Context, keys []string, owner string, until time.Time) error
	// ReleaseEvent saves ev (its attempts, when to try again, why) and gives up owner's
	// claim on it, at once; ErrLeaseLost, changing nothing, if owner does not hold it.
	ReleaseEvent(ctx context.Context, ev Event, owner string) error
	// FinishEvent removes an event from the inbox, drops owner's claim on it, records its
	// key as processed and enqueues out, all at once. ErrNotFound, changing nothing, if the
	// event is not in the inbox; ErrLeaseLost, changing nothing, if owner does not hold its
	// claim (an empty owner, for work done without claims, only if no owner holds the event
	// under a lease living at processed).
	FinishEvent(ctx context.Context, key, owner string, processed time.Time, out []Outgoing) error
	// DeadLetterEvent removes an event that cannot be processed from the inbox, keeps it
	// for the operator, records its key as processed and enqueues out (a notice), at once.
	// ErrLeaseLost, changing nothing, if owner does not hold the event's claim (an empty
	// owner: if another owner holds it under a lease living at at; the event need not be in
	// the inbox then).
	DeadLetterEvent(ctx context.Context, ev Event, owner string, at time.Time, out []Outgoing) error
	// DueEvents returns, in the order of arrival, at most limit inbox events due at now
	// that no owner holds under a lease living at now: the work a replica that died left,
	// and the events other replicas accepted, for the periodic scan (docs/engine.md).
	DueEvents(ctx context.Context, now time.Time, limit int) ([]Event, error)
	// PruneProcessed forgets processed event keys and sent outbox keys older than before.
	PruneProcessed(ctx context.Context, before time.Time) (int, error)

	// Enqueue adds messages to the outbox; a message whose key was enqueued before is
	// skipped.
	Enqueue(ctx context.Context, out []Outgoing) error
	// Outbox returns the messages waiting to be sent, in the order they were enqueued.
	Outbox(ctx context.Context) ([]Outgoing, error)
	// OutboxAfter returns the waiting messages with a Seq greater than seq, in order: what
	// was enqueued after the last message the caller knows of. Seq follows commit order.
	OutboxAfter(ctx context.Context, seq uint64) ([]Outgoing, error)
	// SaveOutgoing updates a waiting message (its attempts, when to try again, why).
	SaveOutgoing(ctx context.Context, o Outgoing) error
	// MarkSent removes a message from the outbox and remembers its key as sent.
	MarkSent(ctx context.Context, key string, at time.Time) error
	// DeadLetterOutgoing removes a message that cannot be sent and keeps it for the operator.
	DeadLetterOutgoing(ctx context.Context, o Outgoing, at time.Time, out []Outgoing) error

	// The outbox's lanes (Outgoing.Lane: the messages to one space or person, sent one at a
	// time in Seq order) are claimed like events: the head of a lane is sent only by the
	// owner holding the lane, and a lane is held by one owner at a time while its lease lives.

	// DueLanes returns the heads (first waiting messages) of at most limit lanes whose head
	// is due at now and that no owner holds under a lease living at now, oldest head first.
	DueLanes(ctx context.Context, now time.Time, limit int) ([]Outgoing, error)
	// ClaimLanes claims, for owner until until, those of lanes whose head is due at now and
	// that no other owner holds under a lease living at now (owner's own claims are
	// extended), and returns their heads as stored.
	ClaimLanes(ctx context.Context, lanes []string, owner string, now, until time.Time) ([]Outgoing, error)
	// RenewLanes extends owner's claims on lanes until until; ErrLeaseLost, changing
	// nothing, if owner does not hold one of them.
	RenewLanes(ctx context.Context, lanes []string, owner string, until time.Time) error
	// ReleaseLane saves o, a waiting message (its attempts, when to try again, why), and
	// gives up owner's claim on its lane, at once; ErrLeaseLost, changing nothing, if owner
	// does not hold the lane.
	ReleaseLane(ctx context.Context, o Outgoing, owner string) error
	// FinishLane marks the waiting message key sent at at (as MarkSent) and gives up
	// owner's claim on its lane, at once; ErrLeaseLost, changing nothing, if owner does not
	// hold the lane.
	FinishLane(ctx context.Context, key, owner string, at time.Time) error
	// DeadLetterLane gives o up (as DeadLetterOutgoing, enqueueing out) and owner's claim on
	// its lane, at once; ErrLeaseLost, changing nothing, if owner does not hold the lane.
	DeadLetterLane(ctx context.Context, o Outgoing, owner string, at time.Time, out []Outgoing) error

	// CreateRequest saves a new request and enqueues out with it. It returns ErrExists
	// when the id is taken.
	CreateRequest(ctx context.Context, r Request, out []Outgoing) error
	// Request returns a request by id, or ErrNotFound.
	Request(ctx context.Context, id string) (Request, error)
	// UpdateRequest reads a request, lets fn change it, and saves it together with the
	// messages fn returns, in one transaction. fn must do no I/O. An error from fn
	// changes nothing and is returned as is.
	UpdateRequest(ctx context.Context, id string, fn func(r *Request) ([]Outgoing, error)) (Request, error)
	// UpdateRequests is UpdateRequest for many requests in one transaction: fn is called
	// for each id. A request that is missing, or that fn fails for, is left as it was while
	// the others are saved; those errors are returned joined.
	UpdateRequests(ctx context.Context, ids []string, fn func(id string, r *Request) ([]Outgoing, error)) error
	// Requests returns the requests f selects, newest first.
	Requests(ctx context.Context, f RequestFilter) ([]Request, error)

	// ClaimPolls claims, for owner until until, at most limit requests in a polled state
	// whose NextPoll is due at now and that no owner holds under a lease living at now, and
	// returns what a poll reads of them (PollClaim) as stored, earliest NextPoll first.
	ClaimPolls(ctx context.Context, owner string, now, until time.Time, limit int) ([]PollClaim, error)
	// FirstPoll returns the earliest NextPoll of the requests in a polled state for whose
	// id skip is false, and whether there is such a request. It reads the polls earliest
	// NextPoll first, up to the first one skip is false for, and no request whole. A
	// NextPoll before 1970 (the zero time of a request never scheduled, due at once) is
	// returned as the zero time.
	FirstPoll(ctx context.Context, skip func(id string) bool) (time.Time, bool, error)
	// DuePolls counts the requests in a polled state whose NextPoll is due at now, and
	// returns the earliest NextPoll among them (the zero time when none is due, or when
	// the earliest is before 1970), reading no request whole.
	DuePolls(ctx context.Context, now time.Time) (int, time.Time, error)
	// RenewPolls extends owner's claims on requests until until; ErrLeaseLost, changing
	// nothing, if owner does not hold one of them.
	RenewPolls(ctx context.Context, ids []string, owner string, until time.Time) error
	// ReleasePolls gives up owner's claims on requests, changing nothing else; the claims
	// owner does not hold are left alone.
	ReleasePolls(ctx context.Context, ids []string, owner string) error
	// FinishPolls is UpdateRequests for the polled requests owner holds, giving up the
	// claims at once: a request owner does not hold is left as it was, with an error
	// wrapping ErrLeaseLost among those returned joined.
	FinishPolls(ctx context.Context, ids []string, owner string, fn func(id string, r *Request) ([]Outgoing, error)) error

	// AcquireLease takes the named lease for owner until until when it is free or ran out
	// at now, or extends it when owner holds it, and reports whether owner holds it now.
	// While a lease lives it has one holder.
	AcquireLease(ctx context.Context, name, owner string, now, until time.Time) (bool, error)
	// RenewLease extends owner's named lease until until; ErrLeaseLost, changing nothing, if
	// owner does not hold it (another owner took it after it ran out, or it was released).
	RenewLease(ctx context.Context, name, owner string, until time.Time) error
	// ReleaseLease gives up owner's named lease; ErrLeaseLost, changing nothing, if owner
	// does not hold it.
	ReleaseLease(ctx context.Context, name, owner string) error

	// CreateBatch saves a new batch with its rows and enqueues out with it. It returns
	// ErrExists when the id is taken. The rows never change after.
	CreateBatch(ctx context.Context, b Batch, rows []BulkRow, out []Outgoing) error
	// Batch returns a batch by id (without its rows), or ErrNotFound.
	Batch(ctx context.Context, id string) (Batch, error)
	// BatchRows returns the rows of a batch, in the file's order, or ErrNotFound.
	BatchRows(ctx context.Context, id string) ([]BulkRow, error)
	// UpdateBatch reads a batch, lets fn change it, and saves it together with the messages
	// fn returns, in one transaction. fn must do no I/O. An error from fn changes nothing
	// and is returned as is.
	UpdateBatch(ctx context.Context, id string, fn func(b *Batch) ([]Outgoing, error)) (Batch, error)
	// Batches returns the batches in one of states (nil: every batch), oldest first.
	Batches(ctx context.Context, states []BatchState) ([]Batch, error)

	// SaveSubscription creates or replaces a space's digest subscription.
	SaveSubscription(ctx context.Context, s Subscription) error
	// DeleteSubscription removes a space's digest subscription; ErrNotFound if none.
	DeleteSubscription(ctx context.Context, roomID string) error
	// Subscriptions returns every digest subscription.
	Subscriptions(ctx context.Context) ([]Subscription, error)
	// RecordDigest enqueues a space's digest and sets the subscription's LastSent to sent,
	// at once, provided the subscription is still sub as read; otherwise (ended, replaced
	// or sent meanwhile) it changes nothing and reports false.
	RecordDigest(ctx context.Context, sub Subscription, sent time.Time, out []Outgoing) (bool, error)

	// SaveTokens keeps a named OAuth token set.
	SaveTokens(ctx context.Context, name string, t Tokens) error
	// Tokens returns a named OAuth token set, or ErrNotFound.
	Tokens(ctx context.Context, name string) (Tokens, error)
}

// PollClaim is a request claimed for a status poll (Store.ClaimPolls): what the poll reads
// of it, without the rest of the request. The poll's answer is recorded on the request as
// stored (Store.FinishPolls).
type PollClaim struct {
	ID string
	// CustomerID is the wholesale customer Webex is asked about.
	CustomerID string
	// WebexStatus is the status last recorded: a poll that finds the customer newly
	// provisioned also reads the partner's role in the organization.
	WebexStatus string
	// OrgID is the request's Spec.OrgID: where the role is read when Webex's answer names
	// no organization.
	OrgID string
	// NextPoll is when the poll was due.
	NextPoll time.Time
}

// Subscription is a space's scheduled digest.
type Subscription struct {
	RoomID    string    `json:"roomId"`
	Schedule  string    `json:"schedule"` // a robfig/cron spec, in UTC
	CreatedBy string    `json:"createdBy"`
	Created   time.Time `json:"created"`
	LastSent  time.Time `json:"lastSent,omitempty"`
}

// Tokens is an OAuth access token and the refresh token that renews it.
type Tokens struct {
	AccessToken    string    `json:"accessToken"`
	Expires        time.Time `json:"expires"`
	RefreshToken   string    `json:"refreshToken"`
	RefreshExpires time.Time `json:"refreshExpires,omitempty"`
}
