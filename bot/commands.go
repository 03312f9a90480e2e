package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Audience is who may use a command or a card action. Dispatch checks it once, before the
// entry runs. The zero value is the partner's admins, so an entry that declares nothing is
// closed to everyone else.
type Audience int

const (
	// ForPartnerAdmins: only the people in Config.PartnerAdmins.
	ForPartnerAdmins Audience = iota
	// ForAddressedCustomerAdmin: the customer admin a request's card was addressed to. Only
	// the request knows who that is, so the entry's own run checks the clicker against it
	// (Decide) and tells the clicker and the partner when it refuses.
	ForAddressedCustomerAdmin
)

// route is one entry of the command table: a chat command (Command, with its help) or a
// card action (Action), who may use it, and what runs it.
type route struct {
	Command string // the chat command's name, lower case
	Action  string // the card action's "action" value
	Who     Audience
	// The help of a command: its argument synopsis, what it does, an example.
	Args, Summary, Example string
	// Refusal is what a card action tells someone Who does not admit (default refusalText).
	Refusal string
	Run     func(ctx context.Context, t *Turn, in input) error
}

// input is what a route runs on: a command's arguments, or a card's submission.
type input struct {
	Args Args
	Card AttachmentAction
}

// routes returns the command table. Help lists the commands in this order.
func (b *Bot) routes() []route {
	return []route{
		{Command: "help", Summary: "lists the commands", Example: "help",
			Run: func(_ context.Context, t *Turn, _ input) error { t.Reply(b.Help()); return nil }},
		{Command: "check", Args: "<orgId> [users=yes|no verified-domain=yes|no claimed-domain=yes|no trial=yes|no inactive-licenses=yes|no] | with a CSV file attached",
			Summary: "reports whether attaching an organization needs the customer admin's approval, and why; it changes nothing. Add admin=, template=, packages= and the address to run Webex's precheck too. With a CSV file attached (a header row of attach keys, one organization a row, at most 5,000 rows and 5 MiB), checks every row and answers with a summary and a file",
			Example: "check 6f1c0a52-4d0e-4c55-9a5e-2f1b8c1d9e01 verified-domain=no claimed-domain=no",
			Run:     b.checkCommand},
		{Command: "attach", Args: "[key=value …] | with a CSV file attached", Who: attachAudience,
			Summary: "attaches Webex for Wholesale to an existing organization. Without arguments, a card wizard walks you through it. Keys: " + strings.Join(AttachKeys(), ", ") + ". With a CSV file attached (the columns of `check`'s file), checks every row, then offers a card to Start attaching them all as one batch",
			Example: `attach org=6f1c0a52-4d0e-4c55-9a5e-2f1b8c1d9e01 admin=it@smallshop.example template=Standard packages=webex_meetings name="Small Shop ApS" street="Nørregade 1" city=København zip=1165 country=DK verified-domain=no claimed-domain=no`,
			Run:     b.attachCommand},
		{Command: "status", Args: "[<id>]", Summary: "shows one attach request in full, or this space's requests in short", Example: "status K7QM2X",
			Run: func(ctx context.Context, t *Turn, in input) error {
				return b.Status(ctx, t, strings.Join(in.Args.Words, " "))
			}},
		{Command: "list", Args: "[" + strings.Join(ListFilters(), "|") + "]", Summary: "lists the partner's attach requests, newest first", Example: "list pending",
			Run: func(ctx context.Context, t *Turn, in input) error {
				return b.List(ctx, t, strings.Join(in.Args.Words, " "))
			}},
		{Command: "export", Args: "[" + strings.Join(ListFilters(), "|") + "]", Summary: "answers with a CSV file of the partner's attach requests, newest first", Example: "export failed",
			Run: func(ctx context.Context, t *Turn, in input) error {
				return b.Export(ctx, t, strings.Join(in.Args.Words, " "))
			}},
		{Command: "remind", Args: "<id>", Summary: "sends the approval card to the customer admin again", Example: "remind K7QM2X",
			Run: withID(b.Remind)},
		{Command: "batch", Args: "[<batch id>]", Summary: "shows how a batch (an attach from a CSV file) goes, or this space's batches", Example: "batch B-K7QM2X",
			Run: func(ctx context.Context, t *Turn, in input) error {
				return b.ShowBatch(ctx, t, strings.Join(in.Args.Words, " "))
			}},
		{Command: "cancel", Args: "<id> | <batch id>", Summary: "withdraws a request that waits for approval; with a batch id (B-…), stops submitting the batch's rows that are not submitted yet", Example: "cancel K7QM2X",
			Run: func(ctx context.Context, t *Turn, in input) error {
				if len(in.Args.Words) == 1 && len(in.Args.Pairs) == 0 && LooksLikeBatchID(in.Args.Words[0]) {
					return b.CancelBatch(ctx, t, in.Args.Words[0])
				}
				return withID(b.Cancel)(ctx, t, in)
			}},
		{Command: "retry", Args: "<id>",
			Summary: "asks Webex to provision an attach that ended `error` or `provisioned_with_errors` again, with the same packages (the failed notice's Retry button does the same)",
			Example: "retry K7QM2X", Run: withID(b.Retry)},
		{Command: "digest", Args: "on [<cron spec>] | off",
			Summary: "subscribes this space to a scheduled summary of what waits for approval, what is in progress and what ended (default weekdays 08:00 UTC), or stops it",
			Example: `digest on "0 7 * * 1"`, Run: b.digestCommand},

		{Action: ActionWizard, Run: func(ctx context.Context, t *Turn, in input) error {
			step, err := strconv.Atoi(in.Card.Input(FieldStep))
			if err != nil {
				t.Reply(damagedWizard)
				return nil
			}
			return b.WizardSubmit(ctx, t, step, in.Card.Input(FieldState), in.Card)
		}},
		{Action: ActionCreate, Run: func(ctx context.Context, t *Turn, in input) error {
			return b.WizardCreate(ctx, t, in.Card.Input(FieldState))
		}},
		{Action: ActionCancel, Run: func(_ context.Context, t *Turn, _ input) error {
			b.WizardCancel(t)
			return nil
		}},
		{Action: ActionBatchStart, Who: attachAudience, Refusal: batchRefusal, Run: func(ctx context.Context, t *Turn, in input) error {
			return b.StartBatch(ctx, t, in.Card.Input(FieldBatchID))
		}},
		{Action: ActionBatchCancel, Who: attachAudience, Refusal: batchRefusal, Run: func(ctx context.Context, t *Turn, in input) error {
			return b.DiscardBatch(ctx, t, in.Card.Input(FieldBatchID))
		}},
		{Action: ActionApprove, Who: ForAddressedCustomerAdmin, Run: func(ctx context.Context, t *Turn, in input) error {
			return b.Decide(ctx, t, in.Card.Input(FieldRequestID), true, in.Card.Input(InputComment))
		}},
		{Action: ActionDecline, Who: ForAddressedCustomerAdmin, Run: func(ctx context.Context, t *Turn, in input) error {
			return b.Decide(ctx, t, in.Card.Input(FieldRequestID), false, in.Card.Input(InputComment))
		}},
		{Action: ActionAskFullAdmin, Run: func(ctx context.Context, t *Turn, in input) error {
			return b.AskFullAdmin(ctx, t, in.Card.Input(FieldRequestID))
		}},
		{Action: ActionRetry, Run: func(ctx context.Context, t *Turn, in input) error {
			return b.Retry(ctx, t, in.Card.Input(FieldRequestID))
		}},
	}
}

// attachAudience is who may attach: the `attach` command, and the Start and Cancel of a
// batch, which attach a file's rows.
const attachAudience = ForPartnerAdmins

// batchRefusal answers a click on a batch card's Start or Cancel by someone who may not attach.
const batchRefusal = "Sorry, only the partner's Webex for Wholesale admins may start or discard a batch of attaches, so your click changed nothing: the batch was not started. " +
	"If you work for the partner and need to, ask whoever runs attachbot to allow your email address."

// quotedWordBytes bounds a word of the user's quoted back in an answer.
const quotedWordBytes = 43

// CardActions returns the card actions the bot handles, with who may use each.
func (b *Bot) CardActions() map[string]Audience {
	actions := map[string]Audience{}
	for _, r := range b.table {
		if r.Action != "" {
			actions[r.Action] = r.Who
		}
	}
	return actions
}

// damagedWizard answers a wizard card whose data the bot cannot read.
const damagedWizard = "This wizard card is damaged or out of date. Type `attach` to start again."

// Help lists every command with an example.
func (b *Bot) Help() string {
	var s strings.Builder
	s.WriteString("**attachbot** adds Webex for Wholesale to existing customer organizations. Mention me with one of these:\n")
	for _, r := range b.table {
		if r.Command == "" {
			continue
		}
		usage := r.Command
		if r.Args != "" {
			usage += " " + r.Args
		}
		fmt.Fprintf(&s, "- `%s`: %s. Example: `%s`\n", usage, r.Summary, r.Example)
	}
	return strings.TrimRight(s.String(), "\n")
}

// allowed reports whether the turn's actor is of the audience. For ForAddressedCustomerAdmin
// it is always true here: the route's run checks the actor against the request.
func (b *Bot) allowed(who Audience, t *Turn) bool {
	switch who {
	case ForAddressedCustomerAdmin:
		return true
	default:
		return b.cfg.PartnerAdmins.Allows(t.Actor.Email())
	}
}

// command runs a message, mention stripped: its route, once the actor may use it.
func (b *Bot) command(ctx context.Context, t *Turn, text string) error {
	// The command ends at the first space or line break (Shift+Enter in a Webex client).
	text = strings.TrimSpace(text)
	name, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		name, rest = text[:i], text[i:]
	}
	name = strings.ToLower(strings.TrimSpace(name))
	var found *route
	for i := range b.table {
		if r := &b.table[i]; r.Command != "" && r.Command == name {
			found = r
			break
		}
	}
	// An unknown command is answered with help, which is for the partner's admins too.
	who := ForPartnerAdmins
	if found != nil {
		who = found.Who
	}
	if !b.allowed(who, t) {
		b.log.Warn("command refused: not a partner admin", "person_email", t.Actor.Email(), "room_id", t.RoomID)
		t.Reply(refusalText)
		return nil
	}
	switch {
	case found != nil:
		args, problems := ParseArgs(rest)
		if len(problems) > 0 {
			t.Reply(Explain(&InputError{Problems: problems}))
			return nil
		}
		return found.Run(ctx, t, input{Args: args})
	case name == "":
		t.Reply("Hello! " + b.Help())
	default:
		t.Replyf("I don't know %s. %s", Code(trimMarkdown(name, quotedWordBytes)), b.Help())
	}
	return nil
}

// card runs a card submission: the route of its action, once the clicker may use it.
func (b *Bot) card(ctx context.Context, t *Turn, a AttachmentAction) error {
	action := a.Input(FieldAction)
	for _, r := range b.table {
		if r.Action == "" || r.Action != action {
			continue
		}
		if !b.allowed(r.Who, t) {
			b.log.Warn("card action refused: not a partner admin", "action", action, "person_email", t.Actor.Email(), "room_id", t.RoomID)
			// Told directly: a card's clicker may not be in the partner's space at all.
			if r.Refusal != "" {
				t.Tell(r.Refusal)
			} else {
				t.Tell(refusalText)
			}
			return nil
		}
		return r.Run(ctx, t, input{Card: a})
	}
	t.Reply("I don't recognise this card any more. Type `help` to see what I can do.")
	return nil
}

func (b *Bot) checkCommand(ctx context.Context, t *Turn, in input) error {
	if len(t.Files) > 0 {
		if len(in.Args.Words) > 0 || len(in.Args.Pairs) > 0 {
			t.Reply("With a file, `check` takes no arguments: the file's columns say everything. Type `check` alone with the CSV file attached.")
			return nil
		}
		return b.CheckFile(ctx, t)
	}
	if len(in.Args.Words) != 1 {
		t.Reply("Please give one organization id: `check <orgId> [key=value …]`, for example `check 6f1c0a52-4d0e-4c55-9a5e-2f1b8c1d9e01 verified-domain=no`.")
		return nil
	}
	return b.Check(ctx, t, in.Args.Words[0], in.Args.Pairs)
}

func (b *Bot) attachCommand(ctx context.Context, t *Turn, in input) error {
	a := in.Args
	if len(t.Files) > 0 {
		if len(a.Words) > 0 || len(a.Pairs) > 0 {
			t.Reply("With a file, `attach` takes no arguments: the file's columns say everything. Type `attach` alone with the CSV file attached.")
			return nil
		}
		return b.AttachFile(ctx, t)
	}
	if len(a.Words) == 0 && len(a.Pairs) == 0 {
		return b.StartWizard(ctx, t)
	}
	if len(a.Words) > 0 {
		t.Replyf("`attach` takes key=value pairs, and %s is not one. Values with spaces go in double quotes: name=\"Small Shop ApS\". Type `help` for the keys.", Code(trimMarkdown(a.Words[0], quotedWordBytes)))
		return nil
	}
	spec, problems := b.SpecFromArgs(a.Pairs, t.Actor.Email())
	if len(problems) > 0 {
		t.Reply(Explain(&InputError{Problems: problems}))
		return nil
	}
	return b.Attach(ctx, t, spec)
}

const digestUsage = "Use `digest on`, `digest on \"<cron spec>\"` (UTC, such as \"0 8 * * 1-5\") or `digest off`."

func (b *Bot) digestCommand(ctx context.Context, t *Turn, in input) error {
	a := in.Args
	if len(a.Words) == 0 || len(a.Pairs) > 0 {
		t.Reply(digestUsage)
		return nil
	}
	switch strings.ToLower(a.Words[0]) {
	case "on":
		return b.DigestOn(ctx, t, strings.Join(a.Words[1:], " "))
	case "off":
		return b.DigestOff(ctx, t)
	}
	t.Reply(digestUsage)
	return nil
}

// withID adapts a bot method that takes a request id.
func withID(run func(ctx context.Context, t *Turn, id string) error) func(context.Context, *Turn, input) error {
	return func(ctx context.Context, t *Turn, in input) error {
		if len(in.Args.Words) != 1 || len(in.Args.Pairs) > 0 {
			t.Reply("Please give one request id, such as `K7QM2X`. `status` lists this space's requests.")
			return nil
		}
		return run(ctx, t, in.Args.Words[0])
	}
}
