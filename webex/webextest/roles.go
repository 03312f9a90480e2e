// Admin roles: the roles of a person, shown only to the admins who may read its organization.

package webextest

import (
	"fmt"
	"slices"
	"time"
)

// FullAdminRoleID is the role id of a full administrator in a person's roles: base64 of
// ciscospark://us/ROLE/id_full_admin. The spec shows role ids as base64 ciscospark URIs and
// names the full admin role id_full_admin (AdminRolesEnum); that the two combine so is an
// inference (UNCONFIRMED).
const FullAdminRoleID = "Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfZnVsbF9hZG1pbg"

// UserAdminRoleID is the role id of a user administrator (UNCONFIRMED, as FullAdminRoleID): an
// admin, but not a full admin.
const UserAdminRoleID = "Y2lzY29zcGFyazovL3VzL1JPTEUvaWRfdXNlcl9hZG1pbg"

// personView is a person as GET /v1/people answers a caller: with roles only when the caller
// is an admin who may read the person's organization, as Webex shows admin fields only to
// the organization's admins; a person without roles then has "roles": [].
type personView struct {
	Person
	Roles *[]string `json:"roles,omitempty"`
}

// personViewLocked returns p as who sees it at now.
func (s *Sim) personViewLocked(who *principal, p *Person, now time.Time) personView {
	v := personView{Person: p.clone()}
	if who.admin && s.checkReadableLocked(who, p.OrgID, now) == nil {
		roles := slices.Clone(p.Roles)
		if roles == nil {
			roles = []string{}
		}
		v.Roles = &roles
	}
	return v
}

// SetRoles sets a person's admin roles (role ids such as FullAdminRoleID; none for a user).
func (s *Sim) SetRoles(personID string, roles ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return changeLocked(s, s.people, personID, fmt.Errorf("no person %s", personID), func(p *Person) {
		p.Roles = slices.Clone(roles)
	}) == nil
}
