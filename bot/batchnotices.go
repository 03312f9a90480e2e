package bot

import (
	"context"
	"slices"
	"strings"
)

// groupedNotices is the Store as the bot uses it: the notices about a request of a batch
// that go to the batch's thread one by one for a one-line attach (created, submitted,
// rejected, each status, stuck, decided, expired, …) are left out when the request is saved,
// because the batch's grouped notice tells them, one message per sweep for the batch
// (reportBatch). Everything else passes through: the approval cards and notes to the
// customer admin, the answers to commands about the request, the deletions.
type groupedNotices struct{ Store }

// groupedWhats are the notices a batch's grouped notice tells instead: the what of their keys,
// or its start.
var groupedWhats = []string{"created", "submitted", "rejected", "status/", "stuck", "poll-failed/", "expired", "decided", whatHalfway}

// CreateRequest saves a new request without the notices its batch groups.
func (s groupedNotices) CreateRequest(ctx context.Context, r Request, out []Outgoing) error {
	return s.Store.CreateRequest(ctx, r, withoutGrouped(r, out))
}

// UpdateRequest updates a request without the notices its batch groups.
func (s groupedNotices) UpdateRequest(ctx context.Context, id string, fn func(r *Request) ([]Outgoing, error)) (Request, error) {
	return s.Store.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		out, err := fn(r)
		return withoutGrouped(*r, out), err
	})
}

// UpdateRequests updates requests without the notices their batches group.
func (s groupedNotices) UpdateRequests(ctx context.Context, ids []string, fn func(id string, r *Request) ([]Outgoing, error)) error {
	return s.Store.UpdateRequests(ctx, ids, func(id string, r *Request) ([]Outgoing, error) {
		out, err := fn(id, r)
		return withoutGrouped(*r, out), err
	})
}

// FinishPolls records poll answers without the notices their batches group.
func (s groupedNotices) FinishPolls(ctx context.Context, ids []string, owner string, fn func(id string, r *Request) ([]Outgoing, error)) error {
	return s.Store.FinishPolls(ctx, ids, owner, func(id string, r *Request) ([]Outgoing, error) {
		out, err := fn(id, r)
		return withoutGrouped(*r, out), err
	})
}

// withoutGrouped returns out without the notices to r's thread that r's batch groups.
func withoutGrouped(r Request, out []Outgoing) []Outgoing {
	if r.BatchID == "" {
		return out
	}
	return slices.DeleteFunc(slices.Clone(out), func(o Outgoing) bool {
		if o.RequestID != r.ID || o.DeleteMessageID != "" || o.Message.RoomID != r.RoomID || o.Message.ToPersonEmail != "" {
			return false
		}
		what := requestWhat(o)
		return slices.ContainsFunc(groupedWhats, func(w string) bool { return strings.HasPrefix(what, w) })
	})
}
