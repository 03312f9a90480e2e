package webextest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The types of a Person.
const (
	PersonTypePerson = "person"
	PersonTypeBot    = "bot"
)

// The roles the partner's admins get in a customer organization (roleInCustomerOrg). That
// "Full Admin" is id_full_admin and "Provisioning Admin" is
// atlas-portal.partner.provision_admin is an inference (UNCONFIRMED).
const (
	RoleFullAdmin      = "id_full_admin"
	RoleProvisionAdmin = "atlas-portal.partner.provision_admin"
)

// Person is a Webex user or bot, as GET /v1/people answers it.
type Person struct {
	ID          string    `json:"id"`
	Emails      []string  `json:"emails"`
	DisplayName string    `json:"displayName"`
	FirstName   string    `json:"firstName,omitempty"`
	LastName    string    `json:"lastName,omitempty"`
	OrgID       string    `json:"orgId"`
	Type        string    `json:"type"` // PersonTypePerson or PersonTypeBot
	Created     time.Time `json:"created"`
	// Roles are the person's admin role ids (see FullAdminRoleID). GET /v1/people shows them
	// only to an admin who may read the person's organization (see personView).
	Roles []string `json:"-"`
}

func (p Person) clone() Person {
	p.Emails = slices.Clone(p.Emails)
	p.Roles = slices.Clone(p.Roles)
	return p
}

// License is a license of an organization, as GET /v1/licenses answers it.
type License struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	TotalUnits    int    `json:"totalUnits"`
	ConsumedUnits int    `json:"consumedUnits"`
}

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
	o, ok := s.orgs[id]
	if !ok {
		return Org{}, false
	}
	return o.clone(), true
}

// Orgs returns every organization, in the order they were added.
func (s *Sim) Orgs() []Org {
	s.mu.Lock()
	defer s.mu.Unlock()
	orgs := make([]Org, 0, len(s.orgOrder))
	for _, id := range s.orgOrder {
		orgs = append(orgs, s.orgs[id].clone())
	}
	return orgs
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
	o, ok := s.orgs[orgID]
	if !ok {
		return fmt.Errorf("no org %s", orgID)
	}
	o.Outcome = Outcome{Status: status, Delay: delay}
	s.changedLocked()
	return nil
}

// AddPerson adds a person (type person unless set) and returns it with its id filled in. Its
// organization must exist and its emails must be new.
func (s *Sim) AddPerson(p Person) (Person, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.addPersonLocked(p)
	if err != nil {
		return Person{}, err
	}
	s.changedLocked()
	return p, nil
}

func (s *Sim) addPersonLocked(p Person) (Person, error) {
	p = p.clone()
	if p.ID == "" {
		p.ID = s.newIDLocked(KindPeople)
	}
	if _, ok := s.orgs[p.OrgID]; !ok {
		return Person{}, fmt.Errorf("person %s: no org %q", p.DisplayName, p.OrgID)
	}
	if err := s.checkNewPersonLocked(p); err != nil {
		return Person{}, err
	}
	return s.insertPersonLocked(p), nil
}

// checkNewPersonLocked checks that p can be added: a new id, new emails. (Its org is checked
// by the caller: AddOrg checks people before it adds their org.)
func (s *Sim) checkNewPersonLocked(p Person) error {
	if _, ok := s.people[p.ID]; ok {
		return fmt.Errorf("person %s exists", p.ID)
	}
	if len(p.Emails) == 0 {
		return fmt.Errorf("person %s has no email", p.DisplayName)
	}
	for _, e := range p.Emails {
		if _, ok := s.personByEmailLocked(e); ok {
			return fmt.Errorf("email %s is taken", e)
		}
	}
	return nil
}

// insertPersonLocked keeps a checked person, filling in defaults.
func (s *Sim) insertPersonLocked(p Person) Person {
	p = p.clone()
	if p.Type == "" {
		p.Type = PersonTypePerson
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Emails[0]
	}
	if p.Created.IsZero() {
		p.Created = s.nowLocked()
	}
	s.people[p.ID] = &p
	s.peopleOrder = append(s.peopleOrder, p.ID)
	s.orgPeople[p.OrgID] = append(s.orgPeople[p.OrgID], p.ID)
	return p.clone()
}

// Person returns a person by id.
func (s *Sim) Person(id string) (Person, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.people[id]
	if !ok {
		return Person{}, false
	}
	return p.clone(), true
}

// PersonByEmail returns a person by email, compared case-insensitively.
func (s *Sim) PersonByEmail(email string) (Person, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.personByEmailLocked(email)
	if !ok {
		return Person{}, false
	}
	return p.clone(), true
}

func (s *Sim) personByEmailLocked(email string) (*Person, bool) {
	email = strings.TrimSpace(email)
	for _, id := range s.peopleOrder {
		p := s.people[id]
		for _, e := range p.Emails {
			if strings.EqualFold(e, email) {
				return p, true
			}
		}
	}
	return nil, false
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

// GET /v1/people/me
func (s *Sim) handleMe(q *request) reply {
	p, ok := s.people[q.who.personID]
	if !ok {
		return errReply(failf(http.StatusNotFound, "Person not found."))
	}
	return jsonReply(s.personViewLocked(q.who, p, q.now))
}

// GET /v1/people/{personId}
func (s *Sim) handleGetPerson(q *request) reply {
	p, ok := s.people[q.params[0]]
	if !ok {
		return errReply(failf(http.StatusNotFound, "Person not found."))
	}
	return jsonReply(s.personViewLocked(q.who, p, q.now))
}

// GET /v1/people?email=&id=&orgId=&max=&cursor=
//
// An admin lists an organization it can read (its own by default); anyone may look people up
// by email or id. Pages are max people long (default and limit 100), linked with
// Link rel="next".
func (s *Sim) handleListPeople(q *request) reply {
	max, err := pageSize(q)
	if err != nil {
		return errReply(err)
	}
	offset, err := cursorOffset(q.query.Get("cursor"))
	if err != nil {
		return errReply(err)
	}
	email := strings.TrimSpace(q.query.Get("email"))
	var ids []string
	if v := q.query.Get("id"); v != "" {
		ids = strings.Split(v, ",")
	}
	orgID := q.query.Get("orgId")
	switch {
	case orgID != "" && !q.who.admin && orgID != s.callerOrgLocked(q.who):
		return errReply(failf(http.StatusForbidden, msgForbidden))
	case orgID != "":
		if err := s.checkReadableLocked(q.who, orgID, q.now); err != nil {
			return errReply(err)
		}
	case email == "" && len(ids) == 0 && !q.who.admin:
		return errReply(failf(http.StatusBadRequest, "Email, displayName, or id list should be specified."))
	case email == "" && len(ids) == 0:
		orgID = s.callerOrgLocked(q.who)
	}
	candidates := s.peopleOrder
	if orgID != "" {
		candidates = s.orgPeople[orgID]
	}
	var found []personView
	for _, id := range candidates {
		p := s.people[id]
		if email != "" && !slices.ContainsFunc(p.Emails, func(e string) bool { return strings.EqualFold(e, email) }) {
			continue
		}
		if len(ids) > 0 && !slices.Contains(ids, p.ID) {
			continue
		}
		found = append(found, s.personViewLocked(q.who, p, q.now))
	}
	page, more := paginate(found, offset, max)
	rep := jsonReply(items[personView]{Items: page})
	if more {
		rep.header = q.nextLink("cursor", encodeCursor(offset+max))
	}
	return rep
}

// pageSize reads max: default 100, clamped to 100 as Webex does; not a positive number is 400.
func pageSize(q *request) (int, error) {
	v := q.query.Get("max")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, failf(http.StatusBadRequest, "Invalid max value %q.", v)
	}
	return min(n, 100), nil
}

// paginate returns the page of list at offset, and whether more follow.
func paginate[T any](list []T, offset, max int) ([]T, bool) {
	if offset >= len(list) {
		return []T{}, false
	}
	end := min(offset+max, len(list))
	return list[offset:end], end < len(list)
}

// encodeCursor makes the opaque cursor of a next link.
func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

// cursorOffset decodes a cursor made by encodeCursor; "" is offset 0.
func cursorOffset(cursor string) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		if v, ok := strings.CutPrefix(string(raw), "offset:"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return n, nil
			}
		}
	}
	return 0, failf(http.StatusBadRequest, "Invalid cursor %q.", cursor)
}

// GET /v1/licenses?orgId=
func (s *Sim) handleLicenses(q *request) reply {
	orgID := q.query.Get("orgId")
	if orgID == "" {
		orgID = s.callerOrgLocked(q.who)
	}
	if err := s.checkReadableLocked(q.who, orgID, q.now); err != nil {
		return errReply(err)
	}
	return jsonReply(items[License]{Items: slices.Clone(s.orgs[orgID].Licenses)})
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
	if err := s.checkManagedLocked(q.who, q.params[0], q.now); err != nil {
		return errReply(err)
	}
	o := s.orgs[q.params[0]]
	return jsonReply(organization{ID: o.ID, DisplayName: o.Name, Created: o.Created})
}

// partnerAdmin is GET /v1/partner/organizations/{orgId}/partnerAdmins' item.
type partnerAdmin struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	FirstName         string   `json:"firstName"`
	LastName          string   `json:"lastName"`
	Emails            []string `json:"emails"`
	RoleInCustomerOrg string   `json:"roleInCustomerOrg"`
}

// GET /v1/partner/organizations/{orgId}/partnerAdmins: every person of the partner
// organization, with the role the partner has in orgID. Only a managed (or provisioned) org
// has partner admins; others answer 403.
func (s *Sim) handlePartnerAdmins(q *request) reply {
	orgID := q.params[0]
	own := s.callerOrgLocked(q.who)
	if orgID == own {
		return errReply(failf(http.StatusBadRequest, "Organization %s is the partner's own organization.", orgID))
	}
	if err := s.checkManagedLocked(q.who, orgID, q.now); err != nil {
		return errReply(err)
	}
	role := s.partnerRoleLocked(orgID, q.now)
	list := []partnerAdmin{}
	for _, id := range s.orgPeople[own] {
		p := s.people[id]
		if p.Type != PersonTypePerson {
			continue
		}
		list = append(list, partnerAdmin{
			ID: p.ID, DisplayName: p.DisplayName, FirstName: p.FirstName, LastName: p.LastName,
			Emails: slices.Clone(p.Emails), RoleInCustomerOrg: role,
		})
	}
	return jsonReply(items[partnerAdmin]{Items: list})
}

// partnerRoleLocked returns the partner's role in a managed org: the role its provisioning
// gave (see roleFor), or full admin for an org managed from the start (inference: the
// customer made the partner an external full admin).
func (s *Sim) partnerRoleLocked(orgID string, now time.Time) string {
	for _, id := range s.customerOrder {
		if c := s.customers[id]; c.orgID == orgID && c.attached(now) {
			return c.role
		}
	}
	return RoleFullAdmin
}

// roleFor returns the role the partner gets when it attaches to an org with these licenses:
// full admin for an org without licenses, else provisioning admin (help article; the role ids
// are an inference, UNCONFIRMED). Suspended or canceled licenses are not modelled.
func roleFor(licenses []License) string {
	if len(licenses) == 0 {
		return RoleFullAdmin
	}
	return RoleProvisionAdmin
}
