-- +goose Up
-- Databases created before kinds kept their own schema already have the
-- table.
-- Drivers and their teams as each session's DriverList declares them.
CREATE TABLE IF NOT EXISTS session_drivers (
    year           integer NOT NULL,
    round          integer NOT NULL,
    session        text    NOT NULL,
    driver_number  text    NOT NULL,
    abbreviation   text    NOT NULL DEFAULT '',
    first_name     text    NOT NULL DEFAULT '',
    last_name      text    NOT NULL DEFAULT '',
    full_name      text    NOT NULL DEFAULT '',
    broadcast_name text    NOT NULL DEFAULT '',
    team_name      text    NOT NULL DEFAULT '',
    team_colour    text    NOT NULL DEFAULT '',
    headshot_url   text    NOT NULL DEFAULT '',
    country_code   text    NOT NULL DEFAULT '',
    line           integer NOT NULL DEFAULT 0,
    PRIMARY KEY (year, round, session, driver_number),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);

-- Teams of a season, as the sessions' driver lists name them.
CREATE OR REPLACE VIEW season_teams AS
    SELECT year, team_name, max(team_colour) AS team_colour, count(DISTINCT driver_number) AS drivers
    FROM session_drivers WHERE team_name <> '' GROUP BY year, team_name;


COMMENT ON TABLE session_drivers IS 'Drivers and their teams as each session''s DriverList declares them';
COMMENT ON COLUMN session_drivers.year IS 'Season';
COMMENT ON COLUMN session_drivers.round IS 'Round; -1, -2, ... for testing events';
COMMENT ON COLUMN session_drivers.session IS 'Session name';
COMMENT ON COLUMN session_drivers.driver_number IS 'Racing number';
COMMENT ON COLUMN session_drivers.abbreviation IS 'Three-letter abbreviation, e.g. VER';
COMMENT ON COLUMN session_drivers.first_name IS 'First name';
COMMENT ON COLUMN session_drivers.last_name IS 'Last name';
COMMENT ON COLUMN session_drivers.full_name IS 'First and last name';
COMMENT ON COLUMN session_drivers.broadcast_name IS 'Name on the timing screen, e.g. M VERSTAPPEN';
COMMENT ON COLUMN session_drivers.team_name IS 'Team name';
COMMENT ON COLUMN session_drivers.team_colour IS 'Team colour, hex RGB without #';
COMMENT ON COLUMN session_drivers.headshot_url IS 'Headshot image URL; empty when not published';
COMMENT ON COLUMN session_drivers.country_code IS 'Three-letter country code; empty before 2022';
COMMENT ON COLUMN session_drivers.line IS 'Final position in the timing-screen order; 0 when absent';
COMMENT ON VIEW season_teams IS 'Teams of a season as the sessions'' driver lists name them';

-- +goose Down
DROP VIEW season_teams;
DROP TABLE session_drivers;
