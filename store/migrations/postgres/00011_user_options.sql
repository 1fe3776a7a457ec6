-- +goose Up
-- A user's language and time zone, for the email they get ('' is the
-- default: English, UTC).
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN timezone TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN timezone;
ALTER TABLE users DROP COLUMN language;
