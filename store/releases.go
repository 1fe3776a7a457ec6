package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Release is a version of an organization's software, seen in events or
// created by sentry-cli.
type Release struct {
	ID           int64
	Version      string
	Ref          string
	URL          string
	DateCreated  time.Time
	DateReleased *time.Time
	FirstEvent   *time.Time
	LastEvent    *time.Time
	NewGroups    int
	Projects     []ProjectRef
}

// ProjectRef names a project a release belongs to.
type ProjectRef struct {
	ID       int64
	Slug     string
	Name     string
	Platform string
}

// ReleaseParams are the fields of a release that clients set.
type ReleaseParams struct {
	Version      string
	Ref          *string
	URL          *string
	DateReleased *time.Time
	ProjectIDs   []int64
}

// ReleaseUpsert creates a release or adds projects and fields to an
// existing one; created reports which (Sentry answers 201 or 208).
func (s *Store) ReleaseUpsert(ctx context.Context, orgID int64, p *ReleaseParams) (*Release, bool, error) {
	var (
		rel     *Release
		created bool
	)
	err := s.tx(ctx, func(q querier) error {
		var id int64
		err := q.queryRow(ctx, `SELECT id FROM releases WHERE organization_id = $1 AND version = $2`,
			orgID, p.Version).Scan(&id)
		switch {
		case isNoRows(err):
			created = true
			err = q.queryRow(ctx, `INSERT INTO releases (organization_id, version, ref, url, date_created, date_released)
				VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, ''), $5, $6)
				ON CONFLICT (organization_id, version) DO UPDATE SET version = excluded.version
				RETURNING id`, orgID, p.Version, p.Ref, p.URL, now(), p.DateReleased).Scan(&id)
			if err != nil {
				return fmt.Errorf("create release %s: %w", p.Version, err)
			}
		case err != nil:
			return fmt.Errorf("find release %s: %w", p.Version, err)
		default:
			if _, err := q.exec(ctx, `UPDATE releases SET ref = COALESCE($2, ref), url = COALESCE($3, url),
				date_released = COALESCE($4, date_released) WHERE id = $1`, id, p.Ref, p.URL, p.DateReleased); err != nil {
				return fmt.Errorf("update release %s: %w", p.Version, err)
			}
		}
		for _, pid := range p.ProjectIDs {
			if err := projectInOrg(ctx, q, orgID, pid); err != nil {
				return err
			}
			if _, err := q.exec(ctx, `INSERT INTO release_projects (release_id, project_id) VALUES ($1, $2)
				ON CONFLICT (release_id, project_id) DO NOTHING`, id, pid); err != nil {
				return fmt.Errorf("add project to release %s: %w", p.Version, err)
			}
		}
		rels, err := s.releases(ctx, q, orgID, "r.id = $2", []any{id}, Page{Limit: 1})
		if err != nil {
			return err
		}
		rel = rels[0]
		return nil
	})
	return rel, created, err
}

// ReleaseGet returns a release of the organization by version.
func (s *Store) ReleaseGet(ctx context.Context, orgID int64, version string) (*Release, error) {
	rels, err := s.releases(ctx, s.r, orgID, "r.version = $2", []any{version}, Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(rels) == 0 {
		return nil, fmt.Errorf("release %s: %w", version, ErrNotFound)
	}
	return rels[0], nil
}

// ReleaseList lists the organization's releases, newest first; a non-zero
// projectID keeps that project's, query filters versions by substring.
func (s *Store) ReleaseList(ctx context.Context, orgID, projectID int64, query string, page Page) ([]*Release, error) {
	return s.releases(ctx, s.r, orgID,
		"($2 = 0 OR r.id IN (SELECT release_id FROM release_projects WHERE project_id = $2)) AND r.version LIKE $3 ESCAPE '\\'",
		[]any{projectID, "%" + escapeLike(query) + "%"}, page)
}

// LatestRelease is the project's most recently created release, "" when none.
func (s *Store) LatestRelease(ctx context.Context, projectID int64) (string, error) {
	var v string
	err := s.r.queryRow(ctx, `SELECT r.version FROM releases r JOIN release_projects rp ON rp.release_id = r.id
		WHERE rp.project_id = $1 ORDER BY r.date_created DESC, r.id DESC LIMIT 1`, projectID).Scan(&v)
	if isNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("latest release of project %d: %w", projectID, err)
	}
	return v, nil
}

func (s *Store) releases(ctx context.Context, q querier, orgID int64, where string, args []any, page Page) ([]*Release, error) {
	n := len(args) + 2
	rs, err := q.query(ctx, `SELECT r.id, r.version, r.ref, r.url, r.date_created, r.date_released, r.first_event,
		r.last_event, r.new_groups FROM releases r WHERE r.organization_id = $1 AND `+where+`
		ORDER BY r.date_created DESC, r.id DESC LIMIT $`+fmt.Sprint(n)+` OFFSET $`+fmt.Sprint(n+1),
		append(append([]any{orgID}, args...), page.Limit, page.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	var out []*Release
	for rs.Next() {
		var r Release
		if err := rs.Scan(&r.ID, &r.Version, &r.Ref, &r.URL, &r.DateCreated, &r.DateReleased, &r.FirstEvent,
			&r.LastEvent, &r.NewGroups); err != nil {
			rs.Close()
			return nil, fmt.Errorf("list releases: %w", err)
		}
		out = append(out, &r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	byID := map[int64]*Release{}
	ids := make([]any, 0, len(out))
	for _, r := range out {
		byID[r.ID] = r
		ids = append(ids, r.ID)
	}
	prs, err := q.query(ctx, `SELECT rp.release_id, p.id, p.slug, p.name, p.platform FROM release_projects rp
		JOIN projects p ON p.id = rp.project_id WHERE rp.release_id IN (`+placeholders(1, len(ids))+`)
		ORDER BY p.slug`, ids...)
	if err != nil {
		return nil, fmt.Errorf("release projects: %w", err)
	}
	defer prs.Close()
	for prs.Next() {
		var (
			rid int64
			p   ProjectRef
		)
		if err := prs.Scan(&rid, &p.ID, &p.Slug, &p.Name, &p.Platform); err != nil {
			return nil, fmt.Errorf("release projects: %w", err)
		}
		byID[rid].Projects = append(byID[rid].Projects, p)
	}
	return out, prs.Err()
}

// ValidVersion checks a release version as Sentry does: not empty, at most
// 200 characters, no line breaks or slashes-only, not "." or "..", not "latest".
func ValidVersion(v string) bool {
	return v != "" && len(v) <= 200 && !strings.ContainsAny(v, "\r\n\t\x0c") && v != "." && v != ".." &&
		!strings.EqualFold(v, "latest")
}
