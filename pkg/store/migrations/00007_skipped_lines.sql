-- +goose Up
-- A kind takes its feeds whole or fails; the one defect it tolerates by
-- skipping a line (a blank line) is counted, and the feeds the next plan
-- must ask the upstream for anew are kept with the outcome.
ALTER TABLE extractions
    ADD COLUMN skipped_lines integer NOT NULL DEFAULT 0,
    ADD COLUMN refetch_feeds text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN extractions.skipped_lines IS 'Feed lines the kind skipped as tolerated defects (blank lines); 0 when it took its feeds whole';
COMMENT ON COLUMN extractions.refetch_feeds IS 'Feeds the next plan asks the upstream for anew: their archived body failed the kind, or had lines skipped and was not asked anew yet';

ALTER TABLE run_items ADD COLUMN skipped_lines integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN run_items.skipped_lines IS 'Feed lines the kind skipped as tolerated defects';

-- +goose Down
ALTER TABLE run_items DROP COLUMN skipped_lines;
ALTER TABLE extractions DROP COLUMN skipped_lines, DROP COLUMN refetch_feeds;
