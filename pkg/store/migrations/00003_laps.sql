-- +goose Up
-- The laps table is the laps kind's: pkg/kinds/laps/schema.
SELECT 1;

-- +goose Down
SELECT 1;
