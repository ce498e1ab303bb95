-- +goose Up
-- A run's plan is recorded whole before any of it is published, so a
-- planner that dies while publishing is finished by the next one.
ALTER TABLE runs ADD COLUMN plan jsonb;
COMMENT ON COLUMN runs.plan IS 'the plan as first computed (gap report and the gaps to publish, in order), recorded before the first gap is published; report is written once every gap is published';

-- A run whose session another run was already importing follows that
-- run's outcomes for it instead of importing it twice.
ALTER TABLE run_items ADD COLUMN follows text;
COMMENT ON COLUMN run_items.follows IS 'the run whose outcome this item takes (that run already imports the session); NULL: the run''s own item';
CREATE INDEX run_items_follows ON run_items (follows, year, round, session, kind) WHERE follows IS NOT NULL;

-- +goose Down
DROP INDEX run_items_follows;
ALTER TABLE run_items DROP COLUMN follows;
ALTER TABLE runs DROP COLUMN plan;
