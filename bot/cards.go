package bot

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// Cards builds the Adaptive Cards (version 1.3) the bot sends. The cards package implements
// it with pure functions; the Bot treats a card as opaque JSON.
type Cards interface {
	// Wizard returns the card of one step of the attach wizard.
	Wizard(v WizardView) (json.RawMessage, error)
	// Approval returns the card that asks a customer admin to approve an attach.
	Approval(v ApprovalView) (json.RawMessage, error)
	// FullAdminRequest returns the card that asks a customer admin to make the partner a
	// Full Admin of the organization.
	FullAdminRequest(v ApprovalView) (json.RawMessage, error)
	// Provisioned returns the partner's card for an attach that ended provisioned: the role
	// the partner got and, for Provisioning Admin, a button that asks the customer admin
	// for Full Admin.
	Provisioned(v ProvisionedView) (json.RawMessage, error)
	// Retry returns the partner's card for an attach that ended error or
	// provisioned_with_errors: what a retry does, and a Retry button.
	Retry(v RetryView) (json.RawMessage, error)
	// Batch returns the partner's card for a CSV file's dry run: the counts, and Start and
	// Cancel buttons.
	Batch(v BatchView) (json.RawMessage, error)
}

// The steps of the attach wizard, as in Partner Hub's "Create wholesale customer".
const (
	StepCustomer = 1 // the customer admin's email and the organization id
	StepCompany  = 2 // company name and onboarding template
	StepAddress  = 3 // headquarters, and the supported-location tick
	StepPackages = 4 // packages, the calling location, the declared facts
	StepReview   = 5 // the summary, the conditions, the verdict: Create customer or Cancel
	WizardSteps  = 5
)

// The "action" values of the cards' Action.Submit data, and the data fields that go with
// them. Webex merges Submit data with the inputs, so no input may use these ids.
const (
	ActionWizard       = "wizard"        // data: step, state (a wizard step is submitted)
	ActionCreate       = "create"        // data: state (the review's Create customer)
	ActionCancel       = "wizard.cancel" // data: state (the wizard is abandoned)
	ActionApprove      = "approve"       // data: requestId
	ActionDecline      = "decline"       // data: requestId
	ActionAskFullAdmin = "fulladmin.ask" // data: requestId (partner asks the admin for Full Admin)
	ActionRetry        = "retry"         // data: requestId (partner submits a failed attach again)
	ActionBatchStart   = "batch.start"   // data: batchId (partner starts a file's batch)
	ActionBatchCancel  = "batch.cancel"  // data: batchId (partner discards a file's batch)

	FieldAction    = "action"
	FieldStep      = "step"
	FieldState     = "state"
	FieldRequestID = "requestId"
	FieldBatchID   = "batchId"
)

// Submit is the data of a card button's Action.Submit: the action and its fields. The views
// build every Submit the bot handles (the card protocol is the bot's, and its command table
// routes them); the cards put them on their buttons as they are.
type Submit map[string]string

// Next is the data of a wizard step's Next.
func (v WizardView) Next() Submit {
	return Submit{FieldAction: ActionWizard, FieldStep: strconv.Itoa(v.Step), FieldState: v.State}
}

// Create is the data of the review's Create customer.
func (v WizardView) Create() Submit { return Submit{FieldAction: ActionCreate, FieldState: v.State} }

// Cancel is the data of a wizard step's Cancel.
func (v WizardView) Cancel() Submit { return Submit{FieldAction: ActionCancel, FieldState: v.State} }

// Approve is the data of the approval card's Approve.
func (v ApprovalView) Approve() Submit { return requestSubmit(ActionApprove, v.Request.ID) }

// Decline is the data of the approval card's Decline.
func (v ApprovalView) Decline() Submit { return requestSubmit(ActionDecline, v.Request.ID) }

// AskFullAdmin is the data of the provisioned card's button that asks for Full Admin.
func (v ProvisionedView) AskFullAdmin() Submit {
	return requestSubmit(ActionAskFullAdmin, v.Request.ID)
}

// Retry is the data of the Retry card's button.
func (v RetryView) Retry() Submit { return requestSubmit(ActionRetry, v.Request.ID) }

// Start is the data of the batch card's Start.
func (v BatchView) Start() Submit {
	return Submit{FieldAction: ActionBatchStart, FieldBatchID: v.Batch.ID}
}

// Cancel is the data of the batch card's Cancel.
func (v BatchView) Cancel() Submit {
	return Submit{FieldAction: ActionBatchCancel, FieldBatchID: v.Batch.ID}
}

// requestSubmit is the data of a button about a request.
func requestSubmit(action, requestID string) Submit {
	return Submit{FieldAction: action, FieldRequestID: requestID}
}

// The ids of the wizard's inputs and of the approval card's comment.
const (
	InputAdminEmail        = "adminEmail"
	InputOrgID             = "orgId"
	InputCustomerName      = "customerName"
	InputTemplate          = "template"
	InputStreet            = "street"
	InputStreet2           = "street2"
	InputCity              = "city"
	InputState             = "stateOrProvince"
	InputZip               = "zip"
	InputCountry           = "country"
	InputLocationConfirmed = "locationConfirmed" // Input.Toggle, valueOn "true"
	InputPackages          = "packages"          // Input.ChoiceSet, multi-select: comma list
	InputLocationName      = "locationName"
	InputTimezone          = "timezone"
	InputLanguage          = "language"
	InputUsers             = "users"            // declared facts: Input.ChoiceSet "yes", "no" or "unknown"
	InputVerifiedDomain    = "verifiedDomain"   //
	InputClaimedDomain     = "claimedDomain"    //
	InputTrial             = "trial"            //
	InputInactiveLicenses  = "inactiveLicenses" //
	InputComment           = "comment"
)

// WizardView is what one wizard card shows. State is opaque to the card: it goes back in
// the Submit data unchanged.
type WizardView struct {
	Step      int
	State     string
	Spec      AttachSpec // what is known so far, to prefill the inputs
	OrgName   string     // the organization's name, when the partner can read it
	Templates []Template
	Packages  []PackageInfo
	Problems  []string // what was wrong with the last submission of this step
	Countries []string // ISO 3166 alpha-2 codes accepted

	// The review step only.
	Report *Report
}

// ApprovalView is what the approval card (and the Full Admin request card) shows.
type ApprovalView struct {
	Request     Request
	PartnerName string    // the partner organization as the customer admin knows it
	OrgName     string    // the customer organization's name, when known
	Expires     time.Time // when the request expires without an answer (the approval card)
}

// ProvisionedView is what the partner's provisioned card shows.
type ProvisionedView struct {
	Request Request
	Role    string // roleInCustomerOrg, verbatim
	Mapped  Role   // what the role means in the help article's words, when known
}

// BatchView is what the partner's batch card shows: the batch with its dry run's counts.
type BatchView struct {
	Batch Batch
}

// RetryView is what the partner's Retry card shows.
type RetryView struct {
	Request Request
}

// attachConditions are section 6, "Conditions of attaching an organization".
var attachConditions = []string{
	"The first user of the existing organization provisioned to Webex for Wholesale is not provisioned as an admin user. The organization's settings and entitlements are kept.",
	"The organization's existing authentication settings take precedence over the wholesale onboarding template, so nothing changes in how existing users sign in.",
	"If the organization has basic branding enabled, the partner's advanced branding takes precedence after attaching; to keep the customer's branding, the partner sets the organization to override branding.",
	"The organization's name does not change.",
	"Restricted admin mode (the Restricted by partner toggle) is turned off for the attached organization.",
}

// AttachConditions returns section 6 of the rules, "Conditions of attaching an organization",
// a sentence each.
func AttachConditions() []string { return slices.Clone(attachConditions) }

// Rules quoted to people, from the help article (docs/rules-for-attaching.md).
const (
	// TemplatePrerequisite is section 3, step 2.
	TemplatePrerequisite = `The onboarding template's toggle "Allow admin-invite emails when attaching to existing orgs" must be on (template details, Common settings).`
	// ExternalAdminStep is section 3, step 1.
	ExternalAdminStep = "If the partner does not already manage the customer, the customer admin adds the partner as an external administrator with full admin rights. It is not mandatory now, but simplifies the process, and may be needed later if the attach is not eligible to be automatic."
	// TrialRule is section 5.
	TrialRule = "Converting trial organizations to wholesale customers is not supported."
	// ManagedNote is section 5.
	ManagedNote = "After attaching wholesale services to an organization the partner already manages, further provisioning must go through the public APIs, not Partner Hub."
	// FirstUserNote is part of section 6, repeated when an attach ends provisioned.
	FirstUserNote = "The first user provisioned from the organization is not made an admin."
	// FullAdminAdvice is section 2's recommendation for Provisioning Admin.
	FullAdminAdvice = "With Provisioning Admin the partner sees only a limited view of the organization's users in Control Hub. Cisco recommends asking the customer admin for Full Admin access."
)
