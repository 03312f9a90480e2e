-- The claims of the due polls read only the requests being polled. requests_next_poll indexed
-- every request, and those that ended (next_poll null) came first in it: each claim walked the
-- whole history before it reached a due poll. requests_polls_due indexes the requests in a
-- polled state (bot.PolledStates; ClaimPolls names the same states, and a test checks them
-- against the bot's) in the order ClaimPolls hands them out, a null next_poll (never
-- scheduled: due at once) as -infinity, so that a claim reads the due ones and stops. It may
-- run again over its own result (IF [NOT] EXISTS), as a test of migration 3 makes it.

-- +goose Up
CREATE INDEX IF NOT EXISTS requests_polls_due ON requests ((COALESCE(next_poll, '-infinity'::timestamptz)), created DESC, id DESC)
    WHERE state IN ('provisioning', 'updating', 'pending_rpl_review');
DROP INDEX IF EXISTS requests_next_poll;

-- +goose Down
CREATE INDEX requests_next_poll ON requests (next_poll NULLS FIRST);
DROP INDEX requests_polls_due;
