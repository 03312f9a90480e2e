package bot_test

import (
	"context"
	"testing"
	"time"

	"attachbot/bot"
)

func TestDuePolls(t *testing.T) {
	c := newCore(t)
	ctx := context.Background()
	n, oldest, err := c.bot.DuePolls(ctx)
	if err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("DuePolls with no request = %d, %v, %v; want 0, zero, nil", n, oldest, err)
	}
	c.attach(t, false) // submitted: its first poll due FirstPoll later
	submitted := c.clock.Now()
	if n, _, err := c.bot.DuePolls(ctx); err != nil || n != 0 {
		t.Fatalf("DuePolls before the first poll = %d, %v; want 0", n, err)
	}
	c.clock.Advance(bot.DefaultFirstPoll + 20*time.Second)
	n, oldest, err = c.bot.DuePolls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := submitted.Add(bot.DefaultFirstPoll); n != 1 || !oldest.Equal(want) {
		t.Errorf("DuePolls = %d, due since %v; want 1, due since %v", n, oldest, want)
	}
}
