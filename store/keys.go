package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ProjectKey is a client key (DSN) of a project.
type ProjectKey struct {
	ID        int64
	ProjectID int64
	Label     string
	// Public and Secret are 32 lowercase hex characters, the shape old
	// Sentry clients insist on.
	Public          string
	Secret          string
	IsActive        bool
	RateLimitCount  int // events allowed per RateLimitWindow seconds; 0 means no limit
	RateLimitWindow int
	DateCreated     time.Time
}

// KeyCreateParams are the fields of a new client key.
type KeyCreateParams struct {
	Label string
}

func newKeyHex() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// KeyCreate adds a client key to a project of an organization.
func (s *Store) KeyCreate(ctx context.Context, orgID, projectID int64, p *KeyCreateParams) (*ProjectKey, error) {
	var k *ProjectKey
	err := s.tx(ctx, func(q querier) error {
		if err := projectInOrg(ctx, q, orgID, projectID); err != nil {
			return err
		}
		var err error
		k, err = s.keyCreate(ctx, q, projectID, p)
		return err
	})
	return k, err
}

func projectInOrg(ctx context.Context, q querier, orgID, projectID int64) error {
	var one int
	err := q.queryRow(ctx, `SELECT 1 FROM projects WHERE id = $1 AND organization_id = $2`,
		projectID, orgID).Scan(&one)
	if err != nil {
		return notFound(err, fmt.Sprintf("project %d", projectID))
	}
	return nil
}

func (s *Store) keyCreate(ctx context.Context, q querier, projectID int64, p *KeyCreateParams) (*ProjectKey, error) {
	pub, err := newKeyHex()
	if err != nil {
		return nil, err
	}
	sec, err := newKeyHex()
	if err != nil {
		return nil, err
	}
	k := &ProjectKey{ProjectID: projectID, Label: p.Label, Public: pub, Secret: sec, IsActive: true, DateCreated: now()}
	err = q.queryRow(ctx, `
		INSERT INTO project_keys (project_id, label, public_key, secret_key, is_active, date_created)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		projectID, k.Label, k.Public, k.Secret, k.IsActive, k.DateCreated).Scan(&k.ID)
	if err != nil {
		return nil, fmt.Errorf("create key for project %d: %w", projectID, err)
	}
	return k, nil
}

const keySelect = `
	SELECT k.id, k.project_id, k.label, k.public_key, k.secret_key, k.is_active,
		k.rate_limit_count, k.rate_limit_window, k.date_created
	FROM project_keys k JOIN projects p ON p.id = k.project_id
	WHERE p.organization_id = $1 AND k.project_id = $2`

func scanKey(r row) (*ProjectKey, error) {
	var k ProjectKey
	err := r.Scan(&k.ID, &k.ProjectID, &k.Label, &k.Public, &k.Secret, &k.IsActive,
		&k.RateLimitCount, &k.RateLimitWindow, &k.DateCreated)
	return &k, err
}

// KeyList lists a project's client keys, oldest first.
func (s *Store) KeyList(ctx context.Context, orgID, projectID int64, page Page) ([]*ProjectKey, error) {
	rs, err := s.r.query(ctx, keySelect+` ORDER BY k.id LIMIT $3 OFFSET $4`, orgID, projectID, page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("list keys of project %d: %w", projectID, err)
	}
	defer rs.Close()
	var out []*ProjectKey
	for rs.Next() {
		k, err := scanKey(rs)
		if err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rs.Err()
}

// KeyGet returns a project's key by its public key, which is its id in
// Sentry's API.
func (s *Store) KeyGet(ctx context.Context, orgID, projectID int64, public string) (*ProjectKey, error) {
	k, err := scanKey(s.r.queryRow(ctx, keySelect+` AND k.public_key = $3`, orgID, projectID, public))
	if err != nil {
		return nil, notFound(err, "key "+public)
	}
	return k, nil
}

// KeyUpdateParams are the changeable fields; nil leaves a field as is.
type KeyUpdateParams struct {
	Label           *string
	IsActive        *bool
	RateLimitCount  *int
	RateLimitWindow *int
}

// KeyUpdate changes a project's key.
func (s *Store) KeyUpdate(ctx context.Context, orgID, projectID int64, public string, p *KeyUpdateParams) (*ProjectKey, error) {
	var k *ProjectKey
	err := s.tx(ctx, func(q querier) error {
		if err := projectInOrg(ctx, q, orgID, projectID); err != nil {
			return err
		}
		var err error
		k, err = scanKey(q.queryRow(ctx, `
			UPDATE project_keys SET label = COALESCE($3, label), is_active = COALESCE($4, is_active),
				rate_limit_count = COALESCE($5, rate_limit_count),
				rate_limit_window = COALESCE($6, rate_limit_window)
			WHERE project_id = $1 AND public_key = $2
			RETURNING id, project_id, label, public_key, secret_key, is_active,
				rate_limit_count, rate_limit_window, date_created`,
			projectID, public, p.Label, p.IsActive, p.RateLimitCount, p.RateLimitWindow))
		if err != nil {
			return notFound(err, "key "+public)
		}
		return nil
	})
	return k, err
}

// KeyDelete removes a project's key; clients using it are refused from then on.
func (s *Store) KeyDelete(ctx context.Context, orgID, projectID int64, public string) error {
	return s.tx(ctx, func(q querier) error {
		if err := projectInOrg(ctx, q, orgID, projectID); err != nil {
			return err
		}
		n, err := q.exec(ctx, `DELETE FROM project_keys WHERE project_id = $1 AND public_key = $2`, projectID, public)
		if err != nil {
			return fmt.Errorf("delete key %s: %w", public, err)
		}
		if n == 0 {
			return fmt.Errorf("key %s: %w", public, ErrNotFound)
		}
		return nil
	})
}

// DSN is the key's client address, {scheme}://{public}@{host}{path}/{project id}.
func (k *ProjectKey) DSN(baseURL string) string {
	return k.dsn(baseURL, false)
}

// SecretDSN is the legacy form with the secret key that old clients use.
func (k *ProjectKey) SecretDSN(baseURL string) string {
	return k.dsn(baseURL, true)
}

func (k *ProjectKey) dsn(baseURL string, secret bool) string {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return ""
	}
	if secret {
		u.User = url.UserPassword(k.Public, k.Secret)
	} else {
		u.User = url.User(k.Public)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/" + strconv.FormatInt(k.ProjectID, 10)
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}
