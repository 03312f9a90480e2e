package bot

import (
	"context"
	"time"
)

// Metrics receives what the bot tells operators about; package metrics implements it with
// Prometheus. Its methods are called on the bot's hot paths and must not block.
type Metrics interface {
	// Provisioning counts a provisioning outcome once it is recorded: one of the
	// ProvisioningOutcome values.
	Provisioning(outcome ProvisioningOutcome)
	// MessageSent observes one send (a message posted, or one of the bot's messages deleted)
	// as the outbox makes it: how long the call to Webex took, its retries and rate-limit
	// waits included, and whether it succeeded.
	MessageSent(took time.Duration, ok bool)
}

// ProvisioningOutcome is what became of a provisioning request to Webex.
type ProvisioningOutcome string

// The outcomes Metrics.Provisioning counts: the submission's (accepted, refused, or its
// answer lost) and the final statuses a poll finds.
const (
	ProvisioningSubmitted             ProvisioningOutcome = "submitted"
	ProvisioningRejected              ProvisioningOutcome = "rejected"
	ProvisioningOutcomeUnknown        ProvisioningOutcome = "outcome_unknown"
	ProvisioningProvisioned           ProvisioningOutcome = ProvisioningOutcome(StateProvisioned)
	ProvisioningProvisionedWithErrors ProvisioningOutcome = ProvisioningOutcome(StateProvisionedWithErrors)
	ProvisioningError                 ProvisioningOutcome = ProvisioningOutcome(StateError)
	ProvisioningDeleting              ProvisioningOutcome = ProvisioningOutcome(StateDeleting)
)

// noMetrics is the Metrics of a bot built without any.
type noMetrics struct{}

func (noMetrics) Provisioning(ProvisioningOutcome) {}
func (noMetrics) MessageSent(time.Duration, bool)  {}

// timedMessenger is a Messenger whose sends are timed for Metrics.MessageSent.
type timedMessenger struct {
	Messenger
	metrics Metrics
	clock   Clock
}

// Send implements Messenger.
func (m timedMessenger) Send(ctx context.Context, msg OutMessage) (Message, error) {
	start := m.clock.Now()
	sent, err := m.Messenger.Send(ctx, msg)
	m.metrics.MessageSent(m.clock.Now().Sub(start), err == nil)
	return sent, err
}

// DeleteMessage implements Messenger. A message that was gone already counts as deleted, as
// the outbox takes it.
func (m timedMessenger) DeleteMessage(ctx context.Context, messageID string) error {
	start := m.clock.Now()
	err := m.Messenger.DeleteMessage(ctx, messageID)
	m.metrics.MessageSent(m.clock.Now().Sub(start), err == nil || apiStatus(err) == 404)
	return err
}
