package webex

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"attachbot/bot"
)

// wireCustomerUpdate is the body of PUT /wholesale/customers/{customerId}: its schema allows
// externalId, packages (required), address, provisioningParameters and subPartnerAdminEmail;
// a retry sends the packages and, for calling, the location, and leaves the rest as it is.
type wireCustomerUpdate struct {
	Packages               []string                `json:"packages"`
	ProvisioningParameters *wireProvisioningParams `json:"provisioningParameters,omitempty"`
}

// customerUpdate converts the bot's update to Webex's body. The calling location is written
// exactly as the POST writes it.
func customerUpdate(u bot.CustomerUpdate) wireCustomerUpdate {
	w := wireCustomerUpdate{Packages: u.Packages}
	if w.Packages == nil {
		w.Packages = []string{} // "packages" is required: sent even empty, for Webex to refuse
	}
	if u.Calling != nil {
		w.ProvisioningParameters = customerRequest(bot.CustomerRequest{Calling: u.Calling}).ProvisioningParameters
	}
	return w
}

// UpdateCustomer runs PUT /wholesale/customers/{customerId} (202 Accepted), which makes Webex
// provision the customer's packages again, in the background. It is sent at most once, like
// Provision's POST: Webex starts work on it, so a timeout, a transport failure after the
// request was written or a 5xx comes back as an error wrapping bot.ErrOutcomeUnknown. Webex's
// answer names the customer it updated ({url} and Location, as for the POST); a 2xx that names
// none is still an acceptance, of the customer asked for.
func (c *Client) UpdateCustomer(ctx context.Context, customerID string, u bot.CustomerUpdate) (bot.Provisioned, error) {
	seg, err := segment(customerID)
	if err != nil {
		return bot.Provisioned{}, fmt.Errorf("update wholesale customer: %w", err)
	}
	b, err := json.Marshal(customerUpdate(u))
	if err != nil {
		return bot.Provisioned{}, fmt.Errorf("update wholesale customer %s: encode the body: %w", customerID, err)
	}
	resp, err := c.do(ctx, request{method: http.MethodPut, path: "wholesale/customers/" + seg, body: b, once: true})
	if err != nil {
		return bot.Provisioned{}, fmt.Errorf("update wholesale customer %s: %w", customerID, err)
	}
	out := acceptedCustomer(resp)
	if out.CustomerID == "" {
		out.CustomerID = customerID
	}
	return out, nil
}
