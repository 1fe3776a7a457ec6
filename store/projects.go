package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Project is where events arrive; it belongs to an organization and to teams.
type Project struct {
	ID             int64
	OrganizationID int64
	Slug           string
	Name           string
	Platform       string
	Status         string
	DateCreated    time.Time
	FirstEvent     *time.Time
	Teams          []TeamRef
	// AllowedDomains are the origins browser SDKs may send from; "*" is any.
	AllowedDomains []string
	// EventQuotaPerDay caps accepted error events per UTC day; 0 is no cap.
	EventQuotaPerDay int64
}

// TeamRef names a team a project belongs to.
type TeamRef struct {
	ID   int64
	Slug string
	Name string
}

// ProjectCreateParams are the fields of a new project.
type ProjectCreateParams struct {
	Slug     string
	Name     string
	Platform string
}

// ProjectCreate adds a project under a team with its first client key, in
// one transaction, as Sentry does; ErrConflict when the slug is taken in the
// organization.
func (s *Store) ProjectCreate(ctx context.Context, orgID, teamID int64, p *ProjectCreateParams) (*Project, *ProjectKey, error) {
	var (
		pr  *Project
		key *ProjectKey
	)
	err := s.tx(ctx, func(q querier) error {
		var err error
		pr, key, err = s.projectCreate(ctx, q, orgID, teamID, p)
		return err
	})
	return pr, key, err
}

func (s *Store) projectCreate(ctx context.Context, q querier, orgID, teamID int64, p *ProjectCreateParams) (*Project, *ProjectKey, error) {
	pr := &Project{OrganizationID: orgID, Slug: p.Slug, Name: p.Name, Platform: p.Platform,
		Status: "active", DateCreated: now()}
	var team TeamRef
	err := q.queryRow(ctx, `SELECT id, slug, name FROM teams WHERE id = $1 AND organization_id = $2`,
		teamID, orgID).Scan(&team.ID, &team.Slug, &team.Name)
	if err != nil {
		return nil, nil, notFound(err, fmt.Sprintf("team %d", teamID))
	}
	err = q.queryRow(ctx, `
		INSERT INTO projects (organization_id, slug, name, platform, status, date_created)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		orgID, pr.Slug, pr.Name, pr.Platform, pr.Status, pr.DateCreated).Scan(&pr.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, nil, fmt.Errorf("project %s: %w", p.Slug, ErrConflict)
		}
		return nil, nil, fmt.Errorf("create project %s: %w", p.Slug, err)
	}
	if _, err := q.exec(ctx, `INSERT INTO project_teams (project_id, team_id) VALUES ($1, $2)`,
		pr.ID, teamID); err != nil {
		return nil, nil, fmt.Errorf("add project %s to team %s: %w", p.Slug, team.Slug, err)
	}
	pr.Teams = []TeamRef{team}
	if _, err := ruleInsert(ctx, q, defaultRule(pr.ID)); err != nil {
		return nil, nil, err
	}
	key, err := s.keyCreate(ctx, q, pr.ID, &KeyCreateParams{Label: "Default"})
	if err != nil {
		return nil, nil, err
	}
	return pr, key, nil
}

const projectSelect = `
	SELECT id, organization_id, slug, name, platform, status, date_created, first_event,
		allowed_domains, event_quota_per_day
	FROM projects WHERE organization_id = $1`

func scanProject(r row) (*Project, error) {
	var (
		p       Project
		domains string
	)
	err := r.Scan(&p.ID, &p.OrganizationID, &p.Slug, &p.Name, &p.Platform, &p.Status, &p.DateCreated, &p.FirstEvent,
		&domains, &p.EventQuotaPerDay)
	p.AllowedDomains = strings.Fields(domains)
	return &p, err
}

// ProjectList lists an organization's projects by slug, with their teams;
// a non-zero teamID lists only that team's projects.
func (s *Store) ProjectList(ctx context.Context, orgID, teamID int64, page Page) ([]*Project, error) {
	rs, err := s.r.query(ctx, projectSelect+`
		AND ($2 = 0 OR id IN (SELECT project_id FROM project_teams WHERE team_id = $2))
		ORDER BY slug LIMIT $3 OFFSET $4`, orgID, teamID, page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("list projects of organization %d: %w", orgID, err)
	}
	var out []*Project
	for rs.Next() {
		p, err := scanProject(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("list projects: %w", err)
		}
		out = append(out, p)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	if err := s.loadProjectTeams(ctx, s.r, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ProjectGet returns an organization's project by slug (or numeric id).
func (s *Store) ProjectGet(ctx context.Context, orgID int64, slug string) (*Project, error) {
	p, err := scanProject(s.r.queryRow(ctx, projectSelect+` AND (slug = $2 OR CAST(id AS TEXT) = $2)`, orgID, slug))
	if err != nil {
		return nil, notFound(err, "project "+slug)
	}
	if err := s.loadProjectTeams(ctx, s.r, []*Project{p}); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Store) loadProjectTeams(ctx context.Context, q querier, projects []*Project) error {
	if len(projects) == 0 {
		return nil
	}
	byID := make(map[int64]*Project, len(projects))
	args := make([]any, 0, len(projects))
	for _, p := range projects {
		byID[p.ID] = p
		p.Teams = nil
		args = append(args, p.ID)
	}
	rs, err := q.query(ctx, `
		SELECT pt.project_id, t.id, t.slug, t.name FROM project_teams pt
		JOIN teams t ON t.id = pt.team_id
		WHERE pt.project_id IN (`+placeholders(1, len(args))+`) ORDER BY t.slug`, args...)
	if err != nil {
		return fmt.Errorf("load project teams: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			pid int64
			t   TeamRef
		)
		if err := rs.Scan(&pid, &t.ID, &t.Slug, &t.Name); err != nil {
			return fmt.Errorf("load project teams: %w", err)
		}
		byID[pid].Teams = append(byID[pid].Teams, t)
	}
	return rs.Err()
}

// ProjectUpdateParams are the changeable fields; nil leaves a field as is.
type ProjectUpdateParams struct {
	Slug             *string
	Name             *string
	Platform         *string
	AllowedDomains   []string // nil leaves them
	EventQuotaPerDay *int64
}

// ProjectUpdate changes a project of an organization.
func (s *Store) ProjectUpdate(ctx context.Context, orgID, projectID int64, p *ProjectUpdateParams) (*Project, error) {
	var pr *Project
	err := s.tx(ctx, func(q querier) error {
		var err error
		pr, err = scanProject(q.queryRow(ctx, `
			UPDATE projects SET slug = COALESCE($3, slug), name = COALESCE($4, name),
				platform = COALESCE($5, platform), allowed_domains = COALESCE($6, allowed_domains),
				event_quota_per_day = COALESCE($7, event_quota_per_day)
			WHERE organization_id = $1 AND id = $2
			RETURNING id, organization_id, slug, name, platform, status, date_created, first_event,
				allowed_domains, event_quota_per_day`,
			orgID, projectID, p.Slug, p.Name, p.Platform, domainsArg(p.AllowedDomains), p.EventQuotaPerDay))
		if err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("project %s: %w", *p.Slug, ErrConflict)
			}
			return notFound(err, fmt.Sprintf("project %d", projectID))
		}
		return s.loadProjectTeams(ctx, q, []*Project{pr})
	})
	return pr, err
}

func domainsArg(d []string) *string {
	if d == nil {
		return nil
	}
	s := strings.Join(d, " ")
	return &s
}

// ProjectDelete removes a project of an organization with everything in it.
func (s *Store) ProjectDelete(ctx context.Context, orgID, projectID int64) error {
	return s.tx(ctx, func(q querier) error {
		n, err := q.exec(ctx, `DELETE FROM projects WHERE organization_id = $1 AND id = $2`, orgID, projectID)
		if err != nil {
			return fmt.Errorf("delete project %d: %w", projectID, err)
		}
		if n == 0 {
			return fmt.Errorf("project %d: %w", projectID, ErrNotFound)
		}
		return nil
	})
}
