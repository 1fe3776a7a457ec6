-- +goose Up
CREATE TABLE notification_settings (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL DEFAULT 0,
    kind       TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, project_id, kind)
);

-- +goose Down
DROP TABLE notification_settings;
