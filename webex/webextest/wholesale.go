// Wholesale customers: the customer records, their provisioning status as time passes, what a
// test sets up (AddCustomers, SetCustomerStatus), and GET /v1/wholesale/customers(/{id}).

package webextest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The statuses of a wholesale customer, verbatim from the wholesale spec.
const (
	StatusProvisioning          = "provisioning"
	StatusProvisioned           = "provisioned"
	StatusProvisionedWithErrors = "provisioned_with_errors"
	StatusError                 = "error"
	StatusPendingReview         = "pending_rpl_review"
	StatusUpdating              = "updating"
	StatusDeleting              = "deleting"
)

// Address is a wholesale customer's or location's address.
type Address struct {
	AddressLine1    string `json:"addressLine1"`
	AddressLine2    string `json:"addressLine2,omitempty"`
	City            string `json:"city"`
	StateOrProvince string `json:"stateOrProvince,omitempty"`
	ZipOrPostalCode string `json:"zipOrPostalCode,omitempty"`
	Country         string `json:"country"`
}

// Customer is a wholesale customer as GET /v1/wholesale/customers/{customerId} answers it.
type Customer struct {
	ID string `json:"id"`
	// OrgID is only present when the status is provisioned (as the spec says).
	OrgID           string           `json:"orgId,omitempty"`
	ExternalID      string           `json:"externalId"`
	Address         Address          `json:"address"`
	Status          string           `json:"status"`
	Packages        []string         `json:"packages"`
	ResourceDetails *ResourceDetails `json:"resourceDetails,omitempty"`
	Errors          []ErrorDetail    `json:"errors,omitempty"`
}

// ResourceDetails is a customer's resourceDetails.
type ResourceDetails struct {
	Packages []PackageDetail `json:"packages"`
}

// PackageDetail is one entry of a customer's resourceDetails.packages.
type PackageDetail struct {
	Name     string        `json:"name"`
	Status   string        `json:"status"` // provisioned, provisioning, deleting or error
	Warnings []ErrorDetail `json:"warnings,omitempty"`
	Errors   []ErrorDetail `json:"errors,omitempty"`
	// LicenseIDs are only answered with ?includePackageLicenseInfo=true.
	LicenseIDs []string `json:"licenseIds,omitempty"`
}

// customer is a wholesale customer as the Sim keeps it.
type customer struct {
	id             string
	orgID          string // the organization it maps to, shown only once provisioned
	externalID     string
	provisioningID string
	address        Address
	packages       []string
	created        time.Time
	readyAt        time.Time // when provisioning ends
	busy           string    // the status until readyAt: provisioning (""), updating or deleting
	outcome        Outcome   // how it ends
	role           string    // the partner's role in the org once attached
}

// status returns the customer's status at now.
func (c *customer) status(now time.Time) string {
	if now.Before(c.readyAt) {
		if c.busy != "" {
			return c.busy
		}
		return StatusProvisioning
	}
	return c.outcome.Status
}

// attached reports whether the partner manages the customer's org at now.
func (c *customer) attached(now time.Time) bool {
	st := c.status(now)
	return st == StatusProvisioned || st == StatusProvisionedWithErrors
}

// view returns the customer as the API answers it.
func (c *customer) view(now time.Time, licenseIDs bool) Customer {
	st := c.status(now)
	v := Customer{
		ID:         c.id,
		ExternalID: c.externalID,
		Address:    c.address,
		Status:     st,
		Packages:   slices.Clone(c.packages),
	}
	if st == StatusProvisioned {
		v.OrgID = c.orgID
	}
	pkgErrors := c.outcome.Errors
	if len(pkgErrors) == 0 {
		pkgErrors = []ErrorDetail{emailTakenError()}
	}
	details := &ResourceDetails{Packages: []PackageDetail{}}
	for i, name := range c.packages {
		d := PackageDetail{Name: name}
		switch {
		case st == StatusProvisioned, st == StatusProvisionedWithErrors && i > 0:
			d.Status = StatusProvisioned
			if licenseIDs {
				d.LicenseIDs = []string{derivedID(KindLicense, c.id, name)}
			}
		case st == StatusProvisionedWithErrors:
			d.Status = StatusError
			d.Errors = slices.Clone(pkgErrors)
		case st == StatusError:
			d.Status = StatusError
		case st == StatusDeleting:
			d.Status = StatusDeleting
		default:
			d.Status = StatusProvisioning
		}
		details.Packages = append(details.Packages, d)
	}
	v.ResourceDetails = details
	if st == StatusError {
		v.Errors = slices.Clone(c.outcome.Errors)
		if len(v.Errors) == 0 {
			v.Errors = []ErrorDetail{callingMaintenanceError()}
		}
	}
	return v
}

func validOutcome(status string) bool {
	switch status {
	case StatusProvisioned, StatusProvisionedWithErrors, StatusError, StatusPendingReview:
		return true
	}
	return false
}

// addExistingCustomerLocked makes o a wholesale customer from the start. addOrgLocked has
// checked o.Existing and given it an id.
func (s *Sim) addExistingCustomerLocked(o *Org, now time.Time) {
	e := o.Existing
	if e.Status == "" {
		e.Status = StatusProvisioned
	}
	s.customers[e.ID] = &customer{
		id:         e.ID,
		orgID:      o.ID,
		externalID: e.ExternalID,
		address:    e.Address,
		packages:   slices.Clone(e.Packages),
		created:    now,
		readyAt:    now,
		outcome:    Outcome{Status: e.Status},
		role:       roleFor(o.Licenses),
	}
	s.customerOrder = append(s.customerOrder, e.ID)
}

// Customer returns a wholesale customer as GET would answer it now (with license ids).
func (s *Sim) Customer(customerID string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purgeDeletedLocked(s.nowLocked())
	c, ok := s.customers[customerID]
	if !ok {
		return Customer{}, false
	}
	return c.view(s.nowLocked(), true), true
}

// Customers returns every wholesale customer as GET would answer it now, oldest first.
func (s *Sim) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	s.purgeDeletedLocked(now)
	list := make([]Customer, 0, len(s.customerOrder))
	for _, id := range s.customerOrder {
		list = append(list, s.customers[id].view(now, true))
	}
	return list
}

// SetCustomerStatus gives a customer a status from now on, e.g. to move one out of
// pending_rpl_review, or StatusDeleting as when it is deleted in Partner Hub. errs become its
// errors[] (StatusError) or its first package's errors (StatusProvisionedWithErrors).
func (s *Sim) SetCustomerStatus(customerID, status string, errs ...ErrorDetail) error {
	if !validOutcome(status) && status != StatusProvisioning && status != StatusUpdating && status != StatusDeleting {
		return fmt.Errorf("unknown customer status %q", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return changeLocked(s, s.customers, customerID, fmt.Errorf("no customer %s", customerID), func(c *customer) {
		c.readyAt, c.busy = s.nowLocked(), ""
		c.outcome = Outcome{Status: status, Errors: slices.Clone(errs)}
	})
}

// AddCustomers adds wholesale customers directly, without POST /v1/wholesale/customers, for
// load tests and benchmarks: one per externalId, each with the package webex_meetings, in
// status (any status SetCustomerStatus takes), which it keeps until SetCustomerStatus moves it
// on. They map to no organization. It returns their customer ids, in the order of externalIDs.
func (s *Sim) AddCustomers(status string, externalIDs ...string) ([]string, error) {
	if !validOutcome(status) && status != StatusProvisioning && status != StatusUpdating {
		return nil, fmt.Errorf("unknown customer status %q", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	taken := make(map[string]bool, len(s.customers))
	for _, c := range s.customers {
		taken[c.externalID] = true
	}
	for _, ext := range externalIDs {
		if ext == "" || taken[ext] {
			return nil, fmt.Errorf("externalId %q is empty or taken; no customer was added", ext)
		}
		taken[ext] = true
	}
	now := s.nowLocked()
	ids := make([]string, 0, len(externalIDs))
	for _, ext := range externalIDs {
		c := &customer{
			id:         s.newIDLocked(KindEnterprise),
			externalID: ext,
			address:    Address{AddressLine1: "1 Load Street", City: "Oslo", ZipOrPostalCode: "0150", Country: "NO"},
			packages:   []string{"webex_meetings"},
			created:    now,
			readyAt:    now,
			outcome:    Outcome{Status: status},
			role:       RoleProvisionAdmin,
		}
		s.customers[c.id] = c
		s.customerOrder = append(s.customerOrder, c.id)
		ids = append(ids, c.id)
	}
	s.changedLocked()
	return ids, nil
}

// GET /v1/wholesale/customers/{customerId}?includePackageLicenseInfo=
func (s *Sim) handleGetCustomer(q *request) reply {
	c, ok := s.customers[q.params[0]]
	if !ok {
		return errReply(failf(http.StatusNotFound, "Customer %s not found.", q.params[0]))
	}
	withLicenses, _ := strconv.ParseBool(q.query.Get("includePackageLicenseInfo"))
	return jsonReply(c.view(q.now, withLicenses))
}

// GET /v1/wholesale/customers?orgId=&externalId=&status=&offset=&max=
//
// status may be repeated or comma-separated. The orgId filter matches the org a customer maps
// to even before it is provisioned (an inference). Paging is by offset and max, as the spec
// documents; with Options.CustomersLink the next page is linked with Link rel="next" too.
func (s *Sim) handleListCustomers(q *request) reply {
	max, err := pageSize(q)
	if err != nil {
		return errReply(err)
	}
	offset := 0
	if v := q.query.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return errReply(failf(http.StatusBadRequest, "Invalid offset value %q.", v))
		}
	}
	var statuses []string
	for _, v := range q.query["status"] {
		for st := range strings.SplitSeq(v, ",") {
			if st = strings.TrimSpace(st); st != "" {
				statuses = append(statuses, st)
			}
		}
	}
	orgID, externalID := s.orgKeyLocked(q.query.Get("orgId")), q.query.Get("externalId")
	var found []Customer
	listed := s.listLag.listedLocked(len(s.customerOrder))
	for _, id := range s.customerOrder[:listed] {
		c := s.customers[id]
		switch {
		case orgID != "" && c.orgID != orgID,
			externalID != "" && c.externalID != externalID,
			len(statuses) > 0 && !slices.Contains(statuses, c.status(q.now)):
			continue
		}
		found = append(found, c.view(q.now, false))
	}
	page, more := paginate(found, offset, max)
	rep := jsonReply(items[Customer]{Items: page})
	if more && s.opts.CustomersLink {
		rep.header = q.nextLink("offset", strconv.Itoa(offset+max))
	}
	return rep
}
