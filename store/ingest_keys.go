package store

import (
	"context"
	"fmt"
	"strings"
)

// IngestKey is what ingest needs to know about a client key: whether it may
// send, where to, and its limits. Ingest caches it for a few seconds.
type IngestKey struct {
	Public          string
	Secret          string
	IsActive        bool
	RateLimitCount  int
	RateLimitWindow int
	ProjectID       int64
	ProjectSlug     string
	ProjectActive   bool
	OrganizationID  int64
	// AllowedDomains are the origins browsers may send from ("*" for any).
	AllowedDomains []string
	// EventQuotaPerDay caps accepted events per UTC day; 0 means none.
	EventQuotaPerDay int64
}

// IngestKeyGet looks a client key up by its public part; ErrNotFound when
// no project has it.
func (s *Store) IngestKeyGet(ctx context.Context, public string) (*IngestKey, error) {
	var (
		k       IngestKey
		status  string
		domains string
	)
	err := s.r.queryRow(ctx, `
		SELECT k.public_key, k.secret_key, k.is_active, k.rate_limit_count, k.rate_limit_window,
			p.id, p.slug, p.status, p.organization_id, p.allowed_domains, p.event_quota_per_day
		FROM project_keys k JOIN projects p ON p.id = k.project_id
		WHERE k.public_key = $1`, public).Scan(&k.Public, &k.Secret, &k.IsActive, &k.RateLimitCount,
		&k.RateLimitWindow, &k.ProjectID, &k.ProjectSlug, &status, &k.OrganizationID, &domains, &k.EventQuotaPerDay)
	if err != nil {
		return nil, notFound(err, "key "+public)
	}
	k.ProjectActive = status == "active"
	k.AllowedDomains = strings.Fields(domains)
	return &k, nil
}

// ProjectAcceptedSince counts a project's accepted events of a category
// since a minute (Unix minutes); quotas start from it.
func (s *Store) ProjectAcceptedSince(ctx context.Context, projectID int64, category string, sinceMinute int64) (int64, error) {
	var n int64
	err := s.r.queryRow(ctx, `SELECT COALESCE(SUM(count), 0) FROM project_counts
		WHERE project_id = $1 AND category = $2 AND outcome = 'accepted' AND minute >= $3`,
		projectID, category, sinceMinute).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count accepted events of project %d: %w", projectID, err)
	}
	return n, nil
}
