package bot

import "context"

// Lock is Bot.lock, for the tests of package bot_test.
func (b *Bot) Lock(ctx context.Context, key string) (context.Context, func(), error) {
	return b.lock(ctx, key)
}

// RenewLeases is Bot.renewLeases, for the tests of package bot_test.
func (b *Bot) RenewLeases(ctx context.Context) { b.renewLeases(ctx) }

// HoldLane records a claim on an outbox lane as the sender does, and returns the context of
// the work on it and the function that forgets the claim, for the tests of package bot_test.
func (b *Bot) HoldLane(ctx context.Context, lane string) (context.Context, func()) {
	return b.keeper.hold(ctx, claimLane, lane)
}

// Handle is Bot.handle for an event the test claimed for the bot, for the tests of package
// bot_test: it reports whether the event left this bot's inbox.
func (b *Bot) Handle(ctx context.Context, ev Event) bool { return b.handle(ctx, ev).left }

// PollClaimMax is pollClaimMax: how many due polls one run claims at most.
const PollClaimMax = pollClaimMax
