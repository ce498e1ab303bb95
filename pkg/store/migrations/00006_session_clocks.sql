-- +goose Up
-- The session clock as the telemetry feeds give it: each feed's latest
-- sample date minus its line's stream offset (FastF1's t0_date is the
-- greatest over both feeds, to the millisecond). Written by the
-- telemetry kinds; read by every export that dates session times.
CREATE TABLE session_clocks (
    year    integer     NOT NULL,
    round   integer     NOT NULL,
    session text        NOT NULL,
    feed    text        NOT NULL,
    t0      timestamptz NOT NULL,
    PRIMARY KEY (year, round, session, feed),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);
COMMENT ON TABLE session_clocks IS 'The UTC instant of stream offset zero as each telemetry feed gives it (FastF1''s t0_date is the greatest)';
COMMENT ON COLUMN session_clocks.year IS 'Season';
COMMENT ON COLUMN session_clocks.round IS 'Round';
COMMENT ON COLUMN session_clocks.session IS 'Session name';
COMMENT ON COLUMN session_clocks.feed IS 'CarData.z.jsonStream or Position.z.jsonStream';
COMMENT ON COLUMN session_clocks.t0 IS 'Greatest sample date minus its line''s stream offset, rounded to the millisecond';

CREATE VIEW session_t0 AS
    SELECT year, round, session, max(t0) AS t0_date FROM session_clocks GROUP BY year, round, session;
COMMENT ON VIEW session_t0 IS 'FastF1''s t0_date of each session with telemetry: UTC = t0_date + session time';

-- +goose Down
DROP VIEW session_t0;
DROP TABLE session_clocks;
