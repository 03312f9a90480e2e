-- The inbox's lanes: an event is handed out only as the head of its lane (bot.Event.Lane, the
-- events of one space), so that replicas process the events of one space one at a time, in
-- seq order. The lane is stored with each waiting event; the events waiting when this runs
-- get theirs from migration 3, which computes it in Go (bot.EventLane is its one definition).

-- +goose Up
ALTER TABLE events ADD COLUMN lane text COLLATE "C"; -- bot.Event.Lane(), while it waits
CREATE INDEX events_lane_waiting ON events (lane, seq) WHERE processed_at IS NULL;
-- the claimed events of each lane: few, whatever the backlog
CREATE INDEX events_lane_claimed ON events (lane) WHERE processed_at IS NULL AND lease_owner IS NOT NULL;

-- +goose Down
DROP INDEX events_lane_claimed, events_lane_waiting;
ALTER TABLE events DROP COLUMN lane;
