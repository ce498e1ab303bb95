-- +goose Up
-- Testing events have no championship round: they are stored with round
-- -1, -2, ... (FastF1's test number, negated) so keys stay (year, round).
ALTER TABLE events DROP CONSTRAINT events_round_check;
ALTER TABLE events ADD CONSTRAINT events_round_check CHECK (round <> 0);
ALTER TABLE events ADD COLUMN event_date_utc timestamptz;   -- start of the last session
ALTER TABLE events ADD COLUMN gmt_offset interval NOT NULL DEFAULT '0';

-- Circuit layouts and session drivers are their kinds': pkg/kinds/circuit
-- and pkg/kinds/drivers.

-- +goose Down
ALTER TABLE events DROP COLUMN gmt_offset;
ALTER TABLE events DROP COLUMN event_date_utc;
ALTER TABLE events DROP CONSTRAINT events_round_check;
ALTER TABLE events ADD CONSTRAINT events_round_check CHECK (round > 0);
