package bot

import (
	"slices"
	"time"
)

// State is where an attach request stands. The Webex provisioning states are Webex's own
// status values, verbatim; the others are the bot's.
type State string

// The states of an attach request.
const (
	StateAwaitingApproval State = "awaiting_approval" // the approval card went to the customer admin
	StateDeclined         State = "declined"          // the customer admin declined
	StateExpired          State = "expired"           // nobody approved within the approval TTL
	StateWithdrawn        State = "withdrawn"         // the partner cancelled it
	StateSubmitting       State = "submitting"        // provisioning is being submitted to Webex
	StateRejected         State = "rejected"          // Webex refused the provisioning request

	StateProvisioning          State = "provisioning"
	StateUpdating              State = "updating"
	StatePendingReview         State = "pending_rpl_review"
	StateProvisioned           State = "provisioned"
	StateProvisionedWithErrors State = "provisioned_with_errors"
	StateError                 State = "error"
	// StateDeleting: the customer is being deleted (in Partner Hub or through the API); the
	// request ends there.
	StateDeleting State = "deleting"
)

// The states of a request that is not over, in the order a request goes through them: it
// waits for approval, is submitted, then polled.
var (
	openStates   = []State{StateAwaitingApproval, StateSubmitting, StateProvisioning, StateUpdating, StatePendingReview}
	polledStates = openStates[2:] // StateProvisioning, StateUpdating, StatePendingReview
)

// OpenStates returns the states of a request that is not over (State.Open).
func OpenStates() []State { return slices.Clone(openStates) }

// PolledStates returns the states in which Webex is polled for a request's status.
func PolledStates() []State { return slices.Clone(polledStates) }

// Open reports whether a request in state s is not over: it waits for approval, is being
// submitted, or Webex is still provisioning it. An organization has one open request at most.
func (s State) Open() bool { return slices.Contains(openStates, s) }

// Final reports whether nothing more will happen to a request in state s by itself (a request
// that ended error or provisioned_with_errors may still be retried). A state the bot does not
// know is neither Final nor Open.
func (s State) Final() bool {
	switch s {
	case StateDeclined, StateExpired, StateWithdrawn, StateRejected,
		StateProvisioned, StateProvisionedWithErrors, StateError, StateDeleting:
		return true
	}
	return false
}

// Polled reports whether Webex is polled for the status of a request in state s.
func (s State) Polled() bool { return slices.Contains(polledStates, s) }

// Tri is a yes, no or unknown fact.
type Tri string

// The values of a Tri.
const (
	Unknown Tri = ""
	Yes     Tri = "yes"
	No      Tri = "no"
)

// String returns "yes", "no" or "unknown".
func (t Tri) String() string {
	if t == Unknown {
		return "unknown"
	}
	return string(t)
}

// Fact is one criterion's value and where it came from ("GET /people?orgId=", "declared by
// ann@partner.example", or why it is unknown).
type Fact struct {
	Value  Tri    `json:"value"`
	Source string `json:"source"`
}

// Facts are the criteria of docs/rules-for-attaching.md for one organization.
type Facts struct {
	Users                Fact `json:"users"`                // 100 users or more
	VerifiedDomain       Fact `json:"verifiedDomain"`       // a verified email domain
	ClaimedDomain        Fact `json:"claimedDomain"`        // a claimed domain
	Trial                Fact `json:"trial"`                // a trial organization
	Licenses             Fact `json:"licenses"`             // has licenses at all
	InactiveLicensesOnly Fact `json:"inactiveLicensesOnly"` // only suspended or canceled licenses
	Managed              Fact `json:"managed"`              // the partner can already read the org
}

// Declared are the facts a partner admin declares because no API can read them.
type Declared struct {
	Users                Tri    `json:"users,omitempty"`
	VerifiedDomain       Tri    `json:"verifiedDomain,omitempty"`
	ClaimedDomain        Tri    `json:"claimedDomain,omitempty"`
	Trial                Tri    `json:"trial,omitempty"`
	InactiveLicensesOnly Tri    `json:"inactiveLicensesOnly,omitempty"`
	By                   string `json:"by,omitempty"` // the email of who declared them
}

// Role is the partner's role in the customer organization after an attach.
type Role string

// The roles the help article names.
const (
	RoleFullAdmin         Role = "Full Admin"
	RoleProvisioningAdmin Role = "Provisioning Admin"
)

// AttachSpec is what a partner asks for: which organization, for whom, with what.
type AttachSpec struct {
	OrgID             string           `json:"orgId"`
	AdminEmail        string           `json:"adminEmail"`
	CustomerName      string           `json:"customerName,omitempty"`
	Template          string           `json:"template"`       // the name the partner gave
	ProvisioningID    string           `json:"provisioningId"` // what it resolved to
	Packages          []string         `json:"packages"`
	ExternalID        string           `json:"externalId"`
	Address           Address          `json:"address"`
	Calling           *CallingLocation `json:"calling,omitempty"`
	Language          string           `json:"language,omitempty"`
	Declared          Declared         `json:"declared"`
	LocationConfirmed bool             `json:"locationConfirmed,omitempty"`
}

// CustomerRequest returns the wholesale API body for the spec.
func (s AttachSpec) CustomerRequest() CustomerRequest {
	return CustomerRequest{
		ProvisioningID: s.ProvisioningID,
		Packages:       s.Packages,
		OrgID:          s.OrgID,
		ExternalID:     s.ExternalID,
		Address:        s.Address,
		CustomerName:   s.CustomerName,
		PrimaryEmail:   s.AdminEmail,
		Language:       s.Language,
		Calling:        s.Calling,
	}
}

// CustomerUpdate returns the body that submits the spec's packages again to its wholesale
// customer: every package the spec asked for (a complete list, as the PUT wants), with the
// calling location.
func (s AttachSpec) CustomerUpdate() CustomerUpdate {
	return CustomerUpdate{Packages: s.Packages, Calling: s.Calling}
}

// AuditEntry is one line of a request's audit trail.
type AuditEntry struct {
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"` // an email, or "attachbot"
	Action     string    `json:"action"`
	Detail     string    `json:"detail,omitempty"`
	TrackingID string    `json:"trackingId,omitempty"`
}

// Request is one attach request, from the partner's command to its end.
type Request struct {
	ID       string    `json:"id"`     // short, typeable
	Source   string    `json:"source"` // the key of the event that created it
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	State    State     `json:"state"`
	RoomID   string    `json:"roomId"`   // the partner's space
	ThreadID string    `json:"threadId"` // the root message of the partner's thread

	RequestedBy   string `json:"requestedBy"` // email
	RequestedByID string `json:"requestedById"`
	// BatchID is the batch that made the request, if any: its notices go to the batch's
	// thread grouped, one message per sweep for the batch.
	BatchID string `json:"batchId,omitempty"`

	Spec       AttachSpec `json:"spec"`
	OrgName    string     `json:"orgName,omitempty"` // when the partner could read it
	Facts      Facts      `json:"facts"`
	Assessment Assessment `json:"assessment"`

	ApprovalSent time.Time `json:"approvalSent,omitempty"`
	// ApprovalCards are the messages that carry the request's approval card (the first and
	// every reminder), so that they are deleted once the request is decided, withdrawn or
	// expired.
	ApprovalCards []string  `json:"approvalCards,omitempty"`
	RemindedAt    time.Time `json:"remindedAt,omitempty"`
	DecidedBy     string    `json:"decidedBy,omitempty"`
	DecidedAt     time.Time `json:"decidedAt,omitempty"`
	Comment       string    `json:"comment,omitempty"`
	// DecisionEvent is the card submission (or the cancel command) that decided the request,
	// so that processing it again after a crash carries on instead of answering "already
	// approved" or "already withdrawn".
	DecisionEvent string `json:"decisionEvent,omitempty"`

	CustomerID  string          `json:"customerId,omitempty"`
	WebexStatus string          `json:"webexStatus,omitempty"`
	Errors      []ErrorDetail   `json:"errors,omitempty"`
	Packages    []PackageStatus `json:"packages,omitempty"`
	Role        string          `json:"role,omitempty"` // roleInCustomerOrg once provisioned
	// PollFailureTold says the partner was told that Webex refuses to show the status; it
	// is cleared when a poll succeeds again.
	PollFailureTold bool `json:"pollFailureTold,omitempty"`

	// OutcomeUnknown says the answer to a submission was lost: Webex may have created the
	// customer, so a refusal of the next submission is not "nothing was created".
	OutcomeUnknown bool `json:"outcomeUnknown,omitempty"`

	// RetryEvent is the command or card click that asked for the latest retry, so that
	// processing it again after a crash carries on instead of retrying twice; RetrySending
	// says its PUT may have reached Webex without its answer being recorded.
	RetryEvent   string `json:"retryEvent,omitempty"`
	RetrySending bool   `json:"retrySending,omitempty"`

	Submitted    time.Time     `json:"submitted,omitempty"` // when Webex accepted it
	NextPoll     time.Time     `json:"nextPoll,omitempty"`
	PollInterval time.Duration `json:"pollInterval,omitempty"`
	// PollFailures counts the polls in a row that failed for a reason that may pass (a 5xx, a
	// 429, a timeout); a poll that gets an answer clears it.
	PollFailures int  `json:"pollFailures,omitempty"`
	StuckWarned  bool `json:"stuckWarned,omitempty"`

	Audit []AuditEntry `json:"audit"`
}

// RequestFilter selects requests. Zero fields select everything.
type RequestFilter struct {
	RoomID string
	States []State
	Limit  int
}
