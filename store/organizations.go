package store

import (
	"context"
	"fmt"
	"time"
)

// Organization is a tenant: everything else belongs to one.
type Organization struct {
	ID          int64
	Slug        string
	Name        string
	Status      string
	DateCreated time.Time
}

// Member is a user's membership in an organization.
type Member struct {
	ID             int64
	OrganizationID int64
	UserID         int64
	Role           Role
	DateCreated    time.Time
}

// OrganizationCreateParams are the fields of a new organization; the owner
// becomes its first member with the owner role.
type OrganizationCreateParams struct {
	Slug    string
	Name    string
	OwnerID int64
}

// OrganizationCreate adds an organization and its owner's membership in one
// transaction; ErrConflict when the slug is taken.
func (s *Store) OrganizationCreate(ctx context.Context, p *OrganizationCreateParams) (*Organization, error) {
	var o *Organization
	err := s.tx(ctx, func(q querier) error {
		var err error
		o, err = s.organizationCreate(ctx, q, p)
		return err
	})
	return o, err
}

func (s *Store) organizationCreate(ctx context.Context, q querier, p *OrganizationCreateParams) (*Organization, error) {
	o := &Organization{Slug: p.Slug, Name: p.Name, Status: "active", DateCreated: now()}
	err := q.queryRow(ctx, `
		INSERT INTO organizations (slug, name, status, date_created)
		VALUES ($1, $2, $3, $4) RETURNING id`, o.Slug, o.Name, o.Status, o.DateCreated).Scan(&o.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("organization %s: %w", p.Slug, ErrConflict)
		}
		return nil, fmt.Errorf("create organization %s: %w", p.Slug, err)
	}
	if p.OwnerID != 0 {
		if _, err := s.memberCreate(ctx, q, o.ID, p.OwnerID, RoleOwner); err != nil {
			return nil, err
		}
	}
	return o, nil
}

const orgColumns = `o.id, o.slug, o.name, o.status, o.date_created`

func scanOrganization(r row, extra ...any) (*Organization, error) {
	var o Organization
	err := r.Scan(append([]any{&o.ID, &o.Slug, &o.Name, &o.Status, &o.DateCreated}, extra...)...)
	return &o, err
}

// OrganizationListForUser lists the organizations the user is a member of,
// oldest first.
func (s *Store) OrganizationListForUser(ctx context.Context, userID int64, page Page) ([]*Organization, error) {
	rs, err := s.r.query(ctx, `
		SELECT `+orgColumns+` FROM organizations o
		JOIN members m ON m.organization_id = o.id
		WHERE m.user_id = $1
		ORDER BY o.id LIMIT $2 OFFSET $3`, userID, page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("list organizations of user %d: %w", userID, err)
	}
	defer rs.Close()
	var out []*Organization
	for rs.Next() {
		o, err := scanOrganization(rs)
		if err != nil {
			return nil, fmt.Errorf("list organizations: %w", err)
		}
		out = append(out, o)
	}
	return out, rs.Err()
}

// Membership resolves an organization by slug (or numeric id, as Sentry
// accepts both) for a user. An organization the user is not a member of is
// ErrNotFound, so its existence is not revealed.
func (s *Store) Membership(ctx context.Context, userID int64, orgSlug string) (*Organization, *Member, error) {
	var m Member
	o, err := scanOrganization(s.r.queryRow(ctx, `
		SELECT `+orgColumns+`, m.id, m.user_id, m.role, m.date_created
		FROM organizations o JOIN members m ON m.organization_id = o.id
		WHERE (o.slug = $1 OR CAST(o.id AS TEXT) = $1) AND m.user_id = $2`, orgSlug, userID),
		&m.ID, &m.UserID, &m.Role, &m.DateCreated)
	if err != nil {
		return nil, nil, notFound(err, "organization "+orgSlug)
	}
	m.OrganizationID = o.ID
	return o, &m, nil
}

// OrganizationGetBySlug returns an organization whoever asks. It is for
// operators' commands only; requests go through Membership.
func (s *Store) OrganizationGetBySlug(ctx context.Context, slug string) (*Organization, error) {
	o, err := scanOrganization(s.r.queryRow(ctx, `SELECT `+orgColumns+` FROM organizations o WHERE o.slug = $1`, slug))
	if err != nil {
		return nil, notFound(err, "organization "+slug)
	}
	return o, nil
}

// OrganizationUpdateParams are the changeable fields; nil leaves a field as is.
type OrganizationUpdateParams struct {
	Slug *string
	Name *string
}

// OrganizationUpdate changes an organization; ErrConflict when the new slug is taken.
func (s *Store) OrganizationUpdate(ctx context.Context, orgID int64, p *OrganizationUpdateParams) (*Organization, error) {
	var o *Organization
	err := s.tx(ctx, func(q querier) error {
		var err error
		o, err = scanOrganization(q.queryRow(ctx, `
			UPDATE organizations SET slug = COALESCE($2, slug), name = COALESCE($3, name)
			WHERE id = $1 RETURNING id, slug, name, status, date_created`, orgID, p.Slug, p.Name))
		if err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("organization %s: %w", *p.Slug, ErrConflict)
			}
			return notFound(err, fmt.Sprintf("organization %d", orgID))
		}
		return nil
	})
	return o, err
}

func (s *Store) memberCreate(ctx context.Context, q querier, orgID, userID int64, role Role) (*Member, error) {
	if !role.Valid() {
		return nil, fmt.Errorf("unknown role %q", role)
	}
	m := &Member{OrganizationID: orgID, UserID: userID, Role: role, DateCreated: now()}
	err := q.queryRow(ctx, `
		INSERT INTO members (organization_id, user_id, role, date_created)
		VALUES ($1, $2, $3, $4) RETURNING id`, orgID, userID, string(role), m.DateCreated).Scan(&m.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("member %d of organization %d: %w", userID, orgID, ErrConflict)
		}
		return nil, fmt.Errorf("add member %d to organization %d: %w", userID, orgID, err)
	}
	return m, nil
}

// MemberCreate adds a user to an organization with a role.
func (s *Store) MemberCreate(ctx context.Context, orgID, userID int64, role Role) (*Member, error) {
	var m *Member
	err := s.tx(ctx, func(q querier) error {
		var err error
		m, err = s.memberCreate(ctx, q, orgID, userID, role)
		return err
	})
	return m, err
}

// MaxRole returns the strongest role the user holds in any organization, ""
// when none; it bounds the scopes a new token of that user gets by default.
func (s *Store) MaxRole(ctx context.Context, userID int64) (Role, error) {
	rs, err := s.r.query(ctx, `SELECT DISTINCT role FROM members WHERE user_id = $1`, userID)
	if err != nil {
		return "", fmt.Errorf("roles of user %d: %w", userID, err)
	}
	defer rs.Close()
	best := -1
	for rs.Next() {
		var r Role
		if err := rs.Scan(&r); err != nil {
			return "", fmt.Errorf("roles of user %d: %w", userID, err)
		}
		for i, known := range Roles {
			if known == r && i > best {
				best = i
			}
		}
	}
	if err := rs.Err(); err != nil {
		return "", fmt.Errorf("roles of user %d: %w", userID, err)
	}
	if best < 0 {
		return "", nil
	}
	return Roles[best], nil
}

// MemberUser is a member of an organization as notifications address them.
type MemberUser struct {
	ID       int64
	Email    string
	Name     string
	IsActive bool
}

// MemberUsers lists the organization's members: those with the given user
// ids, or a team's members (teamID), or all of them when neither is given.
func (s *Store) MemberUsers(ctx context.Context, orgID int64, userIDs []int64, teamID int64) ([]*MemberUser, error) {
	query := `SELECT DISTINCT u.id, u.email, u.name, u.is_active FROM users u
		JOIN members m ON m.user_id = u.id WHERE m.organization_id = $1`
	args := []any{orgID}
	switch {
	case len(userIDs) > 0:
		query += ` AND u.id IN (` + placeholders(2, len(userIDs)) + `)`
		args = append(args, anySlice(userIDs)...)
	case teamID != 0:
		query += ` AND m.id IN (SELECT tm.member_id FROM team_members tm JOIN teams t ON t.id = tm.team_id
			WHERE t.id = $2 AND t.organization_id = $1)`
		args = append(args, teamID)
	}
	rs, err := s.r.query(ctx, query+` ORDER BY u.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("members of organization %d: %w", orgID, err)
	}
	defer rs.Close()
	var out []*MemberUser
	for rs.Next() {
		var u MemberUser
		if err := rs.Scan(&u.ID, &u.Email, &u.Name, &u.IsActive); err != nil {
			return nil, fmt.Errorf("members of organization %d: %w", orgID, err)
		}
		out = append(out, &u)
	}
	return out, rs.Err()
}

// TeamIDBySlug returns a team's id in the organization, 0 when none.
func (s *Store) TeamIDBySlug(ctx context.Context, orgID int64, slug string) (int64, error) {
	var id int64
	err := s.r.queryRow(ctx, `SELECT id FROM teams WHERE organization_id = $1 AND slug = $2`, orgID, slug).Scan(&id)
	if isNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("team %s: %w", slug, err)
	}
	return id, nil
}
