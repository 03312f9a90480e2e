// The seed: the bot, the partner organization with Ann and Bob, Eve's organization, the
// Partner space and the customer organizations of SeedOrgs.

package webextest

import "fmt"

// The bot.
const (
	BotID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9jYmYyNzczNC1hYzEwLTQ1MjUtOGI2Ni00MDI4MDBlMDNkMmM"
	BotEmail = "attachbot@webex.bot"
	BotName  = "attachbot"
	// AppID is the appId of the bot's webhooks.
	AppID = "Y2lzY29zcGFyazovL3VzL0FQUExJQ0FUSU9OLzBlY2FmODI4LWUyZjctNDU1My04ZmNjLTY5ZDc5NTYxYTBkMQ"
)

// The partner organization and its people. The partner token (Options.PartnerToken) is Ann's:
// she is a partner full admin. Bob is a second partner admin, not in the Partner space.
const (
	PartnerOrgID   = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9mM2M5NTc4OS1hY2UxLTQ5NTQtYWM1ZC02YmFlZDJlYWM5MDI"
	PartnerOrgName = "Partner Example Ltd"

	AnnID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9lMGEzYTkxZi0yMzQ2LTRjMTMtYmMyNy1lZDEyYjEwODc3YTk"
	AnnEmail = "ann@partner.example"
	AnnName  = "Ann Andersen"

	BobID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9mMTI2MGViYy03ZDU2LTRiNTYtYjcxNC1kYzkxOWIyN2RiZGY"
	BobEmail = "bob@partner.example"
	BobName  = "Bob Berg"

	// PartnerSpaceID is the group room "Partner space"; its members are the bot and Ann.
	PartnerSpaceID    = "Y2lzY29zcGFyazovL3VzL1JPT00vMDA0NDk4ZjQtYjk4Ny00N2MxLThjOWMtMjZhODEzNjc4ZDdh"
	PartnerSpaceTitle = "Partner space"
)

// The outsider: Eve, the admin of an organization unrelated to the partner.
const (
	ElsewhereOrgID = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi82Y2FmNzZhNS03MDM1LTQ4YWUtODI4MC1hZDM3MjlhNmYyZTc"
	EveID          = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8zZjBjOTkzMS05MThjLTQwYmYtOTY3MC1jMzQyYzZjY2U5OTY"
	EveEmail       = "eve@elsewhere.example"
	EveName        = "Eve Outsider"
)

// The seeded customer organizations (see SeedOrgs) and their admins.
const (
	// SmallOrgID: 12 users, 2 licenses, readable by the partner token, not managed.
	SmallOrgID      = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi83M2Y4MGU1Mi1hMzY5LTQ4YjUtYTQ0MS00YzQ2ZjE0N2VjZjk"
	SmallAdminID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9jMWFmNDQ2NS0wNmYxLTQyZmMtYTEwMS0wZjE1NGE5ZjI5Njg"
	SmallAdminEmail = "admin@smallville.example"

	// BigOrgID: 150 users, readable, not managed.
	BigOrgID      = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9iNDU5MDcxYS1mYjhhLTRmOWUtYmY3Mi1jNDZkY2E4ZmJlMzU"
	BigAdminID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS81YTNjMWZiZC1mOWRhLTRiZjMtYTgxNi05NmE2OGFmZTIzMTI"
	BigAdminEmail = "admin@bigcorp.example"

	// NoLicenseOrgID: 8 users, no licenses, readable, not managed.
	NoLicenseOrgID      = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8xMzVkNjNjZi0xMjkzLTQyNGMtODAyYS0yZThmOTZmYzVjZTg"
	NoLicenseAdminID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9hNGVhMzkzOC1kNDI5LTRjNTItODEwOS0xNWIwODc1YjBiMjE"
	NoLicenseAdminEmail = "admin@freelancers.example"

	// TrialOrgID: a trial organization (readable); the precheck and the provisioning refuse it.
	TrialOrgID      = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9iZGZhZWY0Mi04YzdkLTQ0MzEtYjMzMS1kYWIxMjllYTNhN2I"
	TrialAdminID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS80MjYwY2U4Ni1jYTk2LTRkNzgtYmE1Ni05ZWU0NTJhNWQ0MjM"
	TrialAdminEmail = "admin@trialanderror.example"

	// CustomerOrgID: already a wholesale customer of the partner (provisioned, managed).
	CustomerOrgID      = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi80NGU3NjdmNy00M2JiLTQ4OTgtYWM1OS0xNTcxOTZmMTE5YmU"
	CustomerAdminID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8yM2NjMzkwYy05MzU0LTQwZTMtOGUxZi0zOTQ4NWQyM2QxZjM"
	CustomerAdminEmail = "admin@nordic-customer.example"
	// ExistingCustomerID is CustomerOrgID's wholesale customer id, and ExistingExternalID its
	// externalId.
	ExistingCustomerID = "Y2lzY29zcGFyazovL3VzL0VOVEVSUFJJU0UvNGQxZGQ3ZGUtMDdjMS00MzdiLTk1ZDAtYzU3YjgxMTAwOGI3"
	ExistingExternalID = "ext-nordic-0001"

	// ErrorOrgID: readable; its provisioning ends in status "error" with errors[].
	ErrorOrgID      = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8wNmYzMTc5Zi1lYzQzLTRhZTAtYTZlMS00NGNmMGI0MTUyYzg"
	ErrorAdminID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9jNzgxNjVkZS04NDU4LTQyMGMtODhiYS0yOWIxZjgyMjNjMDg"
	ErrorAdminEmail = "admin@brokenpipes.example"

	// HiddenOrgID: neither readable nor managed; the partner token gets 403 on its people,
	// licenses and organization, so its facts are unknown.
	HiddenOrgID      = "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi83YWExY2FhMC02NmRlLTRlOTYtODg2Ny0xMTkyNzc4MzJmMWQ"
	HiddenAdminID    = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS84M2YxMWIyZC05YmJjLTQ2ODUtYmNjMy0zMjNjNjczOTQwYTg"
	HiddenAdminEmail = "admin@hidden.example"
)

// callingMaintenanceError is the spec's example of a wholesale warning (errorCode 2560), used
// here as the error of ErrorOrgID's provisioning (simulated).
func callingMaintenanceError() ErrorDetail {
	return ErrorDetail{
		ErrorCode:   2560,
		Description: "One or more Webex Calling services are unavailable due to maintenance, unable to start provisioning. Consult status.webex.com and retry later.",
	}
}

// emailTakenError is the spec's example of a wholesale error (errorCode 10022), the default
// package error of the outcome "provisioned_with_errors" (simulated).
func emailTakenError() ErrorDetail {
	return ErrorDetail{ErrorCode: 10022, Description: "The email is already associated with an existing user."}
}

// SeedOrgs returns the customer organizations every new Sim starts with, in a fixed order.
// Each call returns a fresh copy.
func SeedOrgs() []Org {
	return []Org{
		{
			ID:          SmallOrgID,
			Name:        "Smallville Bakery",
			Description: "Small unmanaged org: 12 users, 2 licenses, readable by the partner token. Provisioning succeeds; the partner becomes Provisioning Admin.",
			AdminID:     SmallAdminID,
			AdminEmail:  SmallAdminEmail,
			AdminName:   "Sally Small",
			Users:       12,
			Licenses: []License{
				{Name: "Messaging", TotalUnits: 12, ConsumedUnits: 12},
				{Name: "Webex Meetings - Starter", TotalUnits: 10, ConsumedUnits: 4},
			},
			Readable: true,
		},
		{
			ID:          BigOrgID,
			Name:        "Bigcorp Logistics",
			Description: "150 users (100 or more: the customer admin's approval is needed), 2 licenses, readable, unmanaged.",
			AdminID:     BigAdminID,
			AdminEmail:  BigAdminEmail,
			AdminName:   "Bill Big",
			Users:       150,
			Licenses: []License{
				{Name: "Messaging", TotalUnits: 200, ConsumedUnits: 150},
				{Name: "Webex Meetings", TotalUnits: 150, ConsumedUnits: 120},
			},
			Readable: true,
		},
		{
			ID:          NoLicenseOrgID,
			Name:        "Freelancers Guild",
			Description: "8 users and no licenses, readable, unmanaged. Provisioning succeeds; the partner becomes Full Admin.",
			AdminID:     NoLicenseAdminID,
			AdminEmail:  NoLicenseAdminEmail,
			AdminName:   "Fiona Free",
			Users:       8,
			Readable:    true,
		},
		{
			ID:          TrialOrgID,
			Name:        "Trial & Error Labs",
			Description: "Trial org, 6 users, 1 trial license, readable. The precheck and POST wholesale/customers refuse it (simulated error code).",
			AdminID:     TrialAdminID,
			AdminEmail:  TrialAdminEmail,
			AdminName:   "Tom Trial",
			Users:       6,
			Licenses:    []License{{Name: "Webex Meetings - Trial", TotalUnits: 25, ConsumedUnits: 6}},
			Readable:    true,
			Trial:       true,
		},
		{
			ID:          CustomerOrgID,
			Name:        "Nordic Customer A/S",
			Description: "Already a wholesale customer of the partner (provisioned, externalId " + ExistingExternalID + "), managed. The precheck refuses it and POST answers 409.",
			AdminID:     CustomerAdminID,
			AdminEmail:  CustomerAdminEmail,
			AdminName:   "Nora Nordic",
			Users:       20,
			Licenses:    []License{{Name: "Webex Calling - Professional", TotalUnits: 20, ConsumedUnits: 18}},
			Readable:    true,
			Managed:     true,
			Existing: &ExistingCustomer{
				ID:         ExistingCustomerID,
				ExternalID: ExistingExternalID,
				Packages:   []string{"webex_calling"},
				Address: Address{
					AddressLine1: "Havnegade 1", City: "Copenhagen", ZipOrPostalCode: "1058", Country: "DK",
				},
			},
		},
		{
			ID:          ErrorOrgID,
			Name:        "Broken Pipes Plumbing",
			Description: "10 users, 1 license, readable, unmanaged. Provisioning ends in status error with errors[] (code 2560).",
			AdminID:     ErrorAdminID,
			AdminEmail:  ErrorAdminEmail,
			AdminName:   "Eric Error",
			Users:       10,
			Licenses:    []License{{Name: "Messaging", TotalUnits: 10, ConsumedUnits: 10}},
			Readable:    true,
			Outcome:     Outcome{Status: StatusError, Errors: []ErrorDetail{callingMaintenanceError()}},
		},
		{
			ID:          HiddenOrgID,
			Name:        "Hidden Holdings",
			Description: "Unmanaged and unreadable: the partner token gets 403 on its people, licenses and organization, so its facts are unknown. (40 users, 2 licenses.)",
			AdminID:     HiddenAdminID,
			AdminEmail:  HiddenAdminEmail,
			AdminName:   "Hannah Hidden",
			Users:       40,
			Licenses: []License{
				{Name: "Messaging", TotalUnits: 50, ConsumedUnits: 40},
				{Name: "Webex Meetings", TotalUnits: 40, ConsumedUnits: 12},
			},
		},
	}
}

// seedLocked loads the seed data.
func (s *Sim) seedLocked() error {
	if _, err := s.addOrgLocked(Org{
		ID:          PartnerOrgID,
		Name:        PartnerOrgName,
		Description: "The partner's own organization: the bot, Ann and Bob.",
	}); err != nil {
		return err
	}
	for _, p := range []Person{
		{ID: BotID, Emails: []string{BotEmail}, DisplayName: BotName, OrgID: PartnerOrgID, Type: PersonTypeBot},
		{ID: AnnID, Emails: []string{AnnEmail}, DisplayName: AnnName, FirstName: "Ann", LastName: "Andersen", OrgID: PartnerOrgID, Roles: []string{FullAdminRoleID}},
		{ID: BobID, Emails: []string{BobEmail}, DisplayName: BobName, FirstName: "Bob", LastName: "Berg", OrgID: PartnerOrgID},
	} {
		if _, err := s.addPersonLocked(p); err != nil {
			return err
		}
	}
	if _, err := s.addOrgLocked(Org{
		ID:          ElsewhereOrgID,
		Name:        "Elsewhere Inc",
		Description: "Eve's organization, unrelated to the partner.",
		AdminID:     EveID,
		AdminEmail:  EveEmail,
		AdminName:   EveName,
		Users:       3,
	}); err != nil {
		return err
	}
	for _, o := range SeedOrgs() {
		if _, err := s.addOrgLocked(o); err != nil {
			return fmt.Errorf("org %s: %w", o.Name, err)
		}
	}
	if _, err := s.addRoomLocked(PartnerSpaceID, PartnerSpaceTitle, RoomTypeGroup, []string{BotID, AnnID}); err != nil {
		return err
	}
	return nil
}

// Templates are the simulated partner's onboarding templates, in attachbot's TEMPLATES form
// (name=provisioningId, comma-separated): what the sandbox and the end-to-end tests configure.
const Templates = "Standard=cHJvdmlzaW9uaW5nSWQtc3RhbmRhcmQ, Calling=cHJvdmlzaW9uaW5nSWQtY2FsbGluZw"
