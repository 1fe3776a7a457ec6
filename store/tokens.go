package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBadToken means an API token is unknown, expired, or its user inactive.
var ErrBadToken = errors.New("invalid token")

// APIToken is a user's API token. Only its SHA-256 is stored; the token
// itself is shown once, when it is created.
type APIToken struct {
	ID          int64
	UserID      int64
	Name        string
	Scopes      []string
	Last4       string // the token's last characters, to tell tokens apart in lists
	DateCreated time.Time
	ExpiresAt   *time.Time
	LastUsed    *time.Time
}

// TokenCreateParams are the fields of a new token.
type TokenCreateParams struct {
	Name      string
	Scopes    []string // checked with ValidateScopes
	ExpiresAt *time.Time
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenCreate makes a token for a user and returns it with its record.
// Tokens are 64 lowercase hex characters, the shape of Sentry's user tokens.
func (s *Store) TokenCreate(ctx context.Context, userID int64, p *TokenCreateParams) (string, *APIToken, error) {
	scopes, err := ValidateScopes(p.Scopes)
	if err != nil {
		return "", nil, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("generate token: %w", err)
	}
	token := hex.EncodeToString(b[:])
	t := &APIToken{UserID: userID, Name: p.Name, Scopes: scopes, Last4: token[len(token)-4:],
		DateCreated: now(), ExpiresAt: p.ExpiresAt}
	err = s.tx(ctx, func(q querier) error {
		return q.queryRow(ctx, `
			INSERT INTO api_tokens (user_id, name, token_hash, token_last4, scopes, date_created, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			userID, t.Name, hashToken(token), t.Last4, strings.Join(scopes, " "), t.DateCreated, t.ExpiresAt).Scan(&t.ID)
	})
	if err != nil {
		return "", nil, fmt.Errorf("create token for user %d: %w", userID, err)
	}
	return token, t, nil
}

// tokenTouchInterval limits how often a token's last use is written, so that
// API reads do not each cost a write.
const tokenTouchInterval = time.Minute

// TokenAuthenticate returns the token and its active user; ErrBadToken when
// the token is unknown or expired or its user is inactive.
func (s *Store) TokenAuthenticate(ctx context.Context, token string) (*APIToken, *User, error) {
	if token == "" {
		return nil, nil, ErrBadToken
	}
	var (
		t      APIToken
		scopes string
	)
	u, err := scanUser(s.r.queryRow(ctx, `
		SELECT u.id, u.email, u.name, u.is_superuser, u.is_active, u.date_joined, u.last_login,
			t.id, t.name, t.scopes, t.token_last4, t.date_created, t.expires_at, t.last_used
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1`, hashToken(token)),
		&t.ID, &t.Name, &scopes, &t.Last4, &t.DateCreated, &t.ExpiresAt, &t.LastUsed)
	if err != nil {
		if isNoRows(err) {
			return nil, nil, ErrBadToken
		}
		return nil, nil, fmt.Errorf("authenticate token: %w", err)
	}
	n := now()
	if !u.IsActive || (t.ExpiresAt != nil && !n.Before(*t.ExpiresAt)) {
		return nil, nil, ErrBadToken
	}
	t.UserID = u.ID
	t.Scopes = strings.Fields(scopes)
	if t.LastUsed == nil || n.Sub(*t.LastUsed) >= tokenTouchInterval {
		if _, err := s.w.exec(ctx, `UPDATE api_tokens SET last_used = $1 WHERE id = $2`, n, t.ID); err != nil {
			return nil, nil, fmt.Errorf("record token use: %w", err)
		}
		t.LastUsed = &n
	}
	return &t, u, nil
}
