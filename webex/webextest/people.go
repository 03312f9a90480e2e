// People: persons and bots of every organization, GET /v1/people/me, /v1/people/{id} and
// the people list with its filters and pages.

package webextest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The types of a Person.
const (
	PersonTypePerson = "person"
	PersonTypeBot    = "bot"
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
	return cloneOf(s.people, id)
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
	orgID := s.orgKeyLocked(q.query.Get("orgId"))
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
