-- +goose Up
-- A digest timeline collects the notifications of one project to one
-- target until it is due; its records are one per issue.
CREATE TABLE digest_timelines (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project_id      BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    integration_id  BIGINT REFERENCES integrations (id) ON DELETE CASCADE,
    provider        TEXT NOT NULL,
    target          TEXT NOT NULL,
    -- 'open' takes records; 'claimed' is being delivered.
    state           TEXT NOT NULL DEFAULT 'open',
    first_record    TIMESTAMP NOT NULL,
    due             TIMESTAMP NOT NULL,
    deadline        TIMESTAMP NOT NULL,
    claimed_until   TIMESTAMP,
    date_created    TIMESTAMP NOT NULL
);
-- One open timeline per project and target.
CREATE UNIQUE INDEX digest_timelines_open_idx ON digest_timelines (project_id, COALESCE(integration_id, 0), provider, target)
    WHERE state = 'open';
CREATE INDEX digest_timelines_due_idx ON digest_timelines (state, due);

CREATE TABLE digest_records (
    timeline_id  BIGINT NOT NULL REFERENCES digest_timelines (id) ON DELETE CASCADE,
    issue_id     BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    rule_id      BIGINT REFERENCES rules (id) ON DELETE SET NULL,
    event_id     TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    options      TEXT NOT NULL DEFAULT '{}',
    count        BIGINT NOT NULL,
    first_record TIMESTAMP NOT NULL,
    last_record  TIMESTAMP NOT NULL,
    PRIMARY KEY (timeline_id, issue_id)
);

-- +goose Down
DROP TABLE digest_records;
DROP TABLE digest_timelines;
