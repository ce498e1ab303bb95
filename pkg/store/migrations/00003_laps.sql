-- +goose Up
-- One row per lap with FastF1's Laps columns. Session times and durations
-- are intervals (ms precision); NULL where FastF1 has NaT/NaN.
CREATE TABLE laps (
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
CREATE INDEX laps_driver ON laps (year, round, session, driver_number, lap_number);

-- +goose Down
DROP TABLE laps;
