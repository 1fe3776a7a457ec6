-- +goose Up
-- Overrides of the built-in message templates, for an organization, one of
-- its projects or one of its integrations (the most specific wins).
CREATE TABLE message_templates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id BIGINT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    project_id      BIGINT REFERENCES projects (id) ON DELETE CASCADE,
    integration_id  BIGINT REFERENCES integrations (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    body            TEXT NOT NULL,
    updated_by      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    date_updated    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX message_templates_scope_idx
    ON message_templates (organization_id, COALESCE(project_id, 0), COALESCE(integration_id, 0), name);

-- +goose Down
DROP TABLE message_templates;
