-- +goose Up
CREATE TABLE integrations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider        TEXT NOT NULL,
    name            TEXT NOT NULL,
    config          TEXT NOT NULL DEFAULT '{}',
    secrets         BLOB,
    status          TEXT NOT NULL DEFAULT 'active',
    status_reason   TEXT NOT NULL DEFAULT '',
    date_created    TIMESTAMP NOT NULL,
    date_updated    TIMESTAMP NOT NULL
);
CREATE INDEX integrations_org_idx ON integrations (organization_id);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    integration_id  BIGINT REFERENCES integrations (id) ON DELETE CASCADE,
    provider        TEXT NOT NULL,
    notification_id BIGINT,
    project_id      BIGINT REFERENCES projects (id) ON DELETE CASCADE,
    issue_id        BIGINT REFERENCES issues (id) ON DELETE SET NULL,
    rule_id         BIGINT REFERENCES rules (id) ON DELETE SET NULL,
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL UNIQUE,
    options         TEXT NOT NULL DEFAULT '{}',
    event_id        TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    TIMESTAMP NOT NULL,
    claimed_until   TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT '',
    last_status     INTEGER NOT NULL DEFAULT 0,
    handle          TEXT NOT NULL DEFAULT '',
    url             TEXT NOT NULL DEFAULT '',
    date_created    TIMESTAMP NOT NULL,
    date_delivered  TIMESTAMP
);
CREATE INDEX deliveries_due_idx ON deliveries (status, next_attempt);
CREATE INDEX deliveries_org_idx ON deliveries (organization_id, id);

CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    started     TIMESTAMP NOT NULL,
    duration_ms BIGINT NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    next_attempt TIMESTAMP
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, id);

CREATE TABLE issue_links (
    integration_id BIGINT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    issue_id       BIGINT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    target         TEXT NOT NULL,
    handle         TEXT NOT NULL,
    url            TEXT NOT NULL DEFAULT '',
    date_created   TIMESTAMP NOT NULL,
    PRIMARY KEY (integration_id, issue_id, target)
);
CREATE INDEX issue_links_handle_idx ON issue_links (integration_id, handle);

CREATE TABLE destination_holds (
    integration_id BIGINT NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    destination    TEXT NOT NULL,
    until          TIMESTAMP NOT NULL,
    PRIMARY KEY (integration_id, destination)
);

-- +goose Down
DROP TABLE destination_holds;
DROP TABLE issue_links;
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE integrations;
