package handlers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"attachbot/bot"
)

// Command is one chat command: its name, how it is used, and what runs it. Help is generated
// from the list, so adding a command is adding an entry to Commands.routes.
type Command struct {
	Name    string
	Args    string // the argument synopsis, e.g. "<orgId> [key=value …]"
	Summary string
	Example string
	Run     func(ctx context.Context, t *bot.Turn, args Args) error
}

// Args are a command's arguments: positional words and key=value pairs. Values with spaces
// are written in double quotes: name="Small Shop ApS".
type Args struct {
	Words []string
	Pairs map[string]string
}

// Commands routes chat commands and card submissions to the bot. It implements
// bot.Dispatcher.
type Commands struct {
	bot    *bot.Bot
	routes []Command
}

var _ bot.Dispatcher = (*Commands)(nil)

// NewCommands returns the command router of b.
func NewCommands(b *bot.Bot) *Commands {
	c := &Commands{bot: b}
	c.routes = []Command{
		{Name: "help", Summary: "lists the commands", Example: "help",
			Run: func(ctx context.Context, t *bot.Turn, _ Args) error { t.Reply(c.Help()); return nil }},
		{Name: "check", Args: "<orgId> [users=yes|no verified-domain=yes|no claimed-domain=yes|no trial=yes|no inactive-licenses=yes|no]",
			Summary: "reports whether attaching an organization needs the customer admin's approval, and why; it changes nothing. Add admin=, template=, packages= and the address to run Webex's precheck too",
			Example: "check 6f1c0a52-4d0e-4c55-9a5e-2f1b8c1d9e01 verified-domain=no claimed-domain=no",
			Run:     c.check},
		{Name: "attach", Args: "[key=value …]",
			Summary: "attaches Webex for Wholesale to an existing organization. Without arguments, a card wizard walks you through it. Keys: " + strings.Join(bot.AttachKeys(), ", "),
			Example: `attach org=6f1c0a52-4d0e-4c55-9a5e-2f1b8c1d9e01 admin=it@smallshop.example template=Standard packages=webex_meetings name="Small Shop ApS" street="Nørregade 1" city=København zip=1165 country=DK verified-domain=no claimed-domain=no`,
			Run:     c.attach},
		{Name: "status", Args: "[<id>]", Summary: "shows one attach request in full, or this space's requests in short", Example: "status K7QM2X",
			Run: func(ctx context.Context, t *bot.Turn, a Args) error {
				return c.bot.Status(ctx, t, strings.Join(a.Words, " "))
			}},
		{Name: "list", Args: "[" + strings.Join(bot.ListFilters(), "|") + "]", Summary: "lists the partner's attach requests, newest first", Example: "list pending",
			Run: func(ctx context.Context, t *bot.Turn, a Args) error {
				return c.bot.List(ctx, t, strings.Join(a.Words, " "))
			}},
		{Name: "remind", Args: "<id>", Summary: "sends the approval card to the customer admin again", Example: "remind K7QM2X",
			Run: c.withID(c.bot.Remind)},
		{Name: "cancel", Args: "<id>", Summary: "withdraws a request that waits for approval", Example: "cancel K7QM2X",
			Run: c.withID(c.bot.Cancel)},
		{Name: "retry", Args: "<id>",
			Summary: "asks Webex to provision an attach that ended `error` or `provisioned_with_errors` again, with the same packages (the failed notice's Retry button does the same)",
			Example: "retry K7QM2X", Run: c.withID(c.bot.Retry)},
		{Name: "digest", Args: "on [<cron spec>] | off",
			Summary: "subscribes this space to a scheduled summary of what waits for approval, what is in progress and what ended (default weekdays 08:00 UTC), or stops it",
			Example: `digest on "0 7 * * 1"`, Run: c.digest},
	}
	return c
}

// Routes returns the commands, in the order help lists them.
func (c *Commands) Routes() []Command { return c.routes }

// Help lists every command with an example.
func (c *Commands) Help() string {
	var b strings.Builder
	b.WriteString("**attachbot** adds Webex for Wholesale to existing customer organizations. Mention me with one of these:\n")
	for _, cmd := range c.routes {
		usage := cmd.Name
		if cmd.Args != "" {
			usage += " " + cmd.Args
		}
		fmt.Fprintf(&b, "- `%s`: %s. Example: `%s`\n", usage, cmd.Summary, cmd.Example)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Command runs a partner admin's message.
func (c *Commands) Command(ctx context.Context, t *bot.Turn, text string) error {
	// The command ends at the first space or line break (Shift+Enter in a Webex client).
	text = strings.TrimSpace(text)
	name, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		name, rest = text[:i], text[i:]
	}
	name = strings.ToLower(strings.TrimSpace(name))
	for _, cmd := range c.routes {
		if cmd.Name != name {
			continue
		}
		args, problems := ParseArgs(rest)
		if len(problems) > 0 {
			t.Reply(bot.Explain(&bot.InputError{Problems: problems}))
			return nil
		}
		return cmd.Run(ctx, t, args)
	}
	if name == "" {
		t.Reply("Hello! " + c.Help())
		return nil
	}
	t.Replyf("I don't know %s. %s", bot.Code(truncate(name, 40)), c.Help())
	return nil
}

// Submit runs a card submission by its action.
func (c *Commands) Submit(ctx context.Context, t *bot.Turn, a bot.AttachmentAction) error {
	switch a.Input(bot.FieldAction) {
	case bot.ActionWizard:
		step, err := strconv.Atoi(a.Input(bot.FieldStep))
		if err != nil {
			t.Reply("This wizard card is damaged or out of date. Type `attach` to start again.")
			return nil
		}
		return c.bot.WizardSubmit(ctx, t, step, a.Input(bot.FieldState), a)
	case bot.ActionCreate:
		return c.bot.WizardCreate(ctx, t, a.Input(bot.FieldState))
	case bot.ActionCancel:
		return c.bot.WizardCancel(ctx, t)
	case bot.ActionApprove:
		return c.bot.Decide(ctx, t, a.Input(bot.FieldRequestID), true, a.Input(bot.InputComment))
	case bot.ActionDecline:
		return c.bot.Decide(ctx, t, a.Input(bot.FieldRequestID), false, a.Input(bot.InputComment))
	case bot.ActionAskFullAdmin:
		return c.bot.AskFullAdmin(ctx, t, a.Input(bot.FieldRequestID))
	case bot.ActionRetry:
		return c.bot.Retry(ctx, t, a.Input(bot.FieldRequestID))
	default:
		t.Reply("I don't recognise this card any more. Type `help` to see what I can do.")
		return nil
	}
}

func (c *Commands) check(ctx context.Context, t *bot.Turn, a Args) error {
	if len(a.Words) != 1 {
		t.Reply("Please give one organization id: `check <orgId> [key=value …]`, for example `check 6f1c0a52-4d0e-4c55-9a5e-2f1b8c1d9e01 verified-domain=no`.")
		return nil
	}
	return c.bot.Check(ctx, t, a.Words[0], a.Pairs)
}

func (c *Commands) attach(ctx context.Context, t *bot.Turn, a Args) error {
	if len(a.Words) == 0 && len(a.Pairs) == 0 {
		return c.bot.StartWizard(ctx, t)
	}
	if len(a.Words) > 0 {
		t.Replyf("`attach` takes key=value pairs, and %s is not one. Values with spaces go in double quotes: name=\"Small Shop ApS\". Type `help` for the keys.", bot.Code(truncate(a.Words[0], 40)))
		return nil
	}
	spec, problems := c.bot.SpecFromArgs(a.Pairs, t.Actor.Email())
	if len(problems) > 0 {
		t.Reply(bot.Explain(&bot.InputError{Problems: problems}))
		return nil
	}
	return c.bot.Attach(ctx, t, spec)
}

func (c *Commands) digest(ctx context.Context, t *bot.Turn, a Args) error {
	if len(a.Words) == 0 || len(a.Pairs) > 0 {
		t.Reply("Use `digest on`, `digest on \"<cron spec>\"` (UTC, such as \"0 8 * * 1-5\") or `digest off`.")
		return nil
	}
	switch strings.ToLower(a.Words[0]) {
	case "on":
		return c.bot.DigestOn(ctx, t, strings.Join(a.Words[1:], " "))
	case "off":
		return c.bot.DigestOff(ctx, t)
	}
	t.Reply("Use `digest on`, `digest on \"<cron spec>\"` (UTC, such as \"0 8 * * 1-5\") or `digest off`.")
	return nil
}

// withID adapts a bot method that takes a request id.
func (c *Commands) withID(run func(ctx context.Context, t *bot.Turn, id string) error) func(context.Context, *bot.Turn, Args) error {
	return func(ctx context.Context, t *bot.Turn, a Args) error {
		if len(a.Words) != 1 || len(a.Pairs) > 0 {
			t.Reply("Please give one request id, such as `K7QM2X`. `status` lists this space's requests.")
			return nil
		}
		return run(ctx, t, a.Words[0])
	}
}

// ParseArgs splits a command line into words and key=value pairs at any Unicode white space
// (a pasted no-break space too), honouring double quotes, whose inner spaces are kept. It
// reports an unterminated quote and a key given twice.
func ParseArgs(s string) (Args, []string) {
	args := Args{Pairs: map[string]string{}}
	var problems []string
	var tok strings.Builder
	inQuote, started := false, false
	flush := func() {
		if !started {
			return
		}
		word := tok.String()
		tok.Reset()
		started = false
		key, value, ok := strings.Cut(word, "=")
		if !ok || key == "" {
			args.Words = append(args.Words, word)
			return
		}
		key = strings.ToLower(key)
		if _, dup := args.Pairs[key]; dup {
			problems = append(problems, fmt.Sprintf("%s is given twice", key))
		}
		args.Pairs[key] = value
	}
	for _, r := range s {
		switch {
		case r == '"' || (inQuote && (r == '”' || r == '“')) || (!inQuote && r == '“'):
			inQuote = !inQuote
			started = true
		case !inQuote && unicode.IsSpace(r):
			// Any white space separates, as pasted text brings no-break and thin spaces.
			flush()
		default:
			tok.WriteRune(r)
			started = true
		}
	}
	if inQuote {
		problems = append(problems, "a double quote is not closed")
	}
	flush()
	return args, problems
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
