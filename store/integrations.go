package store

import (
	"context"
	"fmt"
	"time"
)

// Integration is a configured service of an organization: Slack, GitHub,
// Trello, email, a webhook, or a Sentry bridge. Secrets are stored sealed
// (integrations.SecretBox); the store never sees them in the clear.
type Integration struct {
	ID             int64
	OrganizationID int64
	Provider       string
	Name           string
	Config         string // JSON of the non-secret settings
	Secrets        []byte // sealed JSON of the secret settings
	Status         string // active, unhealthy, disabled
	StatusReason   string
	DateCreated    time.Time
	DateUpdated    time.Time
}

// Integration statuses.
const (
	IntegrationActive    = "active"
	IntegrationUnhealthy = "unhealthy"
	IntegrationDisabled  = "disabled"
)

const integrationColumns = `id, organization_id, provider, name, config, secrets, status, status_reason,
	date_created, date_updated`

func scanIntegration(r row) (*Integration, error) {
	var in Integration
	err := r.Scan(&in.ID, &in.OrganizationID, &in.Provider, &in.Name, &in.Config, &in.Secrets, &in.Status,
		&in.StatusReason, &in.DateCreated, &in.DateUpdated)
	return &in, err
}

// IntegrationCreate adds an integration; seal is called with the new id
// to seal the secrets, in the same transaction, because the seal binds them
// to the id.
func (s *Store) IntegrationCreate(ctx context.Context, in *Integration, seal func(id int64) ([]byte, error)) (*Integration, error) {
	var out *Integration
	err := s.tx(ctx, func(q querier) error {
		n := now()
		var id int64
		if err := q.queryRow(ctx, `INSERT INTO integrations (organization_id, provider, name, config, status,
			date_created, date_updated) VALUES ($1, $2, $3, $4, 'active', $5, $5) RETURNING id`,
			in.OrganizationID, in.Provider, in.Name, in.Config, n).Scan(&id); err != nil {
			return fmt.Errorf("create integration %q: %w", in.Name, err)
		}
		sealed, err := seal(id)
		if err != nil {
			return err
		}
		out, err = scanIntegration(q.queryRow(ctx, `UPDATE integrations SET secrets = $2 WHERE id = $1
			RETURNING `+integrationColumns, id, sealed))
		if err != nil {
			return fmt.Errorf("create integration %q: %w", in.Name, err)
		}
		return nil
	})
	return out, err
}

// IntegrationUpdate changes an integration's name, settings and secrets.
func (s *Store) IntegrationUpdate(ctx context.Context, in *Integration) (*Integration, error) {
	out, err := scanIntegration(s.w.queryRow(ctx, `UPDATE integrations SET name = $3, config = $4, secrets = $5,
		status = CASE WHEN status = 'unhealthy' THEN 'active' ELSE status END, status_reason = '', date_updated = $6
		WHERE organization_id = $1 AND id = $2 RETURNING `+integrationColumns,
		in.OrganizationID, in.ID, in.Name, in.Config, in.Secrets, now()))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("integration %d", in.ID))
	}
	return out, nil
}

// IntegrationGet returns an integration of the organization.
func (s *Store) IntegrationGet(ctx context.Context, orgID, id int64) (*Integration, error) {
	in, err := scanIntegration(s.r.queryRow(ctx, `SELECT `+integrationColumns+` FROM integrations
		WHERE organization_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("integration %d", id))
	}
	return in, nil
}

// IntegrationList lists the organization's integrations, oldest first.
func (s *Store) IntegrationList(ctx context.Context, orgID int64, page Page) ([]*Integration, error) {
	rs, err := s.r.query(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE organization_id = $1
		ORDER BY id LIMIT $2 OFFSET $3`, orgID, page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("list integrations: %w", err)
	}
	defer rs.Close()
	var out []*Integration
	for rs.Next() {
		in, err := scanIntegration(rs)
		if err != nil {
			return nil, fmt.Errorf("list integrations: %w", err)
		}
		out = append(out, in)
	}
	return out, rs.Err()
}

// IntegrationDelete removes an integration with its deliveries and links.
func (s *Store) IntegrationDelete(ctx context.Context, orgID, id int64) error {
	n, err := s.w.exec(ctx, `DELETE FROM integrations WHERE organization_id = $1 AND id = $2`, orgID, id)
	if err != nil {
		return fmt.Errorf("delete integration %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("integration %d: %w", id, ErrNotFound)
	}
	return nil
}

// IntegrationSetStatus marks an integration healthy or not, with the reason
// people see in the API (a revoked token, an unknown channel).
func (s *Store) IntegrationSetStatus(ctx context.Context, id int64, status, reason string) error {
	if _, err := s.w.exec(ctx, `UPDATE integrations SET status = $2, status_reason = $3 WHERE id = $1
		AND status <> 'disabled'`, id, status, truncateRunes(reason, 1000)); err != nil {
		return fmt.Errorf("set status of integration %d: %w", id, err)
	}
	return nil
}

// IntegrationsByProvider lists the integrations of a provider across
// organizations. Inbound webhooks use it to find which integration a
// request's signature belongs to; callers must then stay inside that
// integration's organization.
func (s *Store) IntegrationsByProvider(ctx context.Context, provider string) ([]*Integration, error) {
	rs, err := s.r.query(ctx, `SELECT `+integrationColumns+` FROM integrations WHERE provider = $1
		AND status <> 'disabled' ORDER BY id`, provider)
	if err != nil {
		return nil, fmt.Errorf("integrations of %s: %w", provider, err)
	}
	defer rs.Close()
	var out []*Integration
	for rs.Next() {
		in, err := scanIntegration(rs)
		if err != nil {
			return nil, fmt.Errorf("integrations of %s: %w", provider, err)
		}
		out = append(out, in)
	}
	return out, rs.Err()
}

// IntegrationMarkHealthy clears an unhealthy mark after a delivery went
// through; it writes nothing when the integration was healthy.
func (s *Store) IntegrationMarkHealthy(ctx context.Context, id int64) error {
	var status string
	if err := s.r.queryRow(ctx, `SELECT status FROM integrations WHERE id = $1`, id).Scan(&status); err != nil {
		return notFound(err, fmt.Sprintf("integration %d", id))
	}
	if status != IntegrationUnhealthy {
		return nil
	}
	return s.IntegrationSetStatus(ctx, id, IntegrationActive, "")
}
