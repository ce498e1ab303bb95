-- +goose Up
-- One row per car of a session with car data.
CREATE TABLE car_streams (
    stream_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    year          integer NOT NULL,
    round         integer NOT NULL,
    session       text    NOT NULL,
    ord           integer NOT NULL,
    driver_number text    NOT NULL,
    driver        text    NOT NULL DEFAULT '',
    samples       integer NOT NULL DEFAULT 0,
    filled        integer NOT NULL DEFAULT 0,
    by_date       boolean NOT NULL DEFAULT false,
    UNIQUE (year, round, session, driver_number),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);
COMMENT ON TABLE car_streams IS 'The cars of a session with car data (FastF1''s Session.car_data): one row per car, its samples in car_samples';
COMMENT ON COLUMN car_streams.stream_id IS 'Key of the car''s samples in car_samples';
COMMENT ON COLUMN car_streams.year IS 'Season';
COMMENT ON COLUMN car_streams.round IS 'Round; -1, -2, ... for testing events';
COMMENT ON COLUMN car_streams.session IS 'Session name';
COMMENT ON COLUMN car_streams.ord IS 'FastF1''s order of the session''s drivers (Session.drivers: the results'' order)';
COMMENT ON COLUMN car_streams.driver_number IS 'Racing number';
COMMENT ON COLUMN car_streams.driver IS 'Three-letter abbreviation';
COMMENT ON COLUMN car_streams.samples IS 'Rows in car_samples, filled ones included';
COMMENT ON COLUMN car_streams.filled IS 'Rows FastF1 adds where the car is missing from an entry (all zero)';
COMMENT ON COLUMN car_streams.by_date IS 'FastF1 orders this car''s rows by date (a car missing from some entries)';

-- One row per car sample, about four a second; partitioned by season
-- (car_samples_y2024, ... made on first use), BRIN on the car and time.
-- No primary key: a season is half a billion rows, kept unique by the
-- extraction that replaces a session's rows whole.
CREATE TABLE car_samples (
    year      smallint NOT NULL,
    stream_id integer  NOT NULL,
    seq       integer  NOT NULL,
    date      timestamptz NOT NULL,
    rpm       integer  NOT NULL,
    speed     smallint NOT NULL,
    throttle  smallint NOT NULL,
    n_gear    smallint NOT NULL,
    drs       smallint NOT NULL,
    brake     boolean  NOT NULL,
    filled    boolean  NOT NULL
) PARTITION BY LIST (year);
CREATE INDEX car_samples_stream ON car_samples USING brin (stream_id, seq);
CREATE INDEX car_samples_date ON car_samples USING brin (date);

COMMENT ON TABLE car_samples IS 'Car telemetry at full rate (FastF1''s Session.car_data), partitioned by season';
COMMENT ON COLUMN car_samples.year IS 'Season (the partition)';
COMMENT ON COLUMN car_samples.stream_id IS 'The car and session: car_streams.stream_id';
COMMENT ON COLUMN car_samples.seq IS 'Row of the car in stream order, from 0 (filled rows last)';
COMMENT ON COLUMN car_samples.date IS 'UTC time of the sample, to the millisecond';
COMMENT ON COLUMN car_samples.rpm IS 'Engine revolutions per minute';
COMMENT ON COLUMN car_samples.speed IS 'Speed, km/h';
COMMENT ON COLUMN car_samples.throttle IS 'Throttle pedal, percent (104: no valid value)';
COMMENT ON COLUMN car_samples.n_gear IS 'Gear, 0 neutral';
COMMENT ON COLUMN car_samples.drs IS 'DRS state: 0/1 off, 8 available, 10/12/14 open';
COMMENT ON COLUMN car_samples.brake IS 'Brake applied';
COMMENT ON COLUMN car_samples.filled IS 'A row FastF1 adds where the car is missing from an entry (every channel zero; Source nan)';

-- +goose Down
DROP TABLE car_samples;
DROP TABLE car_streams;
