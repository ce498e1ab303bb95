-- +goose Up
-- What every core table and column holds (each kind comments its own).
COMMENT ON TABLE seasons IS 'Seasons whose schedule is loaded, with the schedule sources merged';
COMMENT ON COLUMN seasons.year IS 'Season';
COMMENT ON COLUMN seasons.sources IS 'Schedule sources that answered: index (F1 Index.json), f1schedule (FastF1''s file), jolpica';
COMMENT ON COLUMN seasons.input_digest IS 'Digest of the schedule documents the season was built from';
COMMENT ON COLUMN seasons.loaded_at IS 'When the schedule was written';

COMMENT ON TABLE events IS 'Events of a season: championship rounds, and testing events as rounds -1, -2, ...';
COMMENT ON COLUMN events.year IS 'Season';
COMMENT ON COLUMN events.round IS 'Championship round; -1, -2, ... for testing events (FastF1''s test number, negated)';
COMMENT ON COLUMN events.name IS 'Event name, e.g. Italian Grand Prix';
COMMENT ON COLUMN events.official_name IS 'Official event name';
COMMENT ON COLUMN events.country IS 'Country';
COMMENT ON COLUMN events.location IS 'Location, e.g. Monza';
COMMENT ON COLUMN events.circuit_key IS 'F1''s circuit key; NULL when no schedule source gives it';
COMMENT ON COLUMN events.circuit_name IS 'Circuit short name';
COMMENT ON COLUMN events.meeting_key IS 'F1''s meeting key';
COMMENT ON COLUMN events.event_format IS 'conventional, sprint, sprint_shootout, sprint_qualifying or testing';
COMMENT ON COLUMN events.event_date_utc IS 'Start of the event''s last session, UTC';
COMMENT ON COLUMN events.gmt_offset IS 'Local time offset from UTC at the circuit';

COMMENT ON TABLE sessions IS 'Sessions of each event, as the schedule sources give them';
COMMENT ON COLUMN sessions.year IS 'Season';
COMMENT ON COLUMN sessions.round IS 'Round; -1, -2, ... for testing events';
COMMENT ON COLUMN sessions.name IS 'Session name as FastF1 spells it, e.g. Qualifying, Practice 2, Day 1';
COMMENT ON COLUMN sessions.number IS 'Order of the session in its event, from 1';
COMMENT ON COLUMN sessions.session_key IS 'F1''s session key, when Index.json gives it';
COMMENT ON COLUMN sessions.start_utc IS 'Scheduled start, UTC';
COMMENT ON COLUMN sessions.end_utc IS 'Scheduled end, UTC; NULL when the sources give none';
COMMENT ON COLUMN sessions.gmt_offset IS 'Local time offset from UTC';
COMMENT ON COLUMN sessions.archive_path IS 'Path of the session in F1''s live-timing archive, under /static/';
COMMENT ON COLUMN sessions.path_from_index IS 'Whether the archive path comes from F1''s Index.json (else it is built from names and dates)';

COMMENT ON TABLE extractions IS 'The extraction ledger: how each kind of each session last ended; gap detection reads it';
COMMENT ON COLUMN extractions.year IS 'Season';
COMMENT ON COLUMN extractions.round IS 'Round';
COMMENT ON COLUMN extractions.session IS 'Session name';
COMMENT ON COLUMN extractions.kind IS 'Data kind, e.g. laps (pkg/kinds)';
COMMENT ON COLUMN extractions.status IS 'done, failed or unavailable';
COMMENT ON COLUMN extractions.input_digest IS 'Digest of the raw feeds the extraction read';
COMMENT ON COLUMN extractions.extractor_version IS 'Version of the kind''s extractor; an older one is re-planned';
COMMENT ON COLUMN extractions.rows IS 'Rows written';
COMMENT ON COLUMN extractions.error IS 'Why it failed or is unavailable; empty when done';
COMMENT ON COLUMN extractions.run_id IS 'Run that extracted it';
COMMENT ON COLUMN extractions.extracted_at IS 'When';

COMMENT ON TABLE runs IS 'Import runs: one per accepted plan command';
COMMENT ON COLUMN runs.run_id IS 'Run id';
COMMENT ON COLUMN runs.year IS 'Season planned';
COMMENT ON COLUMN runs.command IS 'The plan command as accepted';
COMMENT ON COLUMN runs.report IS 'The gap report';
COMMENT ON COLUMN runs.status IS 'running, completed or failed';
COMMENT ON COLUMN runs.error IS 'Why the run failed';
COMMENT ON COLUMN runs.started_at IS 'When the plan was accepted';
COMMENT ON COLUMN runs.finished_at IS 'When every item ended';
COMMENT ON COLUMN runs.summary IS 'The run summary as published';

COMMENT ON TABLE run_items IS 'Each (session, kind) a run planned and how it ended';
COMMENT ON COLUMN run_items.run_id IS 'Run id';
COMMENT ON COLUMN run_items.year IS 'Season';
COMMENT ON COLUMN run_items.round IS 'Round';
COMMENT ON COLUMN run_items.session IS 'Session name';
COMMENT ON COLUMN run_items.kind IS 'Data kind';
COMMENT ON COLUMN run_items.status IS 'pending, done, failed or unavailable';
COMMENT ON COLUMN run_items.rows IS 'Rows written';
COMMENT ON COLUMN run_items.reason IS 'Why it failed or is unavailable';

COMMENT ON TABLE run_loads IS 'Each load the loader made for a run, with its upstream cost';
COMMENT ON COLUMN run_loads.run_id IS 'Run id';
COMMENT ON COLUMN run_loads.subject IS 'What was loaded and the delivery: 2019/14/Qualifying#1';
COMMENT ON COLUMN run_loads.calls IS 'Real upstream requests made';
COMMENT ON COLUMN run_loads.archive_hits IS 'Feeds served by the raw archive';
COMMENT ON COLUMN run_loads.pauses IS 'Rate-limit pauses';

-- +goose Down
SELECT 1;
