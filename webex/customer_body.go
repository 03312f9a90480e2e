package webex

import (
	"strings"

	"attachbot/bot"
)

// The request bodies of the wholesale customer API. POST /wholesale/customers and its
// precheck (POST /wholesale/customers/validate) have schemas of their own in Webex's spec,
// and each body carries exactly the fields its schema has.

// wireAddress is a wholesale address.
type wireAddress struct {
	AddressLine1    string `json:"addressLine1"`
	AddressLine2    string `json:"addressLine2,omitempty"`
	City            string `json:"city"`
	StateOrProvince string `json:"stateOrProvince,omitempty"`
	ZipOrPostalCode string `json:"zipOrPostalCode,omitempty"`
	Country         string `json:"country"`
}

func address(a bot.Address) wireAddress {
	return wireAddress{
		AddressLine1:    a.Line1,
		AddressLine2:    a.Line2,
		City:            a.City,
		StateOrProvince: a.State,
		ZipOrPostalCode: a.Zip,
		Country:         a.Country,
	}
}

// wireCustomerRequest is the body of POST /wholesale/customers.
type wireCustomerRequest struct {
	ProvisioningID         string                  `json:"provisioningId"`
	Packages               []string                `json:"packages"`
	OrgID                  string                  `json:"orgId,omitempty"`
	ExternalID             string                  `json:"externalId"`
	Address                wireAddress             `json:"address"`
	CustomerInfo           *wireCustomerInfo       `json:"customerInfo,omitempty"`
	ProvisioningParameters *wireProvisioningParams `json:"provisioningParameters,omitempty"`
}

// wireCustomerInfo is POST /wholesale/customers' customerInfo: name and primaryEmail are both
// required when it is sent.
type wireCustomerInfo struct {
	Name         string `json:"name"`
	PrimaryEmail string `json:"primaryEmail"`
	Language     string `json:"language,omitempty"`
}

// wirePrecheckRequest is the body of POST /wholesale/customers/validate. Only address is
// required; its customerInfo has no language.
type wirePrecheckRequest struct {
	ProvisioningID         string                  `json:"provisioningId,omitempty"`
	Packages               []string                `json:"packages,omitempty"`
	OrgID                  string                  `json:"orgId,omitempty"`
	ExternalID             string                  `json:"externalId,omitempty"`
	Address                wireAddress             `json:"address"`
	CustomerInfo           *wirePrecheckCustomer   `json:"customerInfo,omitempty"`
	ProvisioningParameters *wireProvisioningParams `json:"provisioningParameters,omitempty"`
}

// wirePrecheckCustomer is the precheck's customerInfo: primaryEmail is required, name optional.
type wirePrecheckCustomer struct {
	Name         string `json:"name,omitempty"`
	PrimaryEmail string `json:"primaryEmail"`
}

type wireProvisioningParams struct {
	Calling *wireCalling `json:"calling,omitempty"`
}

type wireCalling struct {
	Location wireLocation `json:"location"`
}

type wireLocation struct {
	Name     string      `json:"name"`
	Address  wireAddress `json:"address"`
	Timezone string      `json:"timezone"`
	Language string      `json:"language"`
}

// customerRequest converts the bot's request to the body of POST /wholesale/customers.
// customerInfo is sent only with both a name and an email, as its schema requires both; it is
// optional when orgId is given, and the bot always gives orgId. provisioningParameters is sent
// only for calling.
func customerRequest(r bot.CustomerRequest) wireCustomerRequest {
	w := wireCustomerRequest{
		ProvisioningID:         r.ProvisioningID,
		Packages:               r.Packages,
		OrgID:                  r.OrgID,
		ExternalID:             r.ExternalID,
		Address:                address(r.Address),
		ProvisioningParameters: provisioningParams(r.Calling),
	}
	if r.CustomerName != "" && r.PrimaryEmail != "" {
		w.CustomerInfo = &wireCustomerInfo{Name: r.CustomerName, PrimaryEmail: r.PrimaryEmail, Language: customerLanguage(r.Language)}
	}
	return w
}

// precheckRequest converts the bot's request to the body of the precheck.
func precheckRequest(r bot.CustomerRequest) wirePrecheckRequest {
	w := wirePrecheckRequest{
		ProvisioningID:         r.ProvisioningID,
		Packages:               r.Packages,
		OrgID:                  r.OrgID,
		ExternalID:             r.ExternalID,
		Address:                address(r.Address),
		ProvisioningParameters: provisioningParams(r.Calling),
	}
	if r.PrimaryEmail != "" {
		w.CustomerInfo = &wirePrecheckCustomer{Name: r.CustomerName, PrimaryEmail: r.PrimaryEmail}
	}
	return w
}

func provisioningParams(c *bot.CallingLocation) *wireProvisioningParams {
	if c == nil {
		return nil
	}
	return &wireProvisioningParams{Calling: &wireCalling{Location: wireLocation{
		Name:     c.Name,
		Address:  address(c.Address),
		Timezone: c.Timezone,
		Language: strings.ToLower(c.Language),
	}}}
}

// customerLanguage writes a language code in customerInfo.language's form, which the spec
// gives as "{ISO-639-1}_{ISO-3166} or {ISO-639-1}": the language in lower case, the country
// in upper case ("en", "en_US"). The calling location's language keeps the lower-case form of
// its schema's example ("en_us").
func customerLanguage(code string) string {
	lang, country, ok := strings.Cut(code, "_")
	if !ok {
		return strings.ToLower(code)
	}
	return strings.ToLower(lang) + "_" + strings.ToUpper(country)
}
