// Provisioning a wholesale customer: POST /v1/wholesale/customers and its precheck (POST
// /v1/wholesale/customers/validate), with the refusals Webex answers for the state of the
// organization.

package webextest

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// The error codes the Sim answers where Webex's codes are not documented. They are simulated
// and UNCONFIRMED: the real codes are unknown, so code under test should show the description
// rather than depend on them.
const (
	// CodeTrialOrg: the organization is a trial, which cannot become a wholesale customer.
	CodeTrialOrg = 990001
	// CodeAlreadyCustomer: the organization already is a wholesale customer.
	CodeAlreadyCustomer = 990002
	// CodeDuplicateExternalID: another customer has this externalId.
	CodeDuplicateExternalID = 990003
	// CodeUnknownOrg: no organization has this orgId.
	CodeUnknownOrg = 990004
)

// provisionBody is the body of POST /v1/wholesale/customers and of its precheck.
type provisionBody struct {
	ProvisioningID string   `json:"provisioningId"`
	Packages       []string `json:"packages"`
	OrgID          string   `json:"orgId"`
	ExternalID     string   `json:"externalId"`
	Address        *Address `json:"address"`
	CustomerInfo   *struct {
		Name         string `json:"name"`
		PrimaryEmail string `json:"primaryEmail"`
		Language     string `json:"language"`
	} `json:"customerInfo"`
	ProvisioningParameters *provisioningParams `json:"provisioningParameters"`
}

// provisioningParams is the provisioningParameters of a provisioning, a precheck or an
// update: the calling location.
type provisioningParams struct {
	Calling *struct {
		Location *struct {
			Name     string   `json:"name"`
			Address  *Address `json:"address"`
			Timezone string   `json:"timezone"`
			Language string   `json:"language"`
		} `json:"location"`
	} `json:"calling"`
}

// refuseLocked checks a provisioning against the state of Webex: an unknown org, a trial org,
// an org that already is a customer, a taken externalId. status409 is the status of the last
// two (409 for POST; the precheck answers 400 throughout). The codes are simulated.
// UNCONFIRMED: whether a customer in error keeps its org or its externalId from a new POST;
// the spec does not say, and the Sim lets the new one through.
func (s *Sim) refuseLocked(b *provisionBody, status409 int, now time.Time) error {
	if b.OrgID != "" {
		b.OrgID = s.orgKeyLocked(b.OrgID) // any spelling of the organization's id
		o, ok := s.orgs[b.OrgID]
		switch {
		case !ok:
			return &apiError{status: http.StatusBadRequest, message: "Organization not found.",
				details: []ErrorDetail{{ErrorCode: CodeUnknownOrg, Description: fmt.Sprintf("No organization has the orgId %s.", b.OrgID)}}}
		case o.Trial:
			return &apiError{status: http.StatusBadRequest, message: "Trial organizations cannot be converted to wholesale customers.",
				details: []ErrorDetail{{ErrorCode: CodeTrialOrg, Description: "Trial organizations cannot be converted to wholesale customers."}}}
		}
		for _, id := range s.customerOrder {
			if c := s.customers[id]; c.orgID == b.OrgID && c.status(now) != StatusError {
				return &apiError{status: status409, message: "The organization is already a wholesale customer.",
					details: []ErrorDetail{{ErrorCode: CodeAlreadyCustomer, Description: fmt.Sprintf("Organization %s is already the wholesale customer %s.", b.OrgID, c.id)}}}
			}
		}
	}
	if b.ExternalID != "" {
		for _, id := range s.customerOrder {
			if c := s.customers[id]; c.externalID == b.ExternalID && c.status(now) != StatusError {
				return &apiError{status: status409, message: "The externalId is already in use.",
					details: []ErrorDetail{{ErrorCode: CodeDuplicateExternalID, Description: fmt.Sprintf("The externalId %s is already used by the customer %s.", b.ExternalID, c.id)}}}
			}
		}
	}
	return nil
}

// decodeProvision decodes a provisioning body. Its shape was checked against the spec before
// the handler ran (checkShapeLocked).
func decodeProvision(q *request) (*provisionBody, error) {
	var b provisionBody
	if err := decodeJSON(q.body, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// POST /v1/wholesale/customers: refuses what Webex would refuse, and answers 202
// with a Location header and {"url"} pointing at the new customer, whose status is
// "provisioning" until its org's Outcome delay has passed.
func (s *Sim) handleProvision(q *request) reply {
	b, err := decodeProvision(q)
	if err != nil {
		return errReply(err)
	}
	if err := s.refuseLocked(b, http.StatusConflict, q.now); err != nil {
		return errReply(err)
	}
	orgID := b.OrgID
	if orgID == "" {
		// A new customer organization, with its admin (customerInfo is required then).
		if _, taken := s.personByEmailLocked(b.CustomerInfo.PrimaryEmail); taken {
			return errReply(&apiError{status: http.StatusBadRequest, message: emailTakenError().Description,
				details: []ErrorDetail{emailTakenError()}})
		}
		o, err := s.addOrgLocked(Org{
			Name:        b.CustomerInfo.Name,
			Description: "A new organization created by POST /v1/wholesale/customers.",
			AdminEmail:  b.CustomerInfo.PrimaryEmail,
			Users:       1,
		})
		if err != nil {
			return errReply(err)
		}
		orgID = o.ID
	}
	o := s.orgs[orgID]
	delay := o.Outcome.Delay
	if delay <= 0 {
		delay = s.opts.ProvisioningDelay
	}
	c := &customer{
		id:             s.newIDLocked(KindEnterprise),
		orgID:          orgID,
		externalID:     b.ExternalID,
		provisioningID: b.ProvisioningID,
		address:        *b.Address,
		packages:       slices.Clone(b.Packages),
		created:        q.now,
		readyAt:        q.now.Add(delay),
		outcome:        o.clone().Outcome,
		role:           roleFor(o.Licenses),
	}
	s.customers[c.id] = c
	s.customerOrder = append(s.customerOrder, c.id)
	s.changedLocked()
	return acceptedCustomer(q, c.id)
}

// acceptedCustomer answers 202 with the customer's url in the Location header and the body, as
// Webex answers a provisioning or an update it has taken on.
func acceptedCustomer(q *request, customerID string) reply {
	u := q.absURL("/v1/wholesale/customers/"+customerID, nil)
	return reply{
		status: http.StatusAccepted,
		header: http.Header{"Location": {u}},
		body:   map[string]string{"url": u},
	}
}

// precheckInfo is an entry of the precheck's info[].
type precheckInfo struct {
	InfoCode    int    `json:"infoCode"`
	Description string `json:"description"`
}

// POST /v1/wholesale/customers/validate: 200 with infoCode 100, or 400 with errors[] for a body
// the spec rejects, an unknown org, a trial org, an org that already is a customer or a taken
// externalId (those codes are simulated).
func (s *Sim) handlePrecheck(q *request) reply {
	b, err := decodeProvision(q)
	if err != nil {
		return errReply(err)
	}
	if err := s.refuseLocked(b, http.StatusBadRequest, q.now); err != nil {
		return errReply(err)
	}
	return jsonReply(struct {
		Message string         `json:"message"`
		Info    []precheckInfo `json:"info"`
	}{
		Message: "success",
		Info:    []precheckInfo{{InfoCode: 100, Description: "Provisioning preCheck validation successful."}},
	})
}
