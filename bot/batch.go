package bot

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
)

// BatchState is where a batch (the attach of a whole CSV file) stands.
type BatchState string

// The states of a batch.
const (
	// BatchReady: the dry run and the card with Start and Cancel were sent; nothing started.
	BatchReady BatchState = "ready"
	// BatchRunning: Start was pressed; the rows are being submitted.
	BatchRunning BatchState = "running"
	// BatchSubmitted: every row was submitted (or refused); its requests go on as any do.
	BatchSubmitted BatchState = "submitted"
	// BatchCancelled: `cancel <batch id>` stopped the submission of the rows left.
	BatchCancelled BatchState = "cancelled"
	// BatchDiscarded: Cancel was pressed on the card; nothing was submitted.
	BatchDiscarded BatchState = "discarded"
)

// Batch is the attach of a CSV file's rows: the rows the dry run found valid, submitted one
// attach request each, at a bounded rate, once Start is pressed. The rows themselves are
// stored once, apart (Store.BatchRows); the batch holds where their submission stands and
// what the space was told of it.
type Batch struct {
	ID       string     `json:"id"`     // "B-" and 6 characters of requestIDAlphabet
	Source   string     `json:"source"` // the key of the event that made it (attach with a file)
	Created  time.Time  `json:"created"`
	Updated  time.Time  `json:"updated"`
	State    BatchState `json:"state"`
	RoomID   string     `json:"roomId"`
	ThreadID string     `json:"threadId"` // the attach command's thread: every notice goes there
	FileName string     `json:"fileName,omitempty"`

	RequestedBy   string `json:"requestedBy"`
	RequestedByID string `json:"requestedById"`

	// The dry run's counts: the file's rows, and those that would attach automatically,
	// need approval, or are refused (not in the batch).
	FileRows  int `json:"fileRows"`
	Automatic int `json:"automatic"`
	Approval  int `json:"approval"`
	Refused   int `json:"refused"`

	// StartEvent is the click on Start that started it, so that the same click processed
	// again carries on, and another is told it started already.
	StartEvent string    `json:"startEvent,omitempty"`
	StartedBy  string    `json:"startedBy,omitempty"`
	Started    time.Time `json:"started,omitempty"`
	// EndEvent is the click on Cancel or the `cancel` command that ended it.
	EndEvent string `json:"endEvent,omitempty"`
	EndedBy  string `json:"endedBy,omitempty"`

	// Next is how many rows were submitted: the rows before it each have their request, or
	// were refused (Refusals). A restart carries on from it; a row submitted again finds its
	// request by its id, which is derived from the batch and the row.
	Next     int            `json:"next"`
	Refusals []BatchRefusal `json:"refusals,omitempty"`
	// Attempts, NotBefore and LastError: the row at Next failed for a reason that may pass
	// and is tried again at NotBefore.
	Attempts  int       `json:"attempts,omitempty"`
	NotBefore time.Time `json:"notBefore,omitempty"`
	LastError string    `json:"lastError,omitempty"`

	// Progress is the batch's one progress message, edited in place.
	Progress BatchProgress `json:"progress"`
	// Told is the state of each of its requests that the batch's grouped notices told last.
	Told map[string]State `json:"told,omitempty"`
	// ToldRefusals is how many of Refusals the grouped notices told.
	ToldRefusals int `json:"toldRefusals,omitempty"`
	// Notices counts the grouped notices posted; LastPost is when the last new message
	// about the batch went to the space (a grouped notice or a new progress message).
	Notices  int       `json:"notices,omitempty"`
	LastPost time.Time `json:"lastPost,omitempty"`
	// Finished says the batch submits nothing more, every request of it ended, and the space
	// was told all of it: nothing more is reported.
	Finished bool `json:"finished,omitempty"`
}

// BatchRefusal is a row of a batch that got no request when it was submitted: the one-line
// attach's answer for it (the organization became a customer meanwhile, say).
type BatchRefusal struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// BatchProgress is the progress message of a batch: its id, the text it shows, when it was
// last posted or edited and how often it was edited (Webex allows 10 edits).
type BatchProgress struct {
	MessageID string    `json:"messageId,omitempty"`
	Shown     string    `json:"shown,omitempty"`
	At        time.Time `json:"at,omitempty"`
	Edits     int       `json:"edits,omitempty"`
}

// Open reports whether rows of a batch may still be submitted (it is ready or running).
func (s BatchState) Open() bool { return s == BatchReady || s == BatchRunning }

// batchIDPrefix starts every batch id; request ids never have a "-", so the two cannot be
// confused.
const batchIDPrefix = "B-"

// batchID derives a batch's id from the event that made it, so that processing the event
// again finds the same batch.
func batchID(source string, salt int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "batch|%s|%d", source, salt))
	id := make([]byte, requestIDLength)
	for i := range id {
		id[i] = requestIDAlphabet[int(sum[i])%len(requestIDAlphabet)]
	}
	return batchIDPrefix + string(id)
}

// ParseBatchID returns a typed batch id in its stored form (upper case), and whether it is
// one: "B-" and requestIDLength characters of requestIDAlphabet.
func ParseBatchID(s string) (string, bool) {
	id := strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(s), "#"))
	rest, ok := strings.CutPrefix(id, batchIDPrefix)
	if !ok || len(rest) != requestIDLength {
		return "", false
	}
	for _, c := range []byte(rest) {
		if strings.IndexByte(requestIDAlphabet, c) < 0 {
			return "", false
		}
	}
	return id, true
}

// LooksLikeBatchID reports whether a typed id is meant as a batch id (it starts with "B-"),
// well formed or not, so that `cancel` can tell a batch from a request.
func LooksLikeBatchID(s string) bool {
	return strings.HasPrefix(strings.ToUpper(strings.TrimPrefix(strings.TrimSpace(s), "#")), batchIDPrefix)
}

// batchRowSource is the event source of a batch row's request: its id and externalId are
// derived from it, so that submitting the row again finds the request it made.
func batchRowSource(batchID string, line int) string {
	return fmt.Sprintf("batch/%s/line/%d", batchID, line)
}
