-- +goose Up
-- Bumped with every change to a project's rules or their snoozes, so that
-- the rules engine can keep the rules cached and still apply a change to
-- the very next event: it compares this number instead of re-reading them.
ALTER TABLE projects ADD COLUMN rules_version BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE projects DROP COLUMN rules_version;
