-- +goose Up
-- A firing wins its compare-and-set when the rule last fired for the issue
-- at or before the start of the rule's frequency window ending at the
-- firing. Written with each firing, the window start lets one statement
-- judge many firings (of rules with different frequencies), each against
-- its own window: ON CONFLICT compares it as excluded.window_start.
ALTER TABLE rule_fires ADD COLUMN window_start TIMESTAMP;

-- +goose Down
ALTER TABLE rule_fires DROP COLUMN window_start;
