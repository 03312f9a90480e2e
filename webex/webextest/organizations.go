// Organizations: the partner's, its customers' and others' (AddOrg), who manages which, and
// GET /v1/organizations.

package webextest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Org is an organization known to the Sim, with what the partner can see of it and what
// happens when the partner provisions it as a wholesale customer.
type Org struct {
	// ID is the organization's id; AddOrg makes one when it is empty.
	ID   string
	Name string
	// Description says what the organization is for (the sandbox shows it).
	Description string
	// AdminEmail, when set, makes a customer admin with that email (and AdminID and
	// AdminName, derived when empty) the organization's first person.
	AdminID    string
	AdminEmail string
	AdminName  string
	// Users is how many people the organization has, the admin included. AddOrg makes the
	// people who are missing (user2@<the admin's domain>, …).
	Users    int
	Licenses []License
	// Readable says the partner token may read the organization's people and licenses (the
	// customer made the partner an external admin, for example).
	Readable bool
	// Managed says the partner manages the organization: it is listed by GET
	// /v1/organizations and its partner admins can be read. An organization becomes
	// managed, and readable, once it is provisioned.
	Managed bool
	// Trial marks a trial organization, which cannot become a wholesale customer.
	Trial bool
	// Existing, when set, makes the organization a wholesale customer of the partner from the
	// start.
	Existing *ExistingCustomer
	// Outcome is how provisioning the organization as a wholesale customer ends.
	Outcome Outcome
	// Created is when the organization was created (default: when it was added).
	Created time.Time
}

func (o Org) clone() Org {
	o.Licenses = slices.Clone(o.Licenses)
	if o.Existing != nil {
		e := *o.Existing
		e.Packages = slices.Clone(e.Packages)
		o.Existing = &e
	}
	o.Outcome.Errors = slices.Clone(o.Outcome.Errors)
	return o
}

// ExistingCustomer is a wholesale customer an organization already is.
type ExistingCustomer struct {
	// ID is the customer id (made when empty).
	ID         string
	ExternalID string
	Packages   []string
	Address    Address
	// Status is the customer's status (default StatusProvisioned).
	Status string
}

// Outcome is how provisioning a wholesale customer ends.
type Outcome struct {
	// Status is the final status: StatusProvisioned (the default),
	// StatusProvisionedWithErrors, StatusError or StatusPendingReview (which lasts until
	// SetCustomerStatus moves it on).
	Status string
	// Delay is how long the customer is "provisioning" first; zero means
	// Options.ProvisioningDelay.
	Delay time.Duration
	// Errors are the customer's errors[] (StatusError) or the first package's errors
	// (StatusProvisionedWithErrors). When empty, simulated defaults are used.
	Errors []ErrorDetail
}

// AddOrg adds an organization (see Org) and returns it with its ids filled in.
func (s *Sim) AddOrg(o Org) (Org, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	org, err := s.addOrgLocked(o)
	if err != nil {
		return Org{}, err
	}
	s.changedLocked()
	return org, nil
}

func (s *Sim) addOrgLocked(o Org) (Org, error) {
	o = o.clone()
	if o.ID == "" {
		o.ID = s.newIDLocked(KindOrganization)
	}
	if _, ok := s.orgs[o.ID]; ok {
		return Org{}, fmt.Errorf("org %s exists", o.ID)
	}
	if o.Name == "" {
		o.Name = fmt.Sprintf("Organization %d", len(s.orgs)+1)
	}
	if o.Outcome.Status == "" {
		o.Outcome.Status = StatusProvisioned
	}
	if !validOutcome(o.Outcome.Status) {
		return Org{}, fmt.Errorf("org %s: outcome %q is none of provisioned, provisioned_with_errors, error, pending_rpl_review", o.Name, o.Outcome.Status)
	}
	now := s.nowLocked()
	if o.Created.IsZero() {
		o.Created = now
	}
	for i := range o.Licenses {
		if o.Licenses[i].ID == "" {
			o.Licenses[i].ID = derivedID(KindLicense, o.ID, o.Licenses[i].Name, strconv.Itoa(i))
		}
	}
	domain := fmt.Sprintf("org%d.example", len(s.orgs)+1)
	if o.AdminEmail != "" {
		if _, d, ok := strings.Cut(o.AdminEmail, "@"); ok {
			domain = d
		}
		if o.AdminID == "" {
			o.AdminID = derivedID(KindPeople, o.ID, "admin")
		}
		if o.AdminName == "" {
			o.AdminName = "Admin of " + o.Name
		}
	}
	// Check everything before changing anything, so that a failed AddOrg adds nothing.
	var people []Person
	if o.AdminEmail != "" {
		first, last, _ := strings.Cut(o.AdminName, " ")
		people = append(people, Person{
			ID: o.AdminID, Emails: []string{o.AdminEmail}, DisplayName: o.AdminName,
			FirstName: first, LastName: last, OrgID: o.ID, Roles: []string{FullAdminRoleID},
		})
	}
	for n := len(people) + 1; n <= o.Users; n++ {
		people = append(people, Person{
			ID:          derivedID(KindPeople, o.ID, "user", strconv.Itoa(n)),
			Emails:      []string{fmt.Sprintf("user%d@%s", n, domain)},
			DisplayName: fmt.Sprintf("User %d", n),
			FirstName:   "User",
			LastName:    strconv.Itoa(n),
			OrgID:       o.ID,
		})
	}
	seen := map[string]bool{}
	for _, p := range people {
		if err := s.checkNewPersonLocked(p); err != nil {
			return Org{}, fmt.Errorf("org %s: %w", o.Name, err)
		}
		key := strings.ToLower(p.Emails[0])
		if seen[key] {
			return Org{}, fmt.Errorf("org %s: email %s is taken", o.Name, p.Emails[0])
		}
		seen[key] = true
	}
	if e := o.Existing; e != nil {
		if e.ID == "" {
			e.ID = s.newIDLocked(KindEnterprise)
		}
		if _, ok := s.customers[e.ID]; ok {
			return Org{}, fmt.Errorf("org %s: customer %s exists", o.Name, e.ID)
		}
		if e.ExternalID == "" {
			return Org{}, fmt.Errorf("org %s: the existing customer has no externalId", o.Name)
		}
	}

	s.orgs[o.ID] = &o
	s.orgOrder = append(s.orgOrder, o.ID)
	for _, p := range people {
		s.insertPersonLocked(p)
	}
	if o.Existing != nil {
		s.addExistingCustomerLocked(&o, now)
	}
	return o.clone(), nil
}

// Org returns an organization as configured (see Org; Managed does not change when it is
// provisioned).
func (s *Sim) Org(id string) (Org, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneOf(s.orgs, id)
}

// Orgs returns every organization, in the order they were added.
func (s *Sim) Orgs() []Org {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clonesInOrder(s.orgs, s.orgOrder)
}

// SetOutcome sets how provisioning orgID ends, for customers provisioned from now on: status
// is StatusProvisioned, StatusProvisionedWithErrors, StatusError or StatusPendingReview, after
// delay (zero means Options.ProvisioningDelay); errors are simulated defaults.
func (s *Sim) SetOutcome(orgID, status string, delay time.Duration) error {
	if !validOutcome(status) {
		return fmt.Errorf("outcome %q is none of provisioned, provisioned_with_errors, error, pending_rpl_review", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return changeLocked(s, s.orgs, orgID, fmt.Errorf("no org %s", orgID), func(o *Org) {
		o.Outcome = Outcome{Status: status, Delay: delay}
	})
}

// callerOrgLocked returns the organization of the caller's person.
func (s *Sim) callerOrgLocked(who *principal) string {
	if p, ok := s.people[who.personID]; ok {
		return p.OrgID
	}
	return ""
}

// managedLocked reports whether the partner manages orgID: configured so, or provisioned.
func (s *Sim) managedLocked(orgID string, now time.Time) bool {
	o, ok := s.orgs[orgID]
	if !ok {
		return false
	}
	if o.Managed {
		return true
	}
	for _, id := range s.customerOrder {
		c := s.customers[id]
		if c.orgID == orgID && c.attached(now) {
			return true
		}
	}
	return false
}

// checkReadableLocked says whether an admin may read orgID's people and licenses: nil when it
// may, else the error to answer (404 for an unknown org, 403 for one it cannot see).
func (s *Sim) checkReadableLocked(who *principal, orgID string, now time.Time) error {
	o, ok := s.orgs[orgID]
	switch {
	case !ok:
		return failf(http.StatusNotFound, "Organization %s not found.", orgID)
	case orgID == s.callerOrgLocked(who), o.Readable, s.managedLocked(orgID, now):
		return nil
	}
	return failf(http.StatusForbidden, msgForbidden)
}

// checkManagedLocked is checkReadableLocked for the endpoints that need a managed org
// (organizations, partner admins).
func (s *Sim) checkManagedLocked(who *principal, orgID string, now time.Time) error {
	_, ok := s.orgs[orgID]
	switch {
	case !ok:
		return failf(http.StatusNotFound, "Organization %s not found.", orgID)
	case orgID == s.callerOrgLocked(who), s.managedLocked(orgID, now):
		return nil
	}
	return failf(http.StatusForbidden, msgForbidden)
}

// organization is GET /v1/organizations' shape.
type organization struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"displayName"`
	Created     time.Time `json:"created"`
}

// GET /v1/organizations: the caller's own organization and those the partner manages ("results
// will not be paginated").
func (s *Sim) handleListOrgs(q *request) reply {
	own := s.callerOrgLocked(q.who)
	list := []organization{}
	for _, id := range s.orgOrder {
		if id == own || s.managedLocked(id, q.now) {
			o := s.orgs[id]
			list = append(list, organization{ID: o.ID, DisplayName: o.Name, Created: o.Created})
		}
	}
	return jsonReply(items[organization]{Items: list})
}

// GET /v1/organizations/{orgId}: 404 for an unknown org, 403 for one the partner does not
// manage.
func (s *Sim) handleGetOrg(q *request) reply {
	orgID := s.orgKeyLocked(q.params[0])
	if err := s.checkManagedLocked(q.who, orgID, q.now); err != nil {
		return errReply(err)
	}
	o := s.orgs[orgID]
	return jsonReply(organization{ID: o.ID, DisplayName: o.Name, Created: o.Created})
}
