-- +goose Up
CREATE TABLE session_results (
    year                integer NOT NULL,
    round               integer NOT NULL,
    session             text    NOT NULL,
    seq                 integer NOT NULL,
    driver_number       text    NOT NULL,
    broadcast_name      text,
    abbreviation        text,
    driver_id           text,
    team_name           text,
    team_color          text,
    team_id             text,
    first_name          text,
    last_name           text,
    full_name           text,
    headshot_url        text,
    country_code        text,
    position            integer,
    classified_position text,
    grid_position       integer,
    q1                  interval,
    q2                  interval,
    q3                  interval,
    time                interval,
    status              text,
    points              double precision,
    laps                integer,
    missing_as          jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (year, round, session, seq),
    UNIQUE (year, round, session, driver_number),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);
CREATE INDEX session_results_driver ON session_results (driver_id, year);
CREATE INDEX session_results_team ON session_results (team_name, year);

COMMENT ON TABLE session_results IS 'FastF1''s session results: the DriverList merged with Jolpica''s results, qualifying or sprint document, in FastF1''s row order';
COMMENT ON COLUMN session_results.year IS 'Season';
COMMENT ON COLUMN session_results.round IS 'Championship round; -1, -2, ... for testing events';
COMMENT ON COLUMN session_results.session IS 'Session name as FastF1 spells it';
COMMENT ON COLUMN session_results.seq IS 'FastF1''s row order: by position, then as the sources list the drivers';
COMMENT ON COLUMN session_results.driver_number IS 'Racing number';
COMMENT ON COLUMN session_results.broadcast_name IS 'Name on the timing screen, e.g. L HAMILTON';
COMMENT ON COLUMN session_results.abbreviation IS 'Three-letter abbreviation, e.g. HAM';
COMMENT ON COLUMN session_results.driver_id IS 'Jolpica''s driverId, e.g. max_verstappen';
COMMENT ON COLUMN session_results.team_name IS 'Team name as the DriverList gives it';
COMMENT ON COLUMN session_results.team_color IS 'Team colour, hex RGB without #';
COMMENT ON COLUMN session_results.team_id IS 'Jolpica''s constructorId, e.g. red_bull';
COMMENT ON COLUMN session_results.first_name IS 'First name';
COMMENT ON COLUMN session_results.last_name IS 'Last name';
COMMENT ON COLUMN session_results.full_name IS 'First and last name';
COMMENT ON COLUMN session_results.headshot_url IS 'Headshot image URL';
COMMENT ON COLUMN session_results.country_code IS 'Three-letter country code (sent 2022-2024)';
COMMENT ON COLUMN session_results.position IS 'Final position; NULL for practice and quali-like sprint sessions, and without Jolpica';
COMMENT ON COLUMN session_results.classified_position IS 'Classification: 1, 2, ... or R retired, D disqualified, E excluded, W withdrawn, F failed to qualify, N not classified';
COMMENT ON COLUMN session_results.grid_position IS 'Starting position of a race-like session; 0 is a pit-lane start';
COMMENT ON COLUMN session_results.q1 IS 'Best lap in Q1';
COMMENT ON COLUMN session_results.q2 IS 'Best lap in Q2';
COMMENT ON COLUMN session_results.q3 IS 'Best lap in Q3';
COMMENT ON COLUMN session_results.time IS 'Race-like sessions: the winner''s total time, the others'' gap to the winner; NULL for lapped and retired drivers';
COMMENT ON COLUMN session_results.status IS 'Finishing status, e.g. Finished, +1 Lap, Collision';
COMMENT ON COLUMN session_results.points IS 'Points scored';
COMMENT ON COLUMN session_results.laps IS 'Laps completed';
COMMENT ON COLUMN session_results.missing_as IS 'How FastF1''s table spells this row''s missing text cells when not empty: column name to None or nan (pandas casts); lets the export match FastF1 byte for byte';

-- Results with their event and session: what an analyst reaches for first.
CREATE VIEW results_with_event AS
    SELECT e.name AS event_name, e.country, e.event_format, s.start_utc AS session_start_utc, r.*
    FROM session_results r
    JOIN events e ON e.year = r.year AND e.round = r.round
    JOIN sessions s ON s.year = r.year AND s.round = r.round AND s.name = r.session;
COMMENT ON VIEW results_with_event IS 'Session results with the event name, country, format and session start';

-- +goose Down
DROP VIEW results_with_event;
DROP TABLE session_results;
