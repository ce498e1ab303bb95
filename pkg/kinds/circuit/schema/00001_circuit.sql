-- +goose Up
-- Databases created before kinds kept their own schema already have these
-- tables.
-- Circuit layouts from MultiViewer, once per circuit and year.
CREATE TABLE IF NOT EXISTS circuits (
    circuit_key integer NOT NULL,
    year        integer NOT NULL,
    name        text    NOT NULL DEFAULT '',
    rotation    double precision NOT NULL,   -- degrees
    PRIMARY KEY (circuit_key, year)
);

-- Markers: kind is 'corner', 'marshal_light' or 'marshal_sector'.
CREATE TABLE IF NOT EXISTS circuit_markers (
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
CREATE TABLE IF NOT EXISTS event_circuits (
    year        integer NOT NULL,
    round       integer NOT NULL,
    circuit_key integer NOT NULL,
    PRIMARY KEY (year, round),
    FOREIGN KEY (year, round) REFERENCES events ON DELETE CASCADE,
    FOREIGN KEY (circuit_key, year) REFERENCES circuits
);


COMMENT ON TABLE circuits IS 'Circuit layouts from MultiViewer, once per circuit and year (FastF1''s get_circuit_info)';
COMMENT ON COLUMN circuits.circuit_key IS 'F1''s circuit key (Mugello''s 149 corrected to 146)';
COMMENT ON COLUMN circuits.year IS 'Season of the layout';
COMMENT ON COLUMN circuits.name IS 'Circuit name, e.g. Monza';
COMMENT ON COLUMN circuits.rotation IS 'Rotation of the track map, degrees';
COMMENT ON TABLE circuit_markers IS 'Corners, marshal lights and marshal sectors of a circuit layout';
COMMENT ON COLUMN circuit_markers.circuit_key IS 'Circuit key';
COMMENT ON COLUMN circuit_markers.year IS 'Season of the layout';
COMMENT ON COLUMN circuit_markers.kind IS 'corner, marshal_light or marshal_sector';
COMMENT ON COLUMN circuit_markers.seq IS 'Order in MultiViewers list, from 0';
COMMENT ON COLUMN circuit_markers.x IS 'X of the marker, in the frame of Position data (1/10 m)';
COMMENT ON COLUMN circuit_markers.y IS 'Y of the marker';
COMMENT ON COLUMN circuit_markers.number IS 'Marker number, e.g. corner 1';
COMMENT ON COLUMN circuit_markers.letter IS 'Letter of a sub-marker, e.g. 6a; empty when none';
COMMENT ON COLUMN circuit_markers.angle IS 'Angle of the marker label, degrees';
COMMENT ON COLUMN circuit_markers.length IS 'MultiViewer''s distance of the marker along the lap, m';
COMMENT ON COLUMN circuit_markers.distance IS 'Distance along the lap derived from telemetry; NULL until telemetry is loaded';
COMMENT ON TABLE event_circuits IS 'The circuit layout each event ran on';
COMMENT ON COLUMN event_circuits.year IS 'Season';
COMMENT ON COLUMN event_circuits.round IS 'Round';
COMMENT ON COLUMN event_circuits.circuit_key IS 'Circuit key of the layout';

-- +goose Down
DROP TABLE event_circuits;
DROP TABLE circuit_markers;
DROP TABLE circuits;
