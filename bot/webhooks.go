package bot

import (
	"context"
	"fmt"
)

// The bot's own webhooks, found by name. Webhooks with other names are never touched.
var botWebhooks = []Webhook{
	{Name: "attachbot messages", Resource: "messages", Event: "created"},
	{Name: "attachbot card submissions", Resource: "attachmentActions", Event: "created"},
}

// EnsureWebhooks makes sure the bot's two webhooks exist and are active, pointing at
// targetURL and signed with secret: it creates a missing one and updates (and re-activates) one
// that differs, so a restart never duplicates them. It reports what it changed. Only the
// leader does it (see Jobs): on another replica it does nothing.
func (b *Bot) EnsureWebhooks(ctx context.Context, targetURL, secret string) ([]string, error) {
	ctx, end, leads, err := b.leading(ctx)
	if err != nil {
		return nil, fmt.Errorf("find the leader: %w", err)
	}
	defer end()
	if !leads {
		b.log.Info("the webhooks are the leader's to keep", "target_url", targetURL)
		return nil, nil
	}
	hooks, err := b.webex.Webhooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	var changed []string
	for _, want := range botWebhooks {
		want.TargetURL, want.Secret, want.Status = targetURL, secret, "active"
		var found *Webhook
		for i := range hooks {
			if hooks[i].Name == want.Name {
				found = &hooks[i]
				break
			}
		}
		switch {
		case found == nil:
			if _, err := b.webex.CreateWebhook(ctx, want); err != nil {
				return changed, fmt.Errorf("create webhook %q: %w", want.Name, err)
			}
			changed = append(changed, fmt.Sprintf("created webhook %q", want.Name))
		case found.Resource != want.Resource || found.Event != want.Event:
			return changed, fmt.Errorf("webhook %q exists for %s/%s, not %s/%s: delete it and restart", want.Name, found.Resource, found.Event, want.Resource, want.Event)
		case found.TargetURL != want.TargetURL || found.Status != "active" || found.Secret != secret:
			want.ID = found.ID
			if _, err := b.webex.UpdateWebhook(ctx, want); err != nil {
				return changed, fmt.Errorf("update webhook %q: %w", want.Name, err)
			}
			what := "updated"
			if found.Status != "active" {
				what = "re-activated"
			}
			changed = append(changed, fmt.Sprintf("%s webhook %q", what, want.Name))
		}
	}
	for _, c := range changed {
		b.log.Info(c, "target_url", targetURL)
	}
	return changed, nil
}
