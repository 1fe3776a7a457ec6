package store

import (
	"context"
	"fmt"
	"time"
)

// Team is a group of members that projects belong to.
type Team struct {
	ID             int64
	OrganizationID int64
	Slug           string
	Name           string
	DateCreated    time.Time
	MemberCount    int
	IsMember       bool // whether the member the team was read for belongs to it
}

// TeamCreateParams are the fields of a new team. When MemberID is set, that
// member joins the team, as Sentry adds the creator.
type TeamCreateParams struct {
	Slug     string
	Name     string
	MemberID int64
}

// TeamCreate adds a team to an organization; ErrConflict when the slug is taken there.
func (s *Store) TeamCreate(ctx context.Context, orgID int64, p *TeamCreateParams) (*Team, error) {
	var t *Team
	err := s.tx(ctx, func(q querier) error {
		var err error
		t, err = s.teamCreate(ctx, q, orgID, p)
		return err
	})
	return t, err
}

func (s *Store) teamCreate(ctx context.Context, q querier, orgID int64, p *TeamCreateParams) (*Team, error) {
	t := &Team{OrganizationID: orgID, Slug: p.Slug, Name: p.Name, DateCreated: now()}
	err := q.queryRow(ctx, `
		INSERT INTO teams (organization_id, slug, name, date_created)
		VALUES ($1, $2, $3, $4) RETURNING id`, orgID, t.Slug, t.Name, t.DateCreated).Scan(&t.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("team %s: %w", p.Slug, ErrConflict)
		}
		return nil, fmt.Errorf("create team %s: %w", p.Slug, err)
	}
	if p.MemberID != 0 {
		if _, err := q.exec(ctx, `INSERT INTO team_members (team_id, member_id) VALUES ($1, $2)`,
			t.ID, p.MemberID); err != nil {
			return nil, fmt.Errorf("add member to team %s: %w", p.Slug, err)
		}
		t.MemberCount, t.IsMember = 1, true
	}
	return t, nil
}

const teamSelect = `
	SELECT t.id, t.organization_id, t.slug, t.name, t.date_created,
		(SELECT COUNT(*) FROM team_members tm WHERE tm.team_id = t.id),
		EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = t.id AND tm.member_id = $2)
	FROM teams t WHERE t.organization_id = $1`

func scanTeam(r row) (*Team, error) {
	var t Team
	err := r.Scan(&t.ID, &t.OrganizationID, &t.Slug, &t.Name, &t.DateCreated, &t.MemberCount, &t.IsMember)
	return &t, err
}

// TeamList lists an organization's teams by slug; memberID fills IsMember.
func (s *Store) TeamList(ctx context.Context, orgID, memberID int64, page Page) ([]*Team, error) {
	rs, err := s.r.query(ctx, teamSelect+` ORDER BY t.slug LIMIT $3 OFFSET $4`,
		orgID, memberID, page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("list teams of organization %d: %w", orgID, err)
	}
	defer rs.Close()
	var out []*Team
	for rs.Next() {
		t, err := scanTeam(rs)
		if err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		out = append(out, t)
	}
	return out, rs.Err()
}

// TeamGet returns an organization's team by slug.
func (s *Store) TeamGet(ctx context.Context, orgID, memberID int64, slug string) (*Team, error) {
	t, err := scanTeam(s.r.queryRow(ctx, teamSelect+` AND t.slug = $3`, orgID, memberID, slug))
	if err != nil {
		return nil, notFound(err, "team "+slug)
	}
	return t, nil
}
