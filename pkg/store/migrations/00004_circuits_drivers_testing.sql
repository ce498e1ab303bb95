-- +goose Up
-- Testing events have no championship round: they are stored with round
-- -1, -2, ... (FastF1's test number, negated) so keys stay (year, round).
ALTER TABLE events DROP CONSTRAINT events_round_check;
ALTER TABLE events ADD CONSTRAINT events_round_check CHECK (round <> 0);
ALTER TABLE events ADD COLUMN event_date_utc timestamptz;   -- start of the last session
ALTER TABLE events ADD COLUMN gmt_offset interval NOT NULL DEFAULT '0';

-- Circuit layouts from MultiViewer, once per circuit and year.
CREATE TABLE circuits (
    circuit_key integer NOT NULL,
    year        integer NOT NULL,
    name        text    NOT NULL DEFAULT '',
    rotation    double precision NOT NULL,   -- degrees
    PRIMARY KEY (circuit_key, year)
);

-- Markers: kind is 'corner', 'marshal_light' or 'marshal_sector'.
CREATE TABLE circuit_markers (
    circuit_key integer NOT NULL,
    year        integer NOT NULL,
    kind        text    NOT NULL CHECK (kind IN ('corner', 'marshal_light', 'marshal_sector')),
    seq         integer NOT NULL,
    x           double precision NOT NULL,
    y           double precision NOT NULL,
    number      integer NOT NULL,
    letter      text    NOT NULL DEFAULT '',
    angle       double precision NOT NULL,
    length      double precision,           -- MultiViewer's marker length
    distance    double precision,           -- along the lap, when derived from telemetry
    PRIMARY KEY (circuit_key, year, kind, seq),
    FOREIGN KEY (circuit_key, year) REFERENCES circuits ON DELETE CASCADE
);

-- Which circuit layout an event ran on (the feed's key, corrected).
CREATE TABLE event_circuits (
    year        integer NOT NULL,
    round       integer NOT NULL,
    circuit_key integer NOT NULL,
    PRIMARY KEY (year, round),
    FOREIGN KEY (year, round) REFERENCES events ON DELETE CASCADE,
    FOREIGN KEY (circuit_key, year) REFERENCES circuits
);

-- Drivers and their teams as each session's DriverList declares them.
CREATE TABLE session_drivers (
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
CREATE VIEW season_teams AS
    SELECT year, team_name, max(team_colour) AS team_colour, count(DISTINCT driver_number) AS drivers
    FROM session_drivers WHERE team_name <> '' GROUP BY year, team_name;

-- +goose Down
DROP VIEW season_teams;
DROP TABLE session_drivers;
DROP TABLE event_circuits;
DROP TABLE circuit_markers;
DROP TABLE circuits;
ALTER TABLE events DROP COLUMN gmt_offset;
ALTER TABLE events DROP COLUMN event_date_utc;
ALTER TABLE events DROP CONSTRAINT events_round_check;
ALTER TABLE events ADD CONSTRAINT events_round_check CHECK (round > 0);
