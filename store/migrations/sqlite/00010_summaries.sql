-- +goose Up
-- A scheduled summary of a project, sent to an integration target (or the
-- built-in email when integration_id is NULL) on a cron schedule.
CREATE TABLE summaries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project_id      BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    schedule        TEXT NOT NULL,
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    integration_id  BIGINT REFERENCES integrations (id) ON DELETE CASCADE,
    target          TEXT NOT NULL DEFAULT '',
    next_run        TIMESTAMP NOT NULL,
    last_run        TIMESTAMP,
    created_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    date_created    TIMESTAMP NOT NULL
);
CREATE INDEX summaries_project_idx ON summaries (project_id, id);
CREATE INDEX summaries_next_run_idx ON summaries (next_run);

-- +goose Down
DROP TABLE summaries;
