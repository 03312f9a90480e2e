package bottest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"attachbot/bot"
)

// Org is what the fake Partner knows of a customer organization.
type Org struct {
	Name string
	// Managed: the partner manages it already, so it may read the organization, its people
	// and its licenses; otherwise those answer 403.
	Managed  bool
	People   int
	Licenses []bot.License
	// Admins are the partner's admins in the organization once attached, with their roles.
	Admins []bot.PartnerAdmin
}

// Partner is a fake bot.Partner: organizations a test declares, and the wholesale customers
// the bot provisions, whose status the test moves with SetStatus. The precheck always
// passes. Roles are what SetRoles said (none by default).
type Partner struct {
	mu        sync.Mutex
	orgs      map[string]Org
	customers []bot.Customer
	roles     map[string][]string
}

var _ bot.Partner = (*Partner)(nil)

// NewPartner returns a fake Partner that knows orgs.
func NewPartner(orgs map[string]Org) *Partner {
	return &Partner{orgs: orgs, roles: map[string][]string{}}
}

// SetStatus gives the wholesale customer of orgID the status Webex reports next, with errs
// as its errors. It fails the test when the bot provisioned no customer for orgID.
func (p *Partner) SetStatus(orgID, status string, errs ...bot.ErrorDetail) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.customers {
		if c.OrgID == orgID {
			p.customers[i].Status, p.customers[i].Errors = status, errs
			return nil
		}
	}
	return fmt.Errorf("no wholesale customer for organization %s", orgID)
}

// SetRoles gives a person the roles PersonRoles reports.
func (p *Partner) SetRoles(personID string, roles ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roles[personID] = roles
}

// Provisioned returns what the bot asked Webex to provision, in order.
func (p *Partner) Provisioned() []bot.Customer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.customers)
}

// org returns a managed organization, or the 403 Webex answers for one the partner cannot read.
func (p *Partner) org(method, path, orgID string) (Org, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o, ok := p.orgs[orgID]
	if !ok {
		return Org{}, notFound(method, path)
	}
	if !o.Managed {
		return Org{}, &bot.APIError{Method: method, Path: path, Status: 403, Message: "Forbidden"}
	}
	return o, nil
}

// CountPeople counts a managed organization's people, up to limit.
func (p *Partner) CountPeople(_ context.Context, orgID string, limit int) (int, error) {
	o, err := p.org("GET", "people", orgID)
	return min(o.People, limit), err
}

// Licenses lists a managed organization's licenses.
func (p *Partner) Licenses(_ context.Context, orgID string) ([]bot.License, error) {
	o, err := p.org("GET", "licenses", orgID)
	return slices.Clone(o.Licenses), err
}

// Organization returns a managed organization.
func (p *Partner) Organization(_ context.Context, orgID string) (bot.Organization, error) {
	o, err := p.org("GET", "organizations/"+orgID, orgID)
	if err != nil {
		return bot.Organization{}, err
	}
	return bot.Organization{ID: orgID, DisplayName: o.Name}, nil
}

// Customers returns the wholesale customers that match q.
func (p *Partner) Customers(_ context.Context, q bot.CustomerQuery) ([]bot.Customer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var found []bot.Customer
	for _, c := range p.customers {
		if (q.OrgID == "" || c.OrgID == q.OrgID) && (q.ExternalID == "" || c.ExternalID == q.ExternalID) &&
			(q.Status == "" || c.Status == q.Status) {
			found = append(found, c)
		}
	}
	return found, nil
}

// Customer returns a wholesale customer by id.
func (p *Partner) Customer(_ context.Context, id string) (bot.Customer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.customers {
		if c.ID == id {
			c.TrackingID = "FAKE_GET_" + id
			return c, nil
		}
	}
	return bot.Customer{}, notFound("GET", "wholesale/customers/"+id)
}

// Precheck passes.
func (p *Partner) Precheck(context.Context, bot.CustomerRequest) (bot.Precheck, error) {
	return bot.Precheck{Message: "success"}, nil
}

// Provision creates a wholesale customer, provisioning.
func (p *Partner) Provision(_ context.Context, req bot.CustomerRequest) (bot.Provisioned, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := fmt.Sprintf("customer-%d", len(p.customers)+1)
	p.customers = append(p.customers, bot.Customer{ID: id, OrgID: req.OrgID, ExternalID: req.ExternalID,
		Status: string(bot.StateProvisioning), Packages: slices.Clone(req.Packages)})
	return bot.Provisioned{CustomerID: id, URL: "https://webexapis.com/v1/wholesale/customers/" + id, TrackingID: "FAKE_" + id}, nil
}

// UpdateCustomer gives a customer new packages, updating.
func (p *Partner) UpdateCustomer(_ context.Context, id string, u bot.CustomerUpdate) (bot.Provisioned, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.customers {
		if c.ID == id {
			p.customers[i].Status, p.customers[i].Packages, p.customers[i].Errors = string(bot.StateUpdating), slices.Clone(u.Packages), nil
			return bot.Provisioned{CustomerID: id, URL: "https://webexapis.com/v1/wholesale/customers/" + id}, nil
		}
	}
	return bot.Provisioned{}, notFound("PUT", "wholesale/customers/"+id)
}

// PartnerAdmins returns the partner's admins in an organization.
func (p *Partner) PartnerAdmins(_ context.Context, orgID string) ([]bot.PartnerAdmin, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.orgs[orgID].Admins), nil
}

// PersonRoles returns the roles SetRoles gave a person.
func (p *Partner) PersonRoles(_ context.Context, personID string) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.roles[personID]), nil
}

// SetAdmins gives the partner's admins in orgID, with their roles, that PartnerAdmins reports.
func (p *Partner) SetAdmins(orgID string, admins []bot.PartnerAdmin) {
	p.mu.Lock()
	defer p.mu.Unlock()
	o := p.orgs[orgID]
	o.Admins = slices.Clone(admins)
	p.orgs[orgID] = o
}
