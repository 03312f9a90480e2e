package bot

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Messenger is Webex as the bot's own token sees it: messages, card submissions, people and
// the bot's webhooks. Every method does I/O and honours ctx.
type Messenger interface {
	// Me returns the bot's own person.
	Me(ctx context.Context) (Person, error)
	// Person returns a person by id.
	Person(ctx context.Context, personID string) (Person, error)
	// Message returns a message by id, with its decrypted text.
	Message(ctx context.Context, messageID string) (Message, error)
	// AttachmentAction returns a card submission by id.
	AttachmentAction(ctx context.Context, actionID string) (AttachmentAction, error)
	// Send posts a message and returns it as Webex created it.
	Send(ctx context.Context, msg OutMessage) (Message, error)
	// EditMessage replaces the markdown of one of the bot's own messages in roomID
	// (PUT /messages/{id}). Webex refuses to edit a message with a file or a card, and more
	// than 10 edits of one message.
	EditMessage(ctx context.Context, messageID, roomID, markdown string) (Message, error)
	// Download reads the file of a message's content URL with the bot's token. A file of
	// more than maxBytes is not read to its end: the error wraps ErrFileTooLarge.
	Download(ctx context.Context, contentURL string, maxBytes int64) (File, error)
	// DeleteMessage deletes one of the bot's own messages; a message that is gone already is
	// an *APIError with status 404.
	DeleteMessage(ctx context.Context, messageID string) error
	// Webhooks lists the webhooks the bot's token owns.
	Webhooks(ctx context.Context) ([]Webhook, error)
	// CreateWebhook creates a webhook.
	CreateWebhook(ctx context.Context, hook Webhook) (Webhook, error)
	// UpdateWebhook changes a webhook's name, target URL, secret and status.
	UpdateWebhook(ctx context.Context, hook Webhook) (Webhook, error)
}

// Partner is Webex as the partner full admin's token sees it: customer organizations and the
// wholesale provisioning API.
type Partner interface {
	// CountPeople counts the people of an organization, stopping as soon as limit are counted.
	CountPeople(ctx context.Context, orgID string, limit int) (int, error)
	// Licenses lists the licenses of an organization.
	Licenses(ctx context.Context, orgID string) ([]License, error)
	// Organization returns an organization the partner token can read.
	Organization(ctx context.Context, orgID string) (Organization, error)
	// Customers lists wholesale customers matching q.
	Customers(ctx context.Context, q CustomerQuery) ([]Customer, error)
	// Customer returns a wholesale customer by its customer id.
	Customer(ctx context.Context, customerID string) (Customer, error)
	// Precheck runs POST /wholesale/customers/validate.
	Precheck(ctx context.Context, req CustomerRequest) (Precheck, error)
	// Provision runs POST /wholesale/customers. It is never retried blindly: an unknown
	// outcome comes back as an error wrapping ErrOutcomeUnknown.
	Provision(ctx context.Context, req CustomerRequest) (Provisioned, error)
	// UpdateCustomer runs PUT /wholesale/customers/{customerId}: it asks Webex to provision
	// the customer's packages again (202, then the customer is polled like a new one). Like
	// Provision it is never re-sent blindly: an unknown outcome comes back as an error
	// wrapping ErrOutcomeUnknown.
	UpdateCustomer(ctx context.Context, customerID string, u CustomerUpdate) (Provisioned, error)
	// PartnerAdmins lists the partner's admins in a customer organization with their role.
	PartnerAdmins(ctx context.Context, orgID string) ([]PartnerAdmin, error)
	// PersonRoles returns the admin roles of a person (GET /people/{id} roles). When Webex
	// answers without them, because the token is not an admin of the person's
	// organization, the error wraps ErrRolesUnreadable.
	PersonRoles(ctx context.Context, personID string) ([]string, error)
}

// Person is a Webex user or bot.
type Person struct {
	ID          string   `json:"id"`
	Emails      []string `json:"emails"`
	DisplayName string   `json:"displayName"`
	OrgID       string   `json:"orgId"`
	Type        string   `json:"type"` // person or bot
}

// Email returns the person's first email address, or "".
func (p Person) Email() string {
	if len(p.Emails) == 0 {
		return ""
	}
	return p.Emails[0]
}

// Message is a Webex message as read with GET /messages/{id}.
type Message struct {
	ID              string   `json:"id"`
	RoomID          string   `json:"roomId"`
	RoomType        string   `json:"roomType"` // direct or group
	ParentID        string   `json:"parentId,omitempty"`
	PersonID        string   `json:"personId"`
	PersonEmail     string   `json:"personEmail"`
	Text            string   `json:"text"`
	HTML            string   `json:"html,omitempty"`
	MentionedPeople []string `json:"mentionedPeople,omitempty"`
	// Files are the content URLs of the message's files (Webex allows one).
	Files   []string  `json:"files,omitempty"`
	Created time.Time `json:"created"`
}

// ThreadRoot returns the id a reply to m must name as its parent: Webex wants a root message
// as the parent, so a reply to a reply goes under the thread's root.
func (m Message) ThreadRoot() string {
	if m.ParentID != "" {
		return m.ParentID
	}
	return m.ID
}

// OutMessage is a message the bot sends: to a room (optionally threaded under ParentID) or
// directly to a person by email. Markdown is also the fallback text of a card.
type OutMessage struct {
	RoomID        string          `json:"roomId,omitempty"`
	ToPersonEmail string          `json:"toPersonEmail,omitempty"`
	ParentID      string          `json:"parentId,omitempty"`
	Markdown      string          `json:"markdown"`
	Card          json.RawMessage `json:"card,omitempty"`
	// File is a file sent with the message (never with a card). It is kept in the outbox
	// with the message, bytes and all, so a message sent after a crash carries the same file.
	File File `json:"file,omitzero"`
}

// File is a file on a message: its name, its content type and its bytes.
type File struct {
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Data        []byte `json:"data"`
}

// IsZero reports whether f is no file.
func (f File) IsZero() bool { return f.Name == "" && f.ContentType == "" && len(f.Data) == 0 }

// ErrFileTooLarge is wrapped by Download's error for a file over its limit.
var ErrFileTooLarge = errors.New("the file is too large")

// MaxMessageBytes is the most text or markdown Webex accepts in one message.
const MaxMessageBytes = 7439

// AttachmentAction is a card submission (GET /attachment/actions/{id}). Inputs merges the
// card's inputs with the Submit action's data; it is client-controlled and never used to
// decide who acted: PersonID is.
type AttachmentAction struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	MessageID string         `json:"messageId"`
	PersonID  string         `json:"personId"`
	RoomID    string         `json:"roomId"`
	Inputs    map[string]any `json:"inputs"`
	Created   time.Time      `json:"created"`
}

// Input returns the named input as a trimmed string ("" when absent). Webex sends toggles and
// choices as strings; a non-string value from Submit data is formatted with JSON.
func (a AttachmentAction) Input(name string) string {
	v, ok := a.Inputs[name]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// Webhook is a Webex webhook registration.
type Webhook struct {
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	TargetURL string `json:"targetUrl"`
	Resource  string `json:"resource"`
	Event     string `json:"event"`
	Filter    string `json:"filter,omitempty"`
	Secret    string `json:"secret,omitempty"`
	Status    string `json:"status,omitempty"` // active or inactive
}

// Organization is a Webex organization.
type Organization struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// License is one license of an organization.
type License struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	TotalUnits    int    `json:"totalUnits"`
	ConsumedUnits int    `json:"consumedUnits"`
}

// CustomerQuery filters GET /wholesale/customers. Empty fields are not sent.
type CustomerQuery struct {
	OrgID      string
	ExternalID string
	Status     string
}

// Address is a postal address as the wholesale API takes it (50 characters a line at most).
type Address struct {
	Line1   string `json:"addressLine1"`
	Line2   string `json:"addressLine2,omitempty"`
	City    string `json:"city"`
	State   string `json:"stateOrProvince,omitempty"`
	Zip     string `json:"zipOrPostalCode,omitempty"`
	Country string `json:"country"` // ISO 3166 alpha-2
}

// CallingLocation is provisioningParameters.calling.location, required for calling packages.
type CallingLocation struct {
	Name     string  `json:"name"`
	Address  Address `json:"address"`
	Timezone string  `json:"timezone"`
	Language string  `json:"language"`
}

// CustomerRequest is the body of POST /wholesale/customers and of its precheck.
type CustomerRequest struct {
	ProvisioningID string           `json:"provisioningId"`
	Packages       []string         `json:"packages"`
	OrgID          string           `json:"orgId"`
	ExternalID     string           `json:"externalId"`
	Address        Address          `json:"address"`
	CustomerName   string           `json:"customerName,omitempty"`
	PrimaryEmail   string           `json:"primaryEmail,omitempty"`
	Language       string           `json:"language,omitempty"`
	Calling        *CallingLocation `json:"calling,omitempty"`
}

// CustomerUpdate is the body of PUT /wholesale/customers/{customerId}: the complete list of
// packages (Webex removes an assigned package that is not in it), and the calling location,
// which Webex needs when the list has a calling package.
type CustomerUpdate struct {
	Packages []string         `json:"packages"`
	Calling  *CallingLocation `json:"calling,omitempty"`
}

// Customer is a wholesale customer (GET /wholesale/customers/{id}).
type Customer struct {
	ID         string          `json:"id"`
	OrgID      string          `json:"orgId,omitempty"`
	ExternalID string          `json:"externalId"`
	Status     string          `json:"status"`
	Packages   []string        `json:"packages,omitempty"`
	Errors     []ErrorDetail   `json:"errors,omitempty"`
	Details    []PackageStatus `json:"packageDetails,omitempty"`
	TrackingID string          `json:"trackingId,omitempty"`
}

// PackageStatus is one entry of a customer's resourceDetails.packages.
type PackageStatus struct {
	Name     string        `json:"name"`
	Status   string        `json:"status"`
	Errors   []ErrorDetail `json:"errors,omitempty"`
	Warnings []ErrorDetail `json:"warnings,omitempty"`
}

// ErrorDetail is one {errorCode, description} of a Webex error or a customer's errors.
type ErrorDetail struct {
	Code        int    `json:"errorCode,omitempty"`
	Description string `json:"description"`
}

// Precheck is the answer of POST /wholesale/customers/validate.
type Precheck struct {
	Message    string         `json:"message"`
	Info       []PrecheckInfo `json:"info,omitempty"`
	TrackingID string         `json:"trackingId,omitempty"`
}

// PrecheckInfo is one info entry of a precheck answer.
type PrecheckInfo struct {
	Code        int    `json:"infoCode"`
	Description string `json:"description"`
}

// Provisioned is the 202 answer of POST /wholesale/customers.
type Provisioned struct {
	CustomerID string `json:"customerId"` // the last path segment of URL
	URL        string `json:"url"`
	TrackingID string `json:"trackingId,omitempty"`
}

// PartnerAdmin is one of the partner's admins in a customer organization.
type PartnerAdmin struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	Emails            []string `json:"emails"`
	RoleInCustomerOrg string   `json:"roleInCustomerOrg"`
}
