package bot

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"path"
	"strings"
)

// The approval gate: who may let the partner into a customer organization, and when the
// customer admin must be asked whatever the partner declares.

// ErrRolesUnreadable says Webex answered for a person without their roles: the partner's
// token is not an admin of the person's organization.
var ErrRolesUnreadable = errors.New("the person's roles are not shown to the partner's token")

// CriterionEarlierRefusal is the approval criterion of an organization whose customer admin
// declined an earlier attach request, or let one expire: they are asked again, whatever is
// declared.
const CriterionEarlierRefusal = "an earlier attach request that was declined or expired"

// approverCheck is what Webex says of the role of the person who clicked Approve.
type approverCheck int

// The outcomes of the role check.
const (
	approverFullAdmin approverCheck = iota // a full admin of their organization
	approverNotAdmin                       // their roles are readable and none is full admin
	approverUnchecked                      // the partner's token cannot read their roles
)

// checkApprover reads the roles of the person who clicked Approve with the partner's token
// (GET /people/{id} roles). A 403 or 404, or an answer without roles, leaves them unchecked;
// any other failure is returned, so the click is processed again later.
func (b *Bot) checkApprover(ctx context.Context, personID string) (approverCheck, error) {
	roles, err := b.partner.PersonRoles(ctx, personID)
	switch {
	case errors.Is(err, ErrRolesUnreadable), unreadable(err):
		b.log.Info("approver's roles not readable with the partner token", "person_id", personID, "err", err)
		return approverUnchecked, nil
	case err != nil:
		return approverUnchecked, fmt.Errorf("read the roles of %s: %w", personID, err)
	}
	for _, role := range roles {
		if isFullAdminRole(role) {
			return approverFullAdmin, nil
		}
	}
	return approverNotAdmin, nil
}

// isFullAdminRole reports whether a role of GET /people/{id} is the full administrator role.
// Webex lists role ids; the spec's example is base64 of a ciscospark://us/ROLE/<id> URI, and
// its AdminRolesEnum names the full admin "id_full_admin" or "Full_Admin". That the full
// admin's role id ends in id_full_admin is UNCONFIRMED by the spec: a role that is neither is
// taken as not full admin, so an unknown encoding refuses rather than lets someone through.
func isFullAdminRole(role string) bool {
	name := strings.TrimSpace(role)
	raw := strings.TrimRight(name, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if decoded, err := enc.DecodeString(raw); err == nil && strings.HasPrefix(string(decoded), "ciscospark://") {
			name = path.Base(string(decoded))
			break
		}
	}
	return name == "id_full_admin" || name == "Full_Admin"
}

// earlierRefusal reports whether a request for the organization was declined by its customer
// admin or expired before: then the admin is asked again, whatever the partner declares.
func (b *Bot) earlierRefusal(ctx context.Context, orgID string) (bool, error) {
	rs, err := b.db.Requests(ctx, RequestFilter{States: []State{StateDeclined, StateExpired}})
	if err != nil {
		return false, fmt.Errorf("list the declined and expired requests: %w", err)
	}
	for _, r := range rs {
		if SameOrg(r.Spec.OrgID, orgID) {
			return true, nil
		}
	}
	return false, nil
}
