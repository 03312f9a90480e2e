package cards

import (
	"encoding/json"
	"errors"
	"fmt"

	"attachbot/bot"
)

// Retry returns the partner's card for an attach that ended error or provisioned_with_errors:
// the customer, the status Webex reported, what a retry does, and the Retry button. The errors
// themselves are in the notice before it, which can be as long as Webex's list.
func (*Builder) Retry(v bot.RetryView) (json.RawMessage, error) {
	r := v.Request
	if r.ID == "" {
		return nil, errors.New("retry card: the request has no id")
	}
	if r.CustomerID == "" {
		return nil, fmt.Errorf("retry card of %s: the request has no customer id", r.ID)
	}
	body := []element{title(fmt.Sprintf("Retry attach %s?", r.ID))}
	body = append(body, facts(
		fact{"Company name", orgName(r.OrgName, r.Spec)},
		fact{"Customer id", r.CustomerID},
		fact{"Status", bot.StateText(r.State)},
		fact{"Packages", bot.PackageLabels(r.Spec.Packages)},
	)...)
	body = append(body,
		para("Retry asks Webex to provision the same packages for this customer again. It helps when the cause was temporary or has been fixed; the errors are in the message above."),
	)
	actions := []action{submit("Retry", "positive", v.Retry())}
	return render(adaptiveCard{Body: body, Actions: actions})
}
