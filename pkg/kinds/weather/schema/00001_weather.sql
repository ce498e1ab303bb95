-- +goose Up
-- One row per WeatherData sample (about one a minute). Databases created
-- before kinds kept their own schema already have the table.
CREATE TABLE IF NOT EXISTS weather_samples (
    year           integer NOT NULL,
    round          integer NOT NULL,
    session        text    NOT NULL,
    seq            integer NOT NULL,
    session_time   interval NOT NULL,
    sampled_at     timestamptz,
    air_temp       double precision,
    humidity       double precision,
    pressure       double precision,
    rainfall       boolean,
    track_temp     double precision,
    wind_direction smallint,
    wind_speed     double precision,
    PRIMARY KEY (year, round, session, seq),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS weather_samples_sampled_at ON weather_samples (sampled_at);

COMMENT ON TABLE weather_samples IS 'Weather of a session: one row per WeatherData sample (about one a minute), FastF1''s weather_data';
COMMENT ON COLUMN weather_samples.year IS 'Season';
COMMENT ON COLUMN weather_samples.round IS 'Championship round; -1, -2, ... for testing events';
COMMENT ON COLUMN weather_samples.session IS 'Session name as FastF1 spells it, e.g. Qualifying';
COMMENT ON COLUMN weather_samples.seq IS 'Sample index in the feed, from 0';
COMMENT ON COLUMN weather_samples.session_time IS 'Offset from the start of the session''s recording (FastF1''s Time)';
COMMENT ON COLUMN weather_samples.sampled_at IS 'UTC instant of the sample, when the feed''s clock is known from RaceControlMessages';
COMMENT ON COLUMN weather_samples.air_temp IS 'Air temperature, °C';
COMMENT ON COLUMN weather_samples.humidity IS 'Relative humidity, %';
COMMENT ON COLUMN weather_samples.pressure IS 'Air pressure, mbar';
COMMENT ON COLUMN weather_samples.rainfall IS 'Whether it rains';
COMMENT ON COLUMN weather_samples.track_temp IS 'Track temperature, °C';
COMMENT ON COLUMN weather_samples.wind_direction IS 'Wind direction, degrees 0-359';
COMMENT ON COLUMN weather_samples.wind_speed IS 'Wind speed, m/s';

-- +goose Down
DROP TABLE weather_samples;
