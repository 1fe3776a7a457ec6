package store

import (
	"context"
	"fmt"
	"time"
)

// MessageTemplate is an override of a built-in message template (by name,
// such as "email/notification.html") for an organization, or only for one
// of its projects or integrations.
type MessageTemplate struct {
	ID             int64
	OrganizationID int64
	ProjectID      *int64
	IntegrationID  *int64
	Name           string
	Body           string
	UpdatedBy      *int64
	DateUpdated    time.Time
}

const templateFields = "id, organization_id, project_id, integration_id, name, body, updated_by, date_updated"

func scanTemplate(r row) (*MessageTemplate, error) {
	var t MessageTemplate
	err := r.Scan(&t.ID, &t.OrganizationID, &t.ProjectID, &t.IntegrationID, &t.Name, &t.Body, &t.UpdatedBy, &t.DateUpdated)
	return &t, err
}

func zeroIfNil(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// TemplatePut saves an override, replacing the one of the same name and
// scope. The project and integration, when given, must be the
// organization's.
func (s *Store) TemplatePut(ctx context.Context, t *MessageTemplate) (*MessageTemplate, error) {
	var out *MessageTemplate
	err := s.tx(ctx, func(q querier) error {
		if t.ProjectID != nil {
			if err := projectInOrg(ctx, q, t.OrganizationID, *t.ProjectID); err != nil {
				return err
			}
		}
		if t.IntegrationID != nil {
			var one int
			if err := q.queryRow(ctx, `SELECT 1 FROM integrations WHERE id = $1 AND organization_id = $2`,
				*t.IntegrationID, t.OrganizationID).Scan(&one); err != nil {
				return notFound(err, fmt.Sprintf("integration %d", *t.IntegrationID))
			}
		}
		var err error
		out, err = scanTemplate(q.queryRow(ctx, `INSERT INTO message_templates (organization_id, project_id,
				integration_id, name, body, updated_by, date_updated) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (organization_id, COALESCE(project_id, 0), COALESCE(integration_id, 0), name)
			DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, date_updated = excluded.date_updated
			RETURNING `+templateFields, t.OrganizationID, t.ProjectID, t.IntegrationID, t.Name, t.Body, t.UpdatedBy, now()))
		if err != nil {
			return fmt.Errorf("save template %s: %w", t.Name, err)
		}
		return nil
	})
	return out, err
}

// TemplateGet returns the override of a name in exactly this scope.
func (s *Store) TemplateGet(ctx context.Context, orgID int64, projectID, integrationID *int64, name string) (*MessageTemplate, error) {
	t, err := scanTemplate(s.r.queryRow(ctx, `SELECT `+templateFields+` FROM message_templates
		WHERE organization_id = $1 AND COALESCE(project_id, 0) = $2 AND COALESCE(integration_id, 0) = $3 AND name = $4`,
		orgID, zeroIfNil(projectID), zeroIfNil(integrationID), name))
	if err != nil {
		return nil, notFound(err, "template "+name)
	}
	return t, nil
}

// TemplateDelete removes the override of a name in exactly this scope.
func (s *Store) TemplateDelete(ctx context.Context, orgID int64, projectID, integrationID *int64, name string) error {
	n, err := s.w.exec(ctx, `DELETE FROM message_templates WHERE organization_id = $1
		AND COALESCE(project_id, 0) = $2 AND COALESCE(integration_id, 0) = $3 AND name = $4`,
		orgID, zeroIfNil(projectID), zeroIfNil(integrationID), name)
	if err != nil {
		return fmt.Errorf("delete template %s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("template %s: %w", name, ErrNotFound)
	}
	return nil
}

// TemplateList lists an organization's overrides.
func (s *Store) TemplateList(ctx context.Context, orgID int64) ([]*MessageTemplate, error) {
	rs, err := s.r.query(ctx, `SELECT `+templateFields+` FROM message_templates WHERE organization_id = $1
		ORDER BY name, COALESCE(project_id, 0), COALESCE(integration_id, 0)`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	defer rs.Close()
	var out []*MessageTemplate
	for rs.Next() {
		t, err := scanTemplate(rs)
		if err != nil {
			return nil, fmt.Errorf("list templates: %w", err)
		}
		out = append(out, t)
	}
	return out, rs.Err()
}

// TemplatesFor returns the overrides that apply to a message of the
// organization about the project through the integration (either may be
// nil): by name, the integration's, else the project's, else the
// organization's.
func (s *Store) TemplatesFor(ctx context.Context, orgID int64, projectID, integrationID *int64) (map[string]string, error) {
	rs, err := s.r.query(ctx, `SELECT name, body, project_id IS NOT NULL, integration_id IS NOT NULL
		FROM message_templates WHERE organization_id = $1
			AND (project_id IS NULL OR project_id = $2) AND (integration_id IS NULL OR integration_id = $3)`,
		orgID, zeroIfNil(projectID), zeroIfNil(integrationID))
	if err != nil {
		return nil, fmt.Errorf("templates of organization %d: %w", orgID, err)
	}
	defer rs.Close()
	out := map[string]string{}
	rank := map[string]int{}
	for rs.Next() {
		var name, body string
		var forProject, forIntegration bool
		if err := rs.Scan(&name, &body, &forProject, &forIntegration); err != nil {
			return nil, fmt.Errorf("templates of organization %d: %w", orgID, err)
		}
		r := 1
		switch {
		case forIntegration:
			r = 3
		case forProject:
			r = 2
		}
		if r > rank[name] {
			out[name], rank[name] = body, r
		}
	}
	return out, rs.Err()
}
