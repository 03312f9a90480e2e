package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"attachbot/bot"
)

// TestCardActionsRefuseStrangers clicks every card action of the command table that is for
// the partner's admins as someone who is not one: each is refused, told directly, before it
// runs. A new action is covered by being in the table.
func TestCardActionsRefuseStrangers(t *testing.T) {
	c := newCore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang guard, not an assertion
	defer cancel()
	if err := c.bot.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.bot.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	stranger := bot.Person{ID: "person-eve", Emails: []string{"eve@elsewhere.example"}, OrgID: c.orgID}
	c.msgr.AddPerson(stranger)
	c.msgr.AddMessage(bot.Message{ID: "card-1", RoomID: partnerRoom, RoomType: "group", PersonID: "bot-1"})
	checked := 0
	for action, who := range c.bot.CardActions() {
		if who != bot.ForPartnerAdmins {
			continue
		}
		checked++
		t.Run(action, func(t *testing.T) {
			before := len(c.msgr.Sent())
			id := "action-" + action
			c.msgr.AddAction(bot.AttachmentAction{ID: id, Type: "submit", MessageID: "card-1", PersonID: stranger.ID, RoomID: partnerRoom,
				Inputs: map[string]any{bot.FieldAction: action, bot.FieldRequestID: "NNHPDB", bot.FieldStep: "1", bot.FieldState: ""}, Created: c.clock.Now()})
			if err := c.bot.Accept(ctx, bot.Event{Key: "attachmentActions/created/" + id, Resource: "attachmentActions", Event: "created",
				DataID: id, RoomID: partnerRoom, ActorID: stranger.ID, Created: c.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			if err := c.bot.Settle(ctx); err != nil {
				t.Fatal(err)
			}
			sent := c.msgr.Sent()[before:]
			if len(sent) != 1 || sent[0].ToPersonEmail != stranger.Email() || !strings.Contains(sent[0].Markdown, "only the partner's Webex for Wholesale admins") && !strings.Contains(sent[0].Markdown, "I only take commands from the partner's Webex for Wholesale admins") {
				t.Errorf("answer to the stranger = %+v, want one direct refusal", sent)
			}
		})
	}
	if checked == 0 {
		t.Fatal("the command table has no card action for the partner's admins")
	}
	if rs, err := c.db.Requests(ctx, bot.RequestFilter{}); err != nil || len(rs) != 0 {
		t.Errorf("requests after the strangers' clicks = %v, %v; want none", rs, err)
	}
}

// TestHelpListsEveryCommand checks that help is generated from the table.
func TestHelpListsEveryCommand(t *testing.T) {
	help := newCore(t).bot.Help()
	for _, name := range []string{"help", "check", "attach", "status", "list", "remind", "cancel", "retry", "digest"} {
		if !strings.Contains(help, "- `"+name) {
			t.Errorf("help does not list %s:\n%s", name, help)
		}
	}
}
