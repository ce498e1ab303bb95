-- +goose Up
CREATE TABLE session_status (
    year         integer  NOT NULL,
    round        integer  NOT NULL,
    session      text     NOT NULL,
    seq          integer  NOT NULL,
    session_time interval NOT NULL,
    status       text     NOT NULL,
    PRIMARY KEY (year, round, session, seq),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);

COMMENT ON TABLE session_status IS 'Status changes of a session in feed order, FastF1''s session_status';
COMMENT ON COLUMN session_status.year IS 'Season';
COMMENT ON COLUMN session_status.round IS 'Championship round; -1, -2, ... for testing events';
COMMENT ON COLUMN session_status.session IS 'Session name as FastF1 spells it';
COMMENT ON COLUMN session_status.seq IS 'Change index in the feed, from 0';
COMMENT ON COLUMN session_status.session_time IS 'Offset from the start of the session''s recording (FastF1 Time)';
COMMENT ON COLUMN session_status.status IS 'Inactive, Started, Aborted, Finished, Finalised or Ends';

-- +goose Down
DROP TABLE session_status;
