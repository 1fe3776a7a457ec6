-- +goose Up
-- The built-in email's thread root is found among the issue's earlier
-- deliveries.
CREATE INDEX deliveries_issue_idx ON deliveries (issue_id, id);

-- +goose Down
DROP INDEX deliveries_issue_idx;
