-- +goose Up
CREATE TABLE track_status (
    year         integer  NOT NULL,
    round        integer  NOT NULL,
    session      text     NOT NULL,
    seq          integer  NOT NULL,
    session_time interval NOT NULL,
    status       text     NOT NULL,
    message      text     NOT NULL,
    PRIMARY KEY (year, round, session, seq),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);
CREATE INDEX track_status_status ON track_status (year, status);

COMMENT ON TABLE track_status IS 'Track status changes of a session in feed order, FastF1''s track_status';
COMMENT ON COLUMN track_status.year IS 'Season';
COMMENT ON COLUMN track_status.round IS 'Championship round; -1, -2, ... for testing events';
COMMENT ON COLUMN track_status.session IS 'Session name as FastF1 spells it';
COMMENT ON COLUMN track_status.seq IS 'Change index in the feed, from 0';
COMMENT ON COLUMN track_status.session_time IS 'Offset from the start of the session''s recording (FastF1 Time)';
COMMENT ON COLUMN track_status.status IS 'Status code: 1 AllClear, 2 Yellow, 4 SCDeployed, 5 Red, 6 VSCDeployed, 7 VSCEnding; empty when not sent';
COMMENT ON COLUMN track_status.message IS 'The status in words, e.g. AllClear; empty when not sent';

-- +goose Down
DROP TABLE track_status;
