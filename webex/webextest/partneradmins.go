// Partner admins: the partner's administrators of a customer organization and their role
// (GET /v1/partner/organizations/{orgId}/partnerAdmins).

package webextest

import (
	"net/http"
	"slices"
	"time"
)

// The roles the partner's admins get in a customer organization (roleInCustomerOrg). That
// "Full Admin" is id_full_admin and "Provisioning Admin" is
// atlas-portal.partner.provision_admin is an inference (UNCONFIRMED).
const (
	RoleFullAdmin      = "id_full_admin"
	RoleProvisionAdmin = "atlas-portal.partner.provision_admin"
)

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
	orgID := s.orgKeyLocked(q.params[0])
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
