package cards

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"attachbot/bot"
)

// Batch returns the partner's card for the dry run of a CSV file given to `attach`: the
// file's counts, what Start does, and the Start and Cancel buttons.
func (*Builder) Batch(v bot.BatchView) (json.RawMessage, error) {
	b := v.Batch
	if b.ID == "" {
		return nil, errors.New("batch card: the batch has no id")
	}
	rows := b.Automatic + b.Approval
	name := b.FileName
	if name == "" {
		name = "your file"
	}
	body := []element{title(fmt.Sprintf("Attach %d organizations from %s?", rows, name))}
	body = append(body, facts(
		fact{"Batch", b.ID},
		fact{"Rows in the file", strconv.Itoa(b.FileRows)},
		fact{"Attach automatically", strconv.Itoa(b.Automatic)},
		fact{"Need the customer admin's approval", strconv.Itoa(b.Approval)},
		fact{"Refused (not attached)", strconv.Itoa(b.Refused)},
	)...)
	body = append(body,
		para("Start creates one attach request per row that is not refused, as a one-line attach does, and submits them a few at a time. I keep one progress message up to date in this thread, and tell the outcomes here, grouped."),
		para("Cancel discards the batch: nothing is attached."),
	)
	actions := []action{
		submit("Start", "positive", v.Start()),
		submit("Cancel", "", v.Cancel()),
	}
	return render(adaptiveCard{Body: body, Actions: actions})
}
