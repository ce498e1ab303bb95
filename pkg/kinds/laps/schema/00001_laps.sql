-- +goose Up
-- One row per lap. Databases created before kinds kept their own schema
-- already have the table.
CREATE TABLE IF NOT EXISTS laps (
    year                 integer NOT NULL,
    round                integer NOT NULL,
    session              text    NOT NULL,
    seq                  integer NOT NULL,      -- FastF1's row order
    driver_number        text    NOT NULL,
    driver               text    NOT NULL DEFAULT '',
    team                 text    NOT NULL DEFAULT '',
    lap_number           integer NOT NULL,
    time                 interval,              -- session time at the end of the lap
    lap_time             interval,
    stint                integer,
    pit_out_time         interval,
    pit_in_time          interval,
    sector1_time         interval,
    sector2_time         interval,
    sector3_time         interval,
    sector1_session_time interval,
    sector2_session_time interval,
    sector3_session_time interval,
    speed_i1             double precision,      -- km/h
    speed_i2             double precision,
    speed_fl             double precision,
    speed_st             double precision,
    is_personal_best     boolean,
    compound             text    NOT NULL DEFAULT '',
    tyre_life            double precision,
    fresh_tyre           boolean,
    lap_start_time       interval,
    track_status         text    NOT NULL DEFAULT '',
    position             integer,
    deleted              boolean,
    deleted_reason       text    NOT NULL DEFAULT '',
    fastf1_generated     boolean NOT NULL DEFAULT false,
    is_accurate          boolean NOT NULL DEFAULT false,
    PRIMARY KEY (year, round, session, seq),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS laps_driver ON laps (year, round, session, driver_number, lap_number);


COMMENT ON TABLE laps IS 'Laps of a session with FastF1''s Laps columns; session times and durations are intervals (ms precision), NULL where FastF1 has NaT/NaN';
COMMENT ON COLUMN laps.year IS 'Season';
COMMENT ON COLUMN laps.round IS 'Championship round; -1, -2, ... for testing events';
COMMENT ON COLUMN laps.session IS 'Session name as FastF1 spells it';
COMMENT ON COLUMN laps.seq IS 'FastF1''s row order within the session';
COMMENT ON COLUMN laps.driver_number IS 'Racing number (FastF1 DriverNumber)';
COMMENT ON COLUMN laps.driver IS 'Three-letter abbreviation (FastF1 Driver)';
COMMENT ON COLUMN laps.team IS 'Team name';
COMMENT ON COLUMN laps.lap_number IS 'Lap number';
COMMENT ON COLUMN laps.time IS 'Session time at the end of the lap (FastF1 Time)';
COMMENT ON COLUMN laps.lap_time IS 'Lap time';
COMMENT ON COLUMN laps.stint IS 'Stint number, from 1';
COMMENT ON COLUMN laps.pit_out_time IS 'Session time the car left the pit lane';
COMMENT ON COLUMN laps.pit_in_time IS 'Session time the car entered the pit lane';
COMMENT ON COLUMN laps.sector1_time IS 'Sector 1 time';
COMMENT ON COLUMN laps.sector2_time IS 'Sector 2 time';
COMMENT ON COLUMN laps.sector3_time IS 'Sector 3 time';
COMMENT ON COLUMN laps.sector1_session_time IS 'Session time at the end of sector 1';
COMMENT ON COLUMN laps.sector2_session_time IS 'Session time at the end of sector 2';
COMMENT ON COLUMN laps.sector3_session_time IS 'Session time at the end of sector 3';
COMMENT ON COLUMN laps.speed_i1 IS 'Speed at the first intermediate, km/h';
COMMENT ON COLUMN laps.speed_i2 IS 'Speed at the second intermediate, km/h';
COMMENT ON COLUMN laps.speed_fl IS 'Speed at the finish line, km/h';
COMMENT ON COLUMN laps.speed_st IS 'Speed at the speed trap, km/h';
COMMENT ON COLUMN laps.is_personal_best IS 'Whether the lap was the driver''s personal best when set (deleted laps are not)';
COMMENT ON COLUMN laps.compound IS 'Tyre compound, e.g. SOFT';
COMMENT ON COLUMN laps.tyre_life IS 'Laps driven on this tyre, including earlier sessions';
COMMENT ON COLUMN laps.fresh_tyre IS 'Whether the tyre was new at the start of the stint';
COMMENT ON COLUMN laps.lap_start_time IS 'Session time at the start of the lap';
COMMENT ON COLUMN laps.track_status IS 'Every track status code active during the lap, e.g. 124';
COMMENT ON COLUMN laps.position IS 'Position at the end of the lap (race-like sessions only)';
COMMENT ON COLUMN laps.deleted IS 'Whether race control deleted the lap (NULL when messages were not published)';
COMMENT ON COLUMN laps.deleted_reason IS 'Why the lap was deleted';
COMMENT ON COLUMN laps.fastf1_generated IS 'Lap added by the derivation, not timed (as FastF1 generates it)';
COMMENT ON COLUMN laps.is_accurate IS 'Whether the lap''s times pass FastF1''s accuracy checks';

-- Laps with their event and session: what an analyst reaches for first.
CREATE OR REPLACE VIEW laps_with_event AS
    SELECT e.name AS event_name, e.country, s.start_utc AS session_start_utc, l.*
    FROM laps l
    JOIN events e ON e.year = l.year AND e.round = l.round
    JOIN sessions s ON s.year = l.year AND s.round = l.round AND s.name = l.session;
COMMENT ON VIEW laps_with_event IS 'Laps with the event name, country and session start: filter by event_name, driver or team';

-- +goose Down
DROP VIEW laps_with_event;
DROP TABLE laps;
