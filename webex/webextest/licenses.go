// Licenses: an organization's licenses and GET /v1/licenses.

package webextest

import "slices"

// License is a license of an organization, as GET /v1/licenses answers it.
type License struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	TotalUnits    int    `json:"totalUnits"`
	ConsumedUnits int    `json:"consumedUnits"`
}

// GET /v1/licenses?orgId=
func (s *Sim) handleLicenses(q *request) reply {
	orgID := s.orgKeyLocked(q.query.Get("orgId"))
	if orgID == "" {
		orgID = s.callerOrgLocked(q.who)
	}
	if err := s.checkReadableLocked(q.who, orgID, q.now); err != nil {
		return errReply(err)
	}
	return jsonReply(items[License]{Items: slices.Clone(s.orgs[orgID].Licenses)})
}
