package bot

import (
	"context"
	"fmt"
)

// An answer to POST /wholesale/customers can be lost after Webex acted on the request (a
// timeout, a 5xx from a gateway). The submission is then retried, and it looks the
// externalId up first; but when Webex's customer list does not show the new customer yet, the
// re-submission is answered 409 (already a customer, or externalId taken). That 409 means
// "the earlier POST went through", not "nothing was created": the customer is looked up again
// and the request linked to it.

// outcomeUnknown records that a submission's answer was lost, so that the re-submission and
// what the partner is told take it into account, and returns the error that has the event
// retried.
func (b *Bot) outcomeUnknown(ctx context.Context, id string, cause error) error {
	recorded := false
	_, err := b.db.UpdateRequest(ctx, id, func(r *Request) ([]Outgoing, error) {
		recorded = false
		if r.State != StateSubmitting || r.OutcomeUnknown {
			return nil, nil
		}
		recorded = true
		now := b.clock.Now()
		r.OutcomeUnknown, r.Updated = true, now
		r.audit(now, "attachbot", "submission's answer lost", "Webex may have acted on it; looked up before any new submission", "")
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("provision request %s: %w (and recording it failed: %w)", id, cause, err)
	}
	if recorded {
		b.metrics.Provisioning(ProvisioningOutcomeUnknown)
	}
	return fmt.Errorf("provision request %s: %w", id, cause)
}

// findOwnCustomer looks up the wholesale customer a submission of spec created: by its
// externalId (a customer whose orgId is the spec's, or not shown yet), then by its orgId (a
// customer with the spec's externalId).
func (b *Bot) findOwnCustomer(ctx context.Context, spec AttachSpec) (Customer, string, bool, error) {
	byExternal, err := b.partner.Customers(ctx, CustomerQuery{ExternalID: spec.ExternalID})
	if err != nil {
		return Customer{}, "", false, fmt.Errorf("look up externalId %s: %w", spec.ExternalID, err)
	}
	for _, c := range byExternal {
		// Webex may spell the orgId otherwise than the spec keeps it: compared by UUID.
		if c.OrgID == "" || SameOrg(c.OrgID, spec.OrgID) {
			return c, "externalId " + spec.ExternalID, true, nil
		}
	}
	byOrg, err := b.partner.Customers(ctx, CustomerQuery{OrgID: spec.OrgID})
	if err != nil {
		return Customer{}, "", false, fmt.Errorf("look up the customers of %s: %w", spec.OrgID, err)
	}
	for _, c := range byOrg {
		if c.ExternalID == spec.ExternalID {
			return c, "orgId", true, nil
		}
	}
	return Customer{}, "", false, nil
}
