package store

import (
	"context"
	"fmt"
)

// NotificationSetting says whether a user gets email of a kind (alerts,
// workflow changes) for a project, or for every project (ProjectID 0).
// A project's setting wins over the every-project one; none means yes.
type NotificationSetting struct {
	UserID    int64
	ProjectID int64
	Kind      string // alerts or workflow
	Enabled   bool
}

// Notification setting kinds.
const (
	NotifyAlerts   = "alerts"
	NotifyWorkflow = "workflow"
)

// NotificationSettingSet records a user's choice.
func (s *Store) NotificationSettingSet(ctx context.Context, ns *NotificationSetting) error {
	if ns.Kind != NotifyAlerts && ns.Kind != NotifyWorkflow {
		return fmt.Errorf("notification kind %q: want alerts or workflow", ns.Kind)
	}
	if _, err := s.w.exec(ctx, `INSERT INTO notification_settings (user_id, project_id, kind, enabled)
		VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, project_id, kind) DO UPDATE SET enabled = excluded.enabled`,
		ns.UserID, ns.ProjectID, ns.Kind, ns.Enabled); err != nil {
		return fmt.Errorf("save notification setting of user %d: %w", ns.UserID, err)
	}
	return nil
}

// NotificationSettings lists a user's choices.
func (s *Store) NotificationSettings(ctx context.Context, userID int64) ([]*NotificationSetting, error) {
	rs, err := s.r.query(ctx, `SELECT user_id, project_id, kind, enabled FROM notification_settings
		WHERE user_id = $1 ORDER BY project_id, kind`, userID)
	if err != nil {
		return nil, fmt.Errorf("notification settings of user %d: %w", userID, err)
	}
	defer rs.Close()
	var out []*NotificationSetting
	for rs.Next() {
		var ns NotificationSetting
		if err := rs.Scan(&ns.UserID, &ns.ProjectID, &ns.Kind, &ns.Enabled); err != nil {
			return nil, fmt.Errorf("notification settings of user %d: %w", userID, err)
		}
		out = append(out, &ns)
	}
	return out, rs.Err()
}

// NotificationsMuted returns which of the users turned off email of a kind
// for the project.
func (s *Store) NotificationsMuted(ctx context.Context, projectID int64, kind string, userIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(userIDs) == 0 {
		return out, nil
	}
	args := append([]any{projectID, kind}, anySlice(userIDs)...)
	rs, err := s.r.query(ctx, `SELECT user_id, project_id, enabled FROM notification_settings
		WHERE (project_id = $1 OR project_id = 0) AND kind = $2 AND user_id IN (`+placeholders(3, len(userIDs))+`)
		ORDER BY project_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("notification settings: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			uid, pid int64
			enabled  bool
		)
		if err := rs.Scan(&uid, &pid, &enabled); err != nil {
			return nil, fmt.Errorf("notification settings: %w", err)
		}
		out[uid] = !enabled // ordered by project: the project's own setting comes last and wins
	}
	return out, rs.Err()
}

// ProjectOrganization returns the slug of a project's organization, for
// checks of membership when only the project id is known.
func (s *Store) ProjectOrganization(ctx context.Context, projectID int64) (string, int64, error) {
	var (
		slug  string
		orgID int64
	)
	err := s.r.queryRow(ctx, `SELECT o.slug, o.id FROM projects p JOIN organizations o ON o.id = p.organization_id
		WHERE p.id = $1`, projectID).Scan(&slug, &orgID)
	if err != nil {
		return "", 0, notFound(err, fmt.Sprintf("project %d", projectID))
	}
	return slug, orgID, nil
}
