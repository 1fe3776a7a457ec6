-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    is_superuser  BOOLEAN NOT NULL DEFAULT FALSE,
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    date_joined   TIMESTAMP NOT NULL,
    last_login    TIMESTAMP
);

CREATE TABLE organizations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    slug         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'active',
    date_created TIMESTAMP NOT NULL
);

CREATE TABLE members (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    date_created    TIMESTAMP NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX members_user_idx ON members (user_id);

CREATE TABLE teams (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    date_created    TIMESTAMP NOT NULL,
    UNIQUE (organization_id, slug)
);

CREATE TABLE team_members (
    team_id   BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, member_id)
);
CREATE INDEX team_members_member_idx ON team_members (member_id);

CREATE TABLE projects (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug            TEXT NOT NULL,
    name            TEXT NOT NULL,
    platform        TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'active',
    date_created    TIMESTAMP NOT NULL,
    first_event     TIMESTAMP,
    UNIQUE (organization_id, slug)
);

CREATE TABLE project_teams (
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    team_id    BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, team_id)
);
CREATE INDEX project_teams_team_idx ON project_teams (team_id);

CREATE TABLE project_keys (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id        BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    label             TEXT NOT NULL DEFAULT '',
    public_key        TEXT NOT NULL UNIQUE,
    secret_key        TEXT NOT NULL,
    is_active         BOOLEAN NOT NULL DEFAULT TRUE,
    rate_limit_count  INTEGER NOT NULL DEFAULT 0,
    rate_limit_window INTEGER NOT NULL DEFAULT 0,
    date_created      TIMESTAMP NOT NULL
);
CREATE INDEX project_keys_project_idx ON project_keys (project_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    token_last4  TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    date_created TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP,
    last_used    TIMESTAMP
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE processes (
    id           TEXT PRIMARY KEY,
    role         TEXT NOT NULL,
    hostname     TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    version      TEXT NOT NULL,
    started_at   TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE processes;
DROP TABLE api_tokens;
DROP TABLE project_keys;
DROP TABLE project_teams;
DROP TABLE projects;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE members;
DROP TABLE organizations;
DROP TABLE users;
