package app_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"attachbot/app/apptest"
	"attachbot/bot"
	"attachbot/bot/bottest"
	"attachbot/webex/webextest"
)

// The attack on what people type and what Webex says (untrusted text stays text): a
// customer admin's comment, an organization's name and a Webex error description each carry
// a mention of everyone and of a real person, a markdown link, a bare URL, emphasis and an
// HTML tag. Whatever the bot shows of them must be text: no mention, link, emphasis or tag.

// untrustedAttack is bottest.Attack with a mention of a person the simulated Webex knows, so
// that a live mention would notify her.
const untrustedAttack = bottest.Attack + " <@personEmail:" + webextest.AnnEmail + ">"

// liveAttack lists the parts of untrustedAttack that markdown shows live: unescaped and
// unbroken. The bot's own formatting around them (its bold request ids, say) is not looked at.
var liveAttack = []struct {
	name string
	re   *regexp.Regexp
}{
	{"mention", regexp.MustCompile(`<@(all|personEmail|personId)`)},
	{"markdown link", regexp.MustCompile(`(^|[^\\])\[click(\\)?\]\(`)},
	{"URL", regexp.MustCompile(`https?://|(^|[^\x{2060}])www\.evil`)},
	{"strong emphasis", regexp.MustCompile(`(^|[^\\])\*\*bold`)},
	{"emphasis", regexp.MustCompile(`(^|[^\\])_it`)},
	{"strikethrough", regexp.MustCompile(`(^|[^\\])~~gone`)},
	{"HTML tag", regexp.MustCompile(`(^|[^\\])</?b>`)},
}

// checkNoLiveAttack fails the test for each message that shows part of the attack live, or
// that mentions anyone; it returns how many of them show the attack at all (as text).
func checkNoLiveAttack(t *testing.T, what string, msgs []webextest.Message) int {
	t.Helper()
	shown := 0
	for _, m := range msgs {
		for _, l := range liveAttack {
			if l.re.MatchString(m.Markdown) {
				t.Errorf("%s shows a live %s:\n%s", what, l.name, m.Markdown)
			}
		}
		if len(m.MentionedPeople) > 0 || strings.Contains(m.HTML, "spark-mention") {
			t.Errorf("%s mentions %v:\n%s", what, m.MentionedPeople, m.Markdown)
		}
		if bottest.Contains(m.Markdown, `\*\*bold\*\*`, `\<b>x\</b>`) {
			shown++
		}
	}
	return shown
}

func TestUntrustedTextStaysText(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	// An organization whose name is the attack, with a 100 users, so that its admin is asked.
	org, err := h.Sim.AddOrg(webextest.Org{
		Name: untrustedAttack, AdminEmail: "admin@attack.example", Users: 120, Readable: true, Managed: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	// No name=: the bot names the customer by the organization's name, as Webex gives it.
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, fmt.Sprintf(
		`attach org=%s admin=admin@attack.example template=Standard packages=webex_meetings street="1 Main St" city=Oslo zip=0150 country=NO verified-domain=no claimed-domain=no trial=no`, org.ID))
	card := h.approvalCard(org.AdminID)

	// The admin declines with the attack as the comment, far longer than the card allows.
	long := untrustedAttack + " " + strings.Repeat("x", 2*bot.MaxCommentRunes)
	h.Press(org.AdminID, card, "Decline", map[string]any{bot.InputComment: long})

	thread := h.RepliesTo(cmd)
	if n := checkNoLiveAttack(t, "the partner thread", thread); n == 0 {
		t.Fatalf("the partner thread does not show the attack at all, so this test proves nothing:\n%s", apptest.Joined(thread))
	}
	apptest.MustContain(t, "the partner thread", strings.ReplaceAll(apptest.Joined(thread), "\u2060", ""),
		"**declined**", `Their comment: “\<@all>`, `\[click\](https://evil.example)`)

	// The server keeps at most MaxCommentRunes characters of the comment.
	id := apptest.RequestIDIn(t, thread[0])
	if got := len([]rune(h.statusRequest(id).Comment)); got > bot.MaxCommentRunes {
		t.Errorf("the stored comment has %d characters, want at most %d", got, bot.MaxCommentRunes)
	}

	// status, list and the customer admin's messages show the same text as text.
	status := h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "status "+id))
	if n := checkNoLiveAttack(t, "status "+id, status); n == 0 {
		t.Errorf("status %s does not show the comment or the name:\n%s", id, apptest.Joined(status))
	}
	checkNoLiveAttack(t, "list", h.RepliesTo(h.Say(webextest.AnnID, webextest.PartnerSpaceID, "list")))
	checkNoLiveAttack(t, "the customer admin's messages", h.DirectFromBot(org.AdminID))
}

func TestUntrustedWebexErrorStaysText(t *testing.T) {
	h := newStatusHarness(t, apptest.Options{ManualClock: true})
	org, err := h.Sim.AddOrg(webextest.Org{
		Name: "Failing Co", AdminEmail: "admin@failing.example", Users: 3, Readable: true, Managed: true,
		Outcome: webextest.Outcome{Status: webextest.StatusError, Errors: []webextest.ErrorDetail{{ErrorCode: 1, Description: untrustedAttack}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := h.statusAttach(org.ID, "admin@failing.example", "webex_meetings")
	h.Clock.Advance(statusFirstPoll)
	h.MustSweep()

	n := h.statusOneNotice(cmd, "failed.")
	if shown := checkNoLiveAttack(t, "the error notice", []webextest.Message{n}); shown == 0 {
		t.Errorf("the error notice does not show Webex's description:\n%s", n.Markdown)
	}
}

// typedAttack is what a person types into a command or a card: a mention of everyone and of
// a real person, emphasis and a markdown link.
var typedAttack = []struct {
	name string
	re   *regexp.Regexp
}{
	{"mention", regexp.MustCompile(`(?i)<@(all|personEmail|personId)`)},
	{"markdown link", regexp.MustCompile(`(^|[^\\])\[click(\\)?\]\(`)},
	{"URL", regexp.MustCompile(`https?://evil`)},
	{"strong emphasis", regexp.MustCompile(`(^|[^\\])\*\*b(\\)?\*`)},
}

// checkNoLiveTyped fails the test for each live part of typedAttack in text.
func checkNoLiveTyped(t *testing.T, what, text string) {
	t.Helper()
	for _, l := range typedAttack {
		if l.re.MatchString(text) {
			t.Errorf("%s shows a live %s:\n%s", what, l.name, text)
		}
	}
}

func TestTypedAttackStaysText(t *testing.T) {
	h := newHarness(t, apptest.Options{})

	// A command whose values and keys are the attack: the reply lists what is wrong with them
	// and quotes them, as text.
	cmd := h.Say(webextest.AnnID, webextest.PartnerSpaceID, `attach org=<@all> admin=x name="**b** [click](https://evil.example)" bogus<@personEmail:`+webextest.AnnEmail+`>=1`)
	replies := h.RepliesTo(cmd)
	if len(replies) != 1 {
		t.Fatalf("%d replies to the attack, want one:\n%s", len(replies), apptest.Joined(replies))
	}
	reply := replies[0]
	checkNoLiveTyped(t, "the reply to the attack", reply.Markdown)
	if len(reply.MentionedPeople) > 0 || strings.Contains(reply.HTML, "spark-mention") {
		t.Errorf("the reply mentions %v:\n%s", reply.MentionedPeople, reply.Markdown)
	}
	// The attack is shown, escaped: else this test would prove nothing.
	apptest.MustContain(t, "the reply to the attack", strings.ReplaceAll(reply.Markdown, "\u2060", ""),
		`org=\<@all> is not a Webex organization id`, `unknown key “bogus\<@personemail:`)

	// The wizard, with the attack as the company name: the step's outcome line and the cards
	// after it show it as text.
	name := "**b** [click](https://evil.example) <@all> <@personEmail:" + webextest.AnnEmail + ">"
	wizard := h.Say(webextest.AnnID, webextest.PartnerSpaceID, "attach")
	for _, step := range []map[string]any{
		{bot.InputAdminEmail: webextest.SmallAdminEmail, bot.InputOrgID: webextest.SmallOrgID},
		{bot.InputCustomerName: name, bot.InputTemplate: "Standard"},
		{bot.InputStreet: "Storgata 1", bot.InputCity: "Oslo", bot.InputZip: "0155", bot.InputCountry: "NO", bot.InputLocationConfirmed: "true"},
		{bot.InputPackages: "webex_meetings", bot.InputVerifiedDomain: "no", bot.InputClaimedDomain: "no", bot.InputTrial: "no"},
	} {
		h.Press(webextest.AnnID, h.lastCard(wizard), "Next", step)
	}
	shown := 0
	for _, m := range h.RepliesTo(wizard) {
		checkNoLiveTyped(t, "the wizard's message", m.Markdown)
		if len(m.MentionedPeople) > 0 || strings.Contains(m.HTML, "spark-mention") {
			t.Errorf("the wizard's message mentions %v:\n%s", m.MentionedPeople, m.Markdown)
		}
		if strings.Contains(m.Markdown, `\*\*b\*\*`) {
			shown++
		}
		for _, a := range m.Attachments {
			apptest.DecodeCard(t, a.Content).Walk(func(e apptest.CardElement) {
				texts := []string{e.Text, e.Title, fmt.Sprint(e.Value)}
				for _, f := range e.Facts {
					texts = append(texts, f.Title, fmt.Sprint(f.Value))
				}
				for _, text := range texts {
					checkNoLiveTyped(t, "the wizard's card", text)
					if strings.Contains(text, `\*\*b\*\*`) {
						shown++
					}
				}
			})
		}
	}
	if shown < 2 {
		t.Errorf("the company name is shown %d times (the step's outcome and the review card, at least), want 2:\n%s", shown, apptest.Joined(h.RepliesTo(wizard)))
	}
}
