-- +goose Up
CREATE TABLE race_control_messages (
    year          integer NOT NULL,
    round         integer NOT NULL,
    session       text    NOT NULL,
    seq           integer NOT NULL,
    utc           timestamptz,
    category      text,
    message       text,
    status        text,
    flag          text,
    scope         text,
    sector        integer,
    racing_number text,
    lap           integer,
    PRIMARY KEY (year, round, session, seq),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);
CREATE INDEX race_control_messages_utc ON race_control_messages (utc);
CREATE INDEX race_control_messages_category ON race_control_messages (year, category, flag);

COMMENT ON TABLE race_control_messages IS 'Race control''s messages of a session in feed order, FastF1''s race_control_messages';
COMMENT ON COLUMN race_control_messages.year IS 'Season';
COMMENT ON COLUMN race_control_messages.round IS 'Championship round; -1, -2, ... for testing events';
COMMENT ON COLUMN race_control_messages.session IS 'Session name as FastF1 spells it';
COMMENT ON COLUMN race_control_messages.seq IS 'Message index in the feed, from 0';
COMMENT ON COLUMN race_control_messages.utc IS 'UTC time of the message (FastF1 Time); NULL when the feed gave none';
COMMENT ON COLUMN race_control_messages.category IS 'Flag, Other, Drs, CarEvent, SafetyCar, ...';
COMMENT ON COLUMN race_control_messages.message IS 'The message as shown to the teams';
COMMENT ON COLUMN race_control_messages.status IS 'State the message reports, e.g. DISABLED (DRS), DEPLOYED (safety car)';
COMMENT ON COLUMN race_control_messages.flag IS 'Flag shown: GREEN, YELLOW, DOUBLE YELLOW, CLEAR, RED, CHEQUERED, BLUE, ...';
COMMENT ON COLUMN race_control_messages.scope IS 'What the flag applies to: Track, Sector or Driver';
COMMENT ON COLUMN race_control_messages.sector IS 'Marshal sector of a sector-scoped message';
COMMENT ON COLUMN race_control_messages.racing_number IS 'Car number of a driver-scoped message';
COMMENT ON COLUMN race_control_messages.lap IS 'Lap of the leader when the message was sent (race-like sessions)';

-- +goose Down
DROP TABLE race_control_messages;
