// Changing a wholesale customer: PUT (update) and DELETE /v1/wholesale/customers/{id}, and a
// customer's busy time while Webex works on it.

package webextest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// CodeCustomerBusy is the simulated error code of a PUT or DELETE for a customer whose
// provisioning, update or deletion is still under way (UNCONFIRMED: Webex documents no code
// for it, nor whether it refuses such a request at all).
const CodeCustomerBusy = 990005

// updateBody is the body of PUT /v1/wholesale/customers/{customerId}: packages (required, the
// complete list), and optionally externalId, address, provisioningParameters and
// subPartnerAdminEmail.
type updateBody struct {
	ExternalID             *string             `json:"externalId"`
	Packages               []string            `json:"packages"`
	Address                *Address            `json:"address"`
	ProvisioningParameters *provisioningParams `json:"provisioningParameters"`
	SubPartnerAdminEmail   string              `json:"subPartnerAdminEmail"`
}

// wholesaleCustomerPackages is the spec's WholesalePackagesCustomer enum.
var wholesaleCustomerPackages = []string{
	"common_area_calling", "webex_calling", "webex_meetings", "webex_suite", "webex_voice",
	"cx_essentials", "webex_calling_standard", "cisco_calling_plan", "attendant_console",
	"cx_premium_agent", "cx_standard_agent", "cx_voice_ports", "cx_ai_assistant", "webex_ai_agent",
}

// validate returns what is obviously wrong with an update body, in Webex's words where the
// spec has them: no packages (the complete list is required), an unknown package, a package
// without one it depends on (the operation's description), an empty externalId, a calling
// package without its location (an inference: "Provisioning parameters are required when
// updating an existing package"). The full schema check is not repeated here.
func (b *updateBody) validate() []ErrorDetail {
	var probs []ErrorDetail
	bad := func(format string, args ...any) {
		probs = append(probs, ErrorDetail{Description: fmt.Sprintf(format, args...)})
	}
	if len(b.Packages) == 0 {
		bad("packages is required: the complete list of the customer's packages.")
	}
	for _, p := range b.Packages {
		if !slices.Contains(wholesaleCustomerPackages, p) {
			bad("packages: %q is not one of %s.", p, strings.Join(wholesaleCustomerPackages, ", "))
		}
	}
	needs := func(pkg string, oneOf ...string) {
		if slices.Contains(b.Packages, pkg) && !slices.ContainsFunc(oneOf, func(p string) bool { return slices.Contains(b.Packages, p) }) {
			bad("packages: %s requires one of %s.", pkg, strings.Join(oneOf, ", "))
		}
	}
	needs("cisco_calling_plan", "common_area_calling", "webex_calling", "webex_suite", "webex_voice", "cx_essentials", "webex_calling_standard")
	needs("attendant_console", "webex_calling", "webex_suite", "cx_essentials")
	if b.ExternalID != nil && strings.TrimSpace(*b.ExternalID) == "" {
		bad("externalId must not be empty.")
	}
	if slices.ContainsFunc(b.Packages, callingPackage) {
		pp := b.ProvisioningParameters
		if pp == nil || pp.Calling == nil || pp.Calling.Location == nil || pp.Calling.Location.Address == nil {
			bad("provisioningParameters.calling.location is required when provisioning calling packages.")
		} else {
			loc := pp.Calling.Location
			for field, v := range map[string]string{"name": loc.Name, "timezone": loc.Timezone, "language": loc.Language} {
				if strings.TrimSpace(v) == "" {
					bad("provisioningParameters.calling.location.%s is required.", field)
				}
			}
		}
	}
	slices.SortStableFunc(probs, func(a, b ErrorDetail) int { return strings.Compare(a.Description, b.Description) })
	return probs
}

// busyError refuses a change to a customer whose provisioning, update or deletion has not
// ended, or that waits for the compliance review (simulated: see CodeCustomerBusy).
func busyError(c *customer, now time.Time) error {
	switch st := c.status(now); st {
	case StatusProvisioning, StatusUpdating, StatusDeleting, StatusPendingReview:
		msg := fmt.Sprintf("The customer %s is %s; try again once that has ended.", c.id, st)
		return &apiError{status: http.StatusConflict, message: msg,
			details: []ErrorDetail{{ErrorCode: CodeCustomerBusy, Description: msg}}}
	}
	return nil
}

// delayLocked is how long a customer's background work takes: its organization's Outcome
// delay, else Options.ProvisioningDelay.
func (s *Sim) delayLocked(c *customer) time.Duration {
	if o, ok := s.orgs[c.orgID]; ok && o.Outcome.Delay > 0 {
		return o.Outcome.Delay
	}
	return s.opts.ProvisioningDelay
}

// PUT /v1/wholesale/customers/{customerId}: validates the body, refuses a customer whose
// work is under way (409, simulated) and an externalId another customer has (409), then takes
// the packages (the complete list), the address and the externalId given, and answers 202
// with a Location header and {"url"}. The customer is "updating" until its organization's
// Outcome delay has passed, then ends as that Outcome says, as after POST: SetOutcome
// controls how a retry ends.
func (s *Sim) handleUpdateCustomer(q *request) reply {
	c, ok := s.customers[q.params[0]]
	if !ok {
		return errReply(failf(http.StatusNotFound, "Customer %s not found.", q.params[0]))
	}
	var b updateBody
	if err := decodeJSON(q.body, &b); err != nil {
		return errReply(err)
	}
	if probs := b.validate(); len(probs) > 0 {
		return errReply(&apiError{status: http.StatusBadRequest, message: probs[0].Description, details: probs})
	}
	if err := busyError(c, q.now); err != nil {
		return errReply(err)
	}
	if b.ExternalID != nil && *b.ExternalID != c.externalID {
		for _, id := range s.customerOrder {
			if other := s.customers[id]; other != c && other.externalID == *b.ExternalID && other.status(q.now) != StatusError {
				return errReply(&apiError{status: http.StatusConflict, message: "The externalId is already in use.",
					details: []ErrorDetail{{ErrorCode: CodeDuplicateExternalID, Description: fmt.Sprintf("The externalId %s is already used by the customer %s.", *b.ExternalID, other.id)}}})
			}
		}
		c.externalID = *b.ExternalID
	}
	if b.Address != nil {
		c.address = *b.Address
	}
	c.packages = slices.Clone(b.Packages)
	c.busy, c.readyAt = StatusUpdating, q.now.Add(s.delayLocked(c))
	c.outcome = Outcome{Status: StatusProvisioned}
	if o, ok := s.orgs[c.orgID]; ok {
		c.outcome = o.clone().Outcome
		c.role = roleFor(o.Licenses)
	}
	s.changedLocked()
	return acceptedCustomer(q, c.id)
}

// DELETE /v1/wholesale/customers/{customerId}: removes the mapping between the customer and its
// organization. It answers 202 with no body; the customer is "deleting" for the provisioning
// delay, and then gone (404). A customer whose work is under way is refused (409, simulated).
func (s *Sim) handleDeleteCustomer(q *request) reply {
	c, ok := s.customers[q.params[0]]
	if !ok {
		return errReply(failf(http.StatusNotFound, "Customer %s not found.", q.params[0]))
	}
	if err := busyError(c, q.now); err != nil {
		return errReply(err)
	}
	c.busy, c.readyAt = StatusDeleting, q.now.Add(s.delayLocked(c))
	s.deleting[c.id] = true
	c.outcome = Outcome{}
	if !c.readyAt.After(q.now) {
		s.purgeDeletedLocked(q.now)
	}
	s.changedLocked()
	return reply{status: http.StatusAccepted}
}

// purgeDeletedLocked forgets the customers whose deletion has ended. It looks at the
// customers being deleted only, not at every customer: it runs before every request.
func (s *Sim) purgeDeletedLocked(now time.Time) {
	gone := false
	for id := range s.deleting {
		c, ok := s.customers[id]
		switch {
		case !ok || c.busy != StatusDeleting:
			delete(s.deleting, id)
		case !now.Before(c.readyAt):
			delete(s.customers, id)
			delete(s.deleting, id)
			gone = true
		}
	}
	if gone {
		s.customerOrder = slices.DeleteFunc(s.customerOrder, func(id string) bool {
			_, ok := s.customers[id]
			return !ok
		})
	}
}
