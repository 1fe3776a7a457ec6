-- +goose Up
CREATE TABLE rules (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id    BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    environment   TEXT,
    action_match  TEXT NOT NULL DEFAULT 'all',
    filter_match  TEXT NOT NULL DEFAULT 'all',
    frequency     INTEGER NOT NULL DEFAULT 30,
    conditions    TEXT NOT NULL DEFAULT '[]',
    filters       TEXT NOT NULL DEFAULT '[]',
    actions       TEXT NOT NULL DEFAULT '[]',
    owner         TEXT NOT NULL DEFAULT '',
    created_by    BIGINT REFERENCES users (id) ON DELETE SET NULL,
    status        TEXT NOT NULL DEFAULT 'active',
    last_error    TEXT NOT NULL DEFAULT '',
    last_error_at TIMESTAMP,
    date_created  TIMESTAMP NOT NULL,
    date_updated  TIMESTAMP NOT NULL
);
CREATE INDEX rules_project_idx ON rules (project_id);

CREATE TABLE rule_snoozes (
    rule_id      BIGINT NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL DEFAULT 0,
    until        TIMESTAMP,
    created_by   BIGINT,
    date_created TIMESTAMP NOT NULL,
    PRIMARY KEY (rule_id, user_id)
);

CREATE TABLE rule_fires (
    rule_id    BIGINT NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    issue_id   BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    last_fired TIMESTAMP NOT NULL,
    PRIMARY KEY (rule_id, issue_id)
);
CREATE INDEX rule_fires_issue_idx ON rule_fires (issue_id);

CREATE TABLE rule_fire_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id      BIGINT NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    issue_id     BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    event_id     TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL,
    date_created TIMESTAMP NOT NULL
);
CREATE INDEX rule_fire_history_rule_idx ON rule_fire_history (rule_id, date_created);
CREATE INDEX rule_fire_history_issue_idx ON rule_fire_history (issue_id);

CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    rule_id      BIGINT REFERENCES rules (id) ON DELETE SET NULL,
    issue_id     BIGINT REFERENCES issues (id) ON DELETE CASCADE,
    fire_id      BIGINT NOT NULL,
    event_id     TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    muted_users  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'pending',
    date_created TIMESTAMP NOT NULL
);
CREATE INDEX notifications_status_idx ON notifications (status, id);
CREATE INDEX notifications_issue_idx ON notifications (issue_id);

-- +goose Down
DROP TABLE notifications;
DROP TABLE rule_fire_history;
DROP TABLE rule_fires;
DROP TABLE rule_snoozes;
DROP TABLE rules;
