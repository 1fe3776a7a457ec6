-- +goose Up
ALTER TABLE projects ADD COLUMN next_short_id BIGINT NOT NULL DEFAULT 1;
ALTER TABLE projects ADD COLUMN allowed_domains TEXT NOT NULL DEFAULT '*';
ALTER TABLE projects ADD COLUMN event_quota_per_day INTEGER NOT NULL DEFAULT 0;

CREATE TABLE releases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    version         TEXT NOT NULL,
    ref             TEXT NOT NULL DEFAULT '',
    url             TEXT NOT NULL DEFAULT '',
    date_created    TIMESTAMP NOT NULL,
    date_released   TIMESTAMP,
    first_event     TIMESTAMP,
    last_event      TIMESTAMP,
    new_groups      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (organization_id, version)
);

CREATE TABLE release_projects (
    release_id BIGINT NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (release_id, project_id)
);
CREATE INDEX release_projects_project_idx ON release_projects (project_id);

CREATE TABLE issues (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id          BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    short_id            BIGINT NOT NULL,
    type                TEXT NOT NULL,
    title               TEXT NOT NULL,
    culprit             TEXT NOT NULL DEFAULT '',
    level               TEXT NOT NULL,
    platform            TEXT NOT NULL DEFAULT '',
    logger              TEXT NOT NULL DEFAULT '',
    metadata            TEXT NOT NULL DEFAULT '{}',
    status              TEXT NOT NULL DEFAULT 'unresolved',
    substatus           TEXT NOT NULL DEFAULT 'new',
    first_seen          TIMESTAMP NOT NULL,
    last_seen           TIMESTAMP NOT NULL,
    times_seen          BIGINT NOT NULL DEFAULT 0,
    user_count          BIGINT NOT NULL DEFAULT 0,
    first_release       TEXT NOT NULL DEFAULT '',
    last_release        TEXT NOT NULL DEFAULT '',
    resolved_at         TIMESTAMP,
    resolved_in_release TEXT NOT NULL DEFAULT '',
    ignore_until        TIMESTAMP,
    ignore_count        BIGINT NOT NULL DEFAULT 0,
    ignore_window       INTEGER NOT NULL DEFAULT 0,
    ignore_user_count   BIGINT NOT NULL DEFAULT 0,
    ignore_user_window  INTEGER NOT NULL DEFAULT 0,
    ignore_base_count   BIGINT NOT NULL DEFAULT 0,
    ignore_base_users   BIGINT NOT NULL DEFAULT 0,
    assignee_user_id    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    assignee_team_id    BIGINT REFERENCES teams (id) ON DELETE SET NULL,
    grouping_version    TEXT NOT NULL,
    UNIQUE (project_id, short_id)
);
CREATE INDEX issues_project_last_seen_idx ON issues (project_id, last_seen);
CREATE INDEX issues_project_first_seen_idx ON issues (project_id, first_seen);
CREATE INDEX issues_project_times_seen_idx ON issues (project_id, times_seen);

CREATE TABLE issue_hashes (
    project_id       BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    hash             TEXT NOT NULL,
    issue_id         BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    grouping_version TEXT NOT NULL,
    PRIMARY KEY (project_id, hash)
);
CREATE INDEX issue_hashes_issue_idx ON issue_hashes (issue_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    issue_id    BIGINT REFERENCES issues (id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    timestamp   TIMESTAMP NOT NULL,
    received    TIMESTAMP NOT NULL,
    level       TEXT NOT NULL,
    title       TEXT NOT NULL,
    environment TEXT NOT NULL DEFAULT '',
    release     TEXT NOT NULL DEFAULT '',
    user_ident  TEXT NOT NULL DEFAULT '',
    size        INTEGER NOT NULL,
    data        BLOB NOT NULL,
    UNIQUE (project_id, event_id)
);
CREATE INDEX events_issue_idx ON events (issue_id, received);
CREATE INDEX events_received_idx ON events (received);

CREATE TABLE issue_users (
    issue_id   BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    user_ident TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (issue_id, user_ident)
);

CREATE TABLE issue_tags (
    issue_id   BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    times_seen BIGINT NOT NULL DEFAULT 0,
    first_seen TIMESTAMP NOT NULL,
    last_seen  TIMESTAMP NOT NULL,
    PRIMARY KEY (issue_id, key, value)
);
CREATE INDEX issue_tags_lookup_idx ON issue_tags (key, value);

CREATE TABLE issue_counts (
    issue_id BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    minute   BIGINT NOT NULL,
    count    BIGINT NOT NULL,
    PRIMARY KEY (issue_id, minute)
);

CREATE TABLE project_counts (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    minute     BIGINT NOT NULL,
    category   TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    count      BIGINT NOT NULL,
    PRIMARY KEY (project_id, minute, category, outcome)
);

CREATE TABLE activities (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    issue_id     BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    user_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    data         TEXT NOT NULL DEFAULT '{}',
    date_created TIMESTAMP NOT NULL
);
CREATE INDEX activities_issue_idx ON activities (issue_id, id);

CREATE TABLE activity_outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    issue_id     BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    event_row_id BIGINT,
    kind         TEXT NOT NULL,
    date_created TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP
);
CREATE INDEX activity_outbox_claim_idx ON activity_outbox (claimed_until, id);

CREATE TABLE session_counts (
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    release     TEXT NOT NULL,
    environment TEXT NOT NULL,
    hour        BIGINT NOT NULL,
    started     BIGINT NOT NULL DEFAULT 0,
    errored     BIGINT NOT NULL DEFAULT 0,
    crashed     BIGINT NOT NULL DEFAULT 0,
    abnormal    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project_id, release, environment, hour)
);

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL DEFAULT '',
    attachment_type TEXT NOT NULL DEFAULT '',
    size            INTEGER NOT NULL,
    data            BLOB NOT NULL,
    date_created    TIMESTAMP NOT NULL
);
CREATE INDEX attachments_event_idx ON attachments (project_id, event_id);

CREATE TABLE user_reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    event_id     TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    email        TEXT NOT NULL DEFAULT '',
    comments     TEXT NOT NULL DEFAULT '',
    date_created TIMESTAMP NOT NULL
);
CREATE INDEX user_reports_event_idx ON user_reports (project_id, event_id);

CREATE TABLE monitors (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    schedule_type   TEXT NOT NULL DEFAULT '',
    schedule        TEXT NOT NULL DEFAULT '',
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    checkin_margin  INTEGER NOT NULL DEFAULT 1,
    max_runtime     INTEGER NOT NULL DEFAULT 30,
    status          TEXT NOT NULL DEFAULT 'ok',
    last_checkin    TIMESTAMP,
    next_checkin    TIMESTAMP,
    date_created    TIMESTAMP NOT NULL,
    UNIQUE (project_id, slug)
);
CREATE INDEX monitors_next_checkin_idx ON monitors (next_checkin);

CREATE TABLE monitor_checkins (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor_id   BIGINT NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    checkin_id   TEXT NOT NULL,
    status       TEXT NOT NULL,
    duration_ms  BIGINT,
    environment  TEXT NOT NULL DEFAULT '',
    date_created TIMESTAMP NOT NULL,
    date_updated TIMESTAMP NOT NULL,
    UNIQUE (monitor_id, checkin_id)
);
CREATE INDEX monitor_checkins_monitor_idx ON monitor_checkins (monitor_id, date_created);

-- +goose Down
DROP TABLE monitor_checkins;
DROP TABLE monitors;
DROP TABLE user_reports;
DROP TABLE attachments;
DROP TABLE session_counts;
DROP TABLE activity_outbox;
DROP TABLE activities;
DROP TABLE project_counts;
DROP TABLE issue_counts;
DROP TABLE issue_tags;
DROP TABLE issue_users;
DROP TABLE events;
DROP TABLE issue_hashes;
DROP TABLE issues;
DROP TABLE release_projects;
DROP TABLE releases;
ALTER TABLE projects DROP COLUMN event_quota_per_day;
ALTER TABLE projects DROP COLUMN allowed_domains;
ALTER TABLE projects DROP COLUMN next_short_id;
