-- +goose Up
-- One row per car of a session with position data.
CREATE TABLE position_streams (
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
COMMENT ON TABLE position_streams IS 'The cars of a session with position data (FastF1''s Session.pos_data): one row per car, its samples in position_samples';
COMMENT ON COLUMN position_streams.stream_id IS 'Key of the car''s samples in position_samples';
COMMENT ON COLUMN position_streams.year IS 'Season';
COMMENT ON COLUMN position_streams.round IS 'Round; -1, -2, ... for testing events';
COMMENT ON COLUMN position_streams.session IS 'Session name';
COMMENT ON COLUMN position_streams.ord IS 'FastF1''s order of the session''s drivers (Session.drivers: the results'' order)';
COMMENT ON COLUMN position_streams.driver_number IS 'Racing number';
COMMENT ON COLUMN position_streams.driver IS 'Three-letter abbreviation';
COMMENT ON COLUMN position_streams.samples IS 'Rows in position_samples, filled ones included';
COMMENT ON COLUMN position_streams.filled IS 'Rows FastF1 adds where the car is missing from an entry (at the origin, off track)';
COMMENT ON COLUMN position_streams.by_date IS 'FastF1 orders this car''s rows by date (a car missing from some entries)';

-- One row per position sample, about four a second; partitioned by
-- season (position_samples_y2024, ... made on first use), BRIN on the car
-- and time. No primary key: the extraction replaces a session's rows whole.
CREATE TABLE position_samples (
    year      smallint NOT NULL,
    stream_id integer  NOT NULL,
    seq       integer  NOT NULL,
    date      timestamptz NOT NULL,
    on_track  boolean,
    status    text,
    x         integer  NOT NULL,
    y         integer  NOT NULL,
    z         integer  NOT NULL,
    filled    boolean  NOT NULL
) PARTITION BY LIST (year);
CREATE INDEX position_samples_stream ON position_samples USING brin (stream_id, seq);
CREATE INDEX position_samples_date ON position_samples USING brin (date);

COMMENT ON TABLE position_samples IS 'Car positions at full rate (FastF1''s Session.pos_data), partitioned by season';
COMMENT ON COLUMN position_samples.year IS 'Season (the partition)';
COMMENT ON COLUMN position_samples.stream_id IS 'The car and session: position_streams.stream_id';
COMMENT ON COLUMN position_samples.seq IS 'Row of the car in stream order, from 0 (filled rows last)';
COMMENT ON COLUMN position_samples.date IS 'UTC time of the sample, to the millisecond';
COMMENT ON COLUMN position_samples.on_track IS 'On track (true) or off track (false); NULL when the sample had no status or another one';
COMMENT ON COLUMN position_samples.status IS 'A status other than OnTrack/OffTrack as sent; NULL otherwise';
COMMENT ON COLUMN position_samples.x IS 'X, 1/10 m (the frame of circuit_markers)';
COMMENT ON COLUMN position_samples.y IS 'Y, 1/10 m';
COMMENT ON COLUMN position_samples.z IS 'Z (height), 1/10 m';
COMMENT ON COLUMN position_samples.filled IS 'A row FastF1 adds where the car is missing from an entry (at the origin, off track; Source nan)';

-- +goose Down
DROP TABLE position_samples;
DROP TABLE position_streams;
