package cards

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"

	"attachbot/bot"
)

// Provisioned returns the partner's card for an attach that ended provisioned: the customer,
// the role Webex reports for the partner and what it means, the first-user note, and, for
// Provisioning Admin, the advice to ask for Full Admin with a button that does.
func (*Builder) Provisioned(v bot.ProvisionedView) (json.RawMessage, error) {
	r := v.Request
	if r.ID == "" {
		return nil, errors.New("provisioned card: the request has no id")
	}
	var body []element
	if r.State == bot.StateProvisionedWithErrors {
		body = append(body, title(fmt.Sprintf("Attach %s is provisioned, with errors", r.ID)))
	} else {
		body = append(body, title(fmt.Sprintf("Attach %s is provisioned", r.ID)))
	}

	meaning := string(v.Mapped)
	if meaning == "" && v.Role != "" {
		meaning = "not a role the help article names"
	}
	body = append(body, facts(
		fact{"Customer id", r.CustomerID},
		fact{"Company name", r.Spec.CustomerName},
		fact{"Organization id", bot.OrgIDText(r.Spec.OrgID)},
		fact{"Customer admin", r.Spec.AdminEmail},
		fact{"Packages", bot.PackageLabels(r.Spec.Packages)},
		fact{"External id", r.Spec.ExternalID},
		fact{"Partner role", cmp.Or(v.Role, "not reported by Webex yet")},
		fact{"Which means", meaning},
	)...)

	if problems := provisioningErrors(r); len(problems) > 0 {
		body = append(body, colored("warning", "Webex reported:"))
		body = append(body, bullets(problems)...)
	}
	body = append(body, para(bot.FirstUserNote))
	if r.Facts.Managed.Value == bot.Yes {
		body = append(body, note(bot.ManagedNote))
	}

	var actions []action
	if v.Mapped == bot.RoleProvisioningAdmin {
		body = append(body, section("Provisioning Admin"), para(bot.FullAdminAdvice))
		actions = append(actions, submit("Ask the customer admin for Full Admin", "", v.AskFullAdmin()))
	}
	return render(adaptiveCard{Body: body, Actions: actions})
}

// provisioningErrors lists the errors of a provisioned customer and of its packages, and the
// packages' warnings.
func provisioningErrors(r bot.Request) []string {
	lines := errorLines(r.Errors)
	for _, p := range r.Packages {
		label := bot.PackageLabels([]string{p.Name})
		for _, d := range p.Errors {
			lines = append(lines, label+": "+errorLine(d))
		}
		for _, d := range p.Warnings {
			lines = append(lines, label+" (warning): "+errorLine(d))
		}
	}
	return lines
}
