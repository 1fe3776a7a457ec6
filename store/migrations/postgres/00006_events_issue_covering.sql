-- +goose Up
-- The rules engine counts an issue's events in an environment and its
-- distinct users over a window on every activity; with environment and
-- user in the index those counts can be index-only scans.
CREATE INDEX events_issue_window_idx ON events (issue_id, received) INCLUDE (environment, user_ident);
DROP INDEX events_issue_idx;

-- +goose Down
CREATE INDEX events_issue_idx ON events (issue_id, received);
DROP INDEX events_issue_window_idx;
