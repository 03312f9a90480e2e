package webex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"attachbot/bot"
)

// CountPeople counts the people of an organization (GET /people?orgId=&max=), following the
// pages only until limit people are counted. It returns limit when the organization has limit
// people or more.
func (c *Client) CountPeople(ctx context.Context, orgID string, limit int) (int, error) {
	if orgID == "" {
		return 0, errors.New("count people: the org id is empty")
	}
	if limit <= 0 {
		return 0, fmt.Errorf("count people in %s: the limit %d is not positive", orgID, limit)
	}
	query := url.Values{"orgId": {orgID}, "max": {strconv.Itoa(min(limit, 100))}}
	n := 0
	err := c.pages(ctx, "people", query, func(items []json.RawMessage) (bool, error) {
		n += len(items)
		return n < limit, nil
	})
	if err != nil {
		return 0, fmt.Errorf("count people in %s: %w", orgID, err)
	}
	return min(n, limit), nil
}

// wireLicense is a Webex license.
type wireLicense struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	TotalUnits    int    `json:"totalUnits"`
	ConsumedUnits int    `json:"consumedUnits"`
}

// Licenses lists the licenses of an organization (GET /licenses?orgId=).
func (c *Client) Licenses(ctx context.Context, orgID string) ([]bot.License, error) {
	if orgID == "" {
		return nil, errors.New("list licenses: the org id is empty")
	}
	items, err := list[wireLicense](ctx, c, "licenses", url.Values{"orgId": {orgID}})
	if err != nil {
		return nil, fmt.Errorf("list licenses of %s: %w", orgID, err)
	}
	out := make([]bot.License, len(items))
	for i, l := range items {
		out[i] = bot.License{ID: l.ID, Name: l.Name, TotalUnits: l.TotalUnits, ConsumedUnits: l.ConsumedUnits}
	}
	return out, nil
}

// Organization returns an organization the token can read (GET /organizations/{id}).
func (c *Client) Organization(ctx context.Context, orgID string) (bot.Organization, error) {
	seg, err := segment(orgID)
	if err != nil {
		return bot.Organization{}, fmt.Errorf("get organization: %w", err)
	}
	var o struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	if _, err := c.get(ctx, "organizations/"+seg, nil, &o); err != nil {
		return bot.Organization{}, fmt.Errorf("get organization %s: %w", orgID, err)
	}
	return bot.Organization{ID: o.ID, DisplayName: o.DisplayName}, nil
}

// wireCustomer is a wholesale customer.
type wireCustomer struct {
	ID              string            `json:"id"`
	OrgID           string            `json:"orgId"`
	ExternalID      string            `json:"externalId"`
	Status          string            `json:"status"`
	Packages        []string          `json:"packages"`
	Errors          []wireErrorDetail `json:"errors"`
	ResourceDetails struct {
		Packages []struct {
			Name     string            `json:"name"`
			Status   string            `json:"status"`
			Errors   []wireErrorDetail `json:"errors"`
			Warnings []wireErrorDetail `json:"warnings"`
		} `json:"packages"`
	} `json:"resourceDetails"`
}

func (w wireCustomer) customer() bot.Customer {
	c := bot.Customer{
		ID:         w.ID,
		OrgID:      w.OrgID,
		ExternalID: w.ExternalID,
		Status:     w.Status,
		Packages:   w.Packages,
		Errors:     details(w.Errors),
	}
	for _, p := range w.ResourceDetails.Packages {
		c.Details = append(c.Details, bot.PackageStatus{
			Name:     p.Name,
			Status:   p.Status,
			Errors:   details(p.Errors),
			Warnings: details(p.Warnings),
		})
	}
	return c
}

// customersPageSize is the max of each GET /wholesale/customers. The spec documents no default
// or limit for max; 100 is what Webex's other lists take.
const customersPageSize = 100

// Customers lists the wholesale customers q selects (GET /wholesale/customers, every page:
// by Link when Webex sends one, else by offset while full pages come back).
func (c *Client) Customers(ctx context.Context, q bot.CustomerQuery) ([]bot.Customer, error) {
	query := url.Values{}
	if q.OrgID != "" {
		query.Set("orgId", q.OrgID)
	}
	if q.ExternalID != "" {
		query.Set("externalId", q.ExternalID)
	}
	if q.Status != "" {
		query.Set("status", q.Status)
	}
	items, err := offsetList[wireCustomer](ctx, c, "wholesale/customers", query, customersPageSize)
	if err != nil {
		return nil, fmt.Errorf("list wholesale customers: %w", err)
	}
	out := make([]bot.Customer, len(items))
	for i, w := range items {
		out[i] = w.customer()
	}
	return out, nil
}

// Customer returns a wholesale customer by its customer id (GET /wholesale/customers/{id}),
// with Webex's tracking id of the answer.
func (c *Client) Customer(ctx context.Context, customerID string) (bot.Customer, error) {
	seg, err := segment(customerID)
	if err != nil {
		return bot.Customer{}, fmt.Errorf("get wholesale customer: %w", err)
	}
	var w wireCustomer
	resp, err := c.get(ctx, "wholesale/customers/"+seg, nil, &w)
	if err != nil {
		return bot.Customer{}, fmt.Errorf("get wholesale customer %s: %w", customerID, err)
	}
	cust := w.customer()
	cust.TrackingID = resp.responseTrackingID()
	return cust, nil
}

// wirePrecheckInfo is one info entry of a precheck answer.
type wirePrecheckInfo struct {
	InfoCode    flexInt `json:"infoCode"`
	Description string  `json:"description"`
}

// Precheck runs POST /wholesale/customers/validate. It changes nothing at Webex, so it is
// retried like a GET. Webex's schema makes info an object and its example an array; both are
// accepted.
func (c *Client) Precheck(ctx context.Context, req bot.CustomerRequest) (bot.Precheck, error) {
	var w struct {
		Message    string          `json:"message"`
		Info       json.RawMessage `json:"info"`
		TrackingID string          `json:"trackingId"`
	}
	resp, err := c.withBody(ctx, http.MethodPost, "wholesale/customers/validate", true, precheckRequest(req), &w)
	if err != nil {
		return bot.Precheck{}, fmt.Errorf("precheck wholesale customer for org %s: %w", req.OrgID, err)
	}
	infos, err := precheckInfo(w.Info)
	if err != nil {
		return bot.Precheck{}, fmt.Errorf("precheck wholesale customer for org %s: decode info: %w", req.OrgID, err)
	}
	out := bot.Precheck{Message: w.Message, TrackingID: w.TrackingID}
	if out.TrackingID == "" {
		out.TrackingID = resp.responseTrackingID()
	}
	for _, i := range infos {
		out.Info = append(out.Info, bot.PrecheckInfo{Code: int(i.InfoCode), Description: i.Description})
	}
	return out, nil
}

// precheckInfo decodes info as an array of entries, a single entry, or nothing.
func precheckInfo(raw json.RawMessage) ([]wirePrecheckInfo, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return nil, nil
	case raw[0] == '[':
		var list []wirePrecheckInfo
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		return list, nil
	default:
		var one wirePrecheckInfo
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		return []wirePrecheckInfo{one}, nil
	}
}

// Provision runs POST /wholesale/customers (202 Accepted). The customer id is the last path
// segment of the answer's url, or of the Location header when the body has none. It is never
// re-sent after the request may have reached Webex: an unknown outcome, including a 2xx
// without a customer URL, comes back as an error wrapping bot.ErrOutcomeUnknown.
func (c *Client) Provision(ctx context.Context, req bot.CustomerRequest) (bot.Provisioned, error) {
	r := request{method: http.MethodPost, path: "wholesale/customers"}
	b, err := json.Marshal(customerRequest(req))
	if err != nil {
		return bot.Provisioned{}, fmt.Errorf("provision wholesale customer for org %s: encode the body: %w", req.OrgID, err)
	}
	r.body = b
	resp, err := c.do(ctx, r)
	if err != nil {
		return bot.Provisioned{}, fmt.Errorf("provision wholesale customer for org %s: %w", req.OrgID, err)
	}
	out := acceptedCustomer(resp)
	if out.CustomerID == "" {
		return bot.Provisioned{}, fmt.Errorf("provision wholesale customer for org %s: webex answered %d without a customer url (trackingId %s): %w",
			req.OrgID, resp.status, out.TrackingID, bot.ErrOutcomeUnknown)
	}
	return out, nil
}

// acceptedCustomer reads the customer Webex names in a 202 answer to a provisioning or an
// update: its url from the body, or from the Location header when the body has none, and the
// customer id as the url's last segment ("" when neither names one).
func acceptedCustomer(resp *response) bot.Provisioned {
	var w struct {
		URL string `json:"url"`
	}
	if len(bytes.TrimSpace(resp.body)) > 0 {
		// A body that is not the expected JSON is not fatal while the Location header is there.
		_ = json.Unmarshal(resp.body, &w)
	}
	out := bot.Provisioned{URL: w.URL, TrackingID: resp.responseTrackingID()}
	if out.URL == "" {
		out.URL = resp.header.Get("Location")
	}
	out.CustomerID = lastSegment(out.URL)
	return out
}

// lastSegment returns the unescaped last path segment of a URL, or "".
func lastSegment(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	if p == "" {
		return ""
	}
	seg, err := url.PathUnescape(path.Base(p))
	if err != nil || seg == "/" || seg == "." {
		return ""
	}
	return seg
}

// wirePartnerAdmin is one of the partner's admins in a customer organization.
type wirePartnerAdmin struct {
	ID                string   `json:"id"`
	DisplayName       string   `json:"displayName"`
	Emails            []string `json:"emails"`
	RoleInCustomerOrg string   `json:"roleInCustomerOrg"`
}

// PartnerAdmins lists the partner's admins in a customer organization with their role
// (GET /partner/organizations/{orgId}/partnerAdmins).
func (c *Client) PartnerAdmins(ctx context.Context, orgID string) ([]bot.PartnerAdmin, error) {
	seg, err := segment(orgID)
	if err != nil {
		return nil, fmt.Errorf("list partner admins: %w", err)
	}
	items, err := list[wirePartnerAdmin](ctx, c, "partner/organizations/"+seg+"/partnerAdmins", nil)
	if err != nil {
		return nil, fmt.Errorf("list partner admins of %s: %w", orgID, err)
	}
	out := make([]bot.PartnerAdmin, len(items))
	for i, a := range items {
		out[i] = bot.PartnerAdmin{ID: a.ID, DisplayName: a.DisplayName, Emails: a.Emails, RoleInCustomerOrg: a.RoleInCustomerOrg}
	}
	return out, nil
}

// PersonRoles returns the admin roles of a person (GET /people/{id} roles). Webex shows roles
// only to an admin of the person's organization; an answer without the field is
// bot.ErrRolesUnreadable.
func (c *Client) PersonRoles(ctx context.Context, personID string) ([]string, error) {
	seg, err := segment(personID)
	if err != nil {
		return nil, fmt.Errorf("get person roles: %w", err)
	}
	var p struct {
		Roles *[]string `json:"roles"`
	}
	if _, err := c.get(ctx, "people/"+seg, nil, &p); err != nil {
		return nil, fmt.Errorf("get person %s: %w", personID, err)
	}
	if p.Roles == nil {
		return nil, fmt.Errorf("get person %s: %w", personID, bot.ErrRolesUnreadable)
	}
	return *p.Roles, nil
}
