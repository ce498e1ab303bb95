-- +goose Up
-- Pauses the rate governor imposed on a run (a full window, a Retry-After).
ALTER TABLE run_loads ADD COLUMN pauses integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE run_loads DROP COLUMN pauses;
