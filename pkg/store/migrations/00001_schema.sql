-- +goose Up
-- The season model: what the schedule sources say exists.
CREATE TABLE seasons (
    year          integer PRIMARY KEY,
    sources       text[]      NOT NULL,
    input_digest  text        NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    year          integer NOT NULL REFERENCES seasons ON DELETE CASCADE,
    round         integer NOT NULL CHECK (round > 0),
    name          text    NOT NULL,
    official_name text    NOT NULL DEFAULT '',
    country       text    NOT NULL DEFAULT '',
    location      text    NOT NULL DEFAULT '',
    circuit_key   integer,
    circuit_name  text    NOT NULL DEFAULT '',
    meeting_key   integer,
    event_format  text    NOT NULL DEFAULT 'conventional',
    PRIMARY KEY (year, round)
);

CREATE TABLE sessions (
    year            integer  NOT NULL,
    round           integer  NOT NULL,
    name            text     NOT NULL,
    number          integer  NOT NULL,
    session_key     integer,
    start_utc       timestamptz NOT NULL,
    end_utc         timestamptz,
    gmt_offset      interval NOT NULL DEFAULT '0',
    archive_path    text     NOT NULL,
    path_from_index boolean  NOT NULL DEFAULT false,
    PRIMARY KEY (year, round, name),
    FOREIGN KEY (year, round) REFERENCES events ON DELETE CASCADE
);

-- The extraction ledger: what gap detection reads.
CREATE TABLE extractions (
    year              integer NOT NULL,
    round             integer NOT NULL,
    session           text    NOT NULL,
    kind              text    NOT NULL,
    status            text    NOT NULL CHECK (status IN ('done', 'failed', 'unavailable')),
    input_digest      text    NOT NULL DEFAULT '',
    extractor_version integer NOT NULL,
    rows              integer NOT NULL DEFAULT 0,
    error             text    NOT NULL DEFAULT '',
    run_id            text    NOT NULL DEFAULT '',
    extracted_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (year, round, session, kind),
    FOREIGN KEY (year, round, session) REFERENCES sessions ON DELETE CASCADE
);

-- Run accounting.
CREATE TABLE runs (
    run_id      text PRIMARY KEY,
    year        integer NOT NULL,
    command     jsonb   NOT NULL,
    report      jsonb,
    status      text    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
    error       text    NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    summary     jsonb
);

CREATE TABLE run_items (
    run_id  text    NOT NULL REFERENCES runs ON DELETE CASCADE,
    year    integer NOT NULL,
    round   integer NOT NULL,
    session text    NOT NULL,
    kind    text    NOT NULL,
    status  text    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'unavailable')),
    rows    integer NOT NULL DEFAULT 0,
    reason  text    NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, year, round, session, kind)
);

CREATE TABLE run_loads (
    run_id       text    NOT NULL REFERENCES runs ON DELETE CASCADE,
    subject      text    NOT NULL,
    calls        integer NOT NULL,
    archive_hits integer NOT NULL,
    PRIMARY KEY (run_id, subject)
);

-- +goose Down
DROP TABLE run_loads;
DROP TABLE run_items;
DROP TABLE runs;
DROP TABLE extractions;
DROP TABLE sessions;
DROP TABLE events;
DROP TABLE seasons;
