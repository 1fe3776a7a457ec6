package store

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// ErrBadCredentials means an email and password did not match an active user.
var ErrBadCredentials = errors.New("bad credentials")

// User is a person who signs in to Tocsin.
type User struct {
	ID          int64
	Email       string
	Name        string
	IsSuperuser bool
	IsActive    bool
	DateJoined  time.Time
	LastLogin   *time.Time
}

// UserCreateParams are the fields of a new user.
type UserCreateParams struct {
	Email       string
	Name        string
	Password    string // plain text; stored as a bcrypt hash
	IsSuperuser bool
}

// Password length bounds: bcrypt reads at most 72 bytes.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 72
)

// NormalizeEmail checks an address and returns it lowercased, the form
// users are stored and looked up by.
func NormalizeEmail(email string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Name != "" || addr.Address != strings.TrimSpace(email) {
		return "", fmt.Errorf("invalid email address %q", email)
	}
	return strings.ToLower(addr.Address), nil
}

// ValidatePassword checks the length bounds.
func ValidatePassword(pw string) error {
	if len(pw) < MinPasswordLength {
		return fmt.Errorf("password must have at least %d characters", MinPasswordLength)
	}
	if len(pw) > MaxPasswordLength {
		return fmt.Errorf("password must have at most %d bytes", MaxPasswordLength)
	}
	return nil
}

// UserCreate adds a user; ErrConflict when the email is taken.
func (s *Store) UserCreate(ctx context.Context, p *UserCreateParams) (*User, error) {
	var u *User
	err := s.tx(ctx, func(q querier) error {
		var err error
		u, err = s.userCreate(ctx, q, p)
		return err
	})
	return u, err
}

func (s *Store) userCreate(ctx context.Context, q querier, p *UserCreateParams) (*User, error) {
	email, err := NormalizeEmail(p.Email)
	if err != nil {
		return nil, err
	}
	if err := ValidatePassword(p.Password); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(p.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &User{Email: email, Name: p.Name, IsSuperuser: p.IsSuperuser, IsActive: true, DateJoined: now()}
	err = q.queryRow(ctx, `
		INSERT INTO users (email, name, password_hash, is_superuser, is_active, date_joined)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		u.Email, u.Name, string(hash), u.IsSuperuser, u.IsActive, u.DateJoined).Scan(&u.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("user %s: %w", email, ErrConflict)
		}
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

const userColumns = `id, email, name, is_superuser, is_active, date_joined, last_login`

func scanUser(r row, extra ...any) (*User, error) {
	var u User
	err := r.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.IsSuperuser, &u.IsActive, &u.DateJoined, &u.LastLogin}, extra...)...)
	return &u, err
}

// UserGet returns the user with that id.
func (s *Store) UserGet(ctx context.Context, id int64) (*User, error) {
	u, err := scanUser(s.r.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("user %d", id))
	}
	return u, nil
}

// UserGetByEmail returns the user with that email, compared case-insensitively.
func (s *Store) UserGetByEmail(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(s.r.queryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE email = $1`, strings.ToLower(strings.TrimSpace(email))))
	if err != nil {
		return nil, notFound(err, "user "+email)
	}
	return u, nil
}

// UserAuthenticate checks an email and password and records the sign-in.
// Unknown users, wrong passwords and inactive users all give ErrBadCredentials.
func (s *Store) UserAuthenticate(ctx context.Context, email, password string) (*User, error) {
	var (
		u    User
		hash string
	)
	err := s.r.queryRow(ctx, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1`,
		strings.ToLower(strings.TrimSpace(email))).
		Scan(&u.ID, &u.Email, &u.Name, &u.IsSuperuser, &u.IsActive, &u.DateJoined, &u.LastLogin, &hash)
	if err != nil {
		if isNoRows(err) {
			// Spend the same time as a real check so timing does not reveal
			// which addresses have accounts.
			_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
			return nil, ErrBadCredentials
		}
		return nil, fmt.Errorf("authenticate %s: %w", email, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || !u.IsActive {
		return nil, ErrBadCredentials
	}
	t := now()
	if _, err := s.w.exec(ctx, `UPDATE users SET last_login = $1 WHERE id = $2`, t, u.ID); err != nil {
		return nil, fmt.Errorf("record sign-in of %s: %w", email, err)
	}
	u.LastLogin = &t
	return &u, nil
}

// dummyHash is computed on first use, not at start-up, to keep CLI commands quick.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("tocsin-timing-equalizer"), bcrypt.DefaultCost)
	return h
})

// UserCount returns the number of users; zero means a fresh store.
func (s *Store) UserCount(ctx context.Context) (int, error) {
	var n int
	if err := s.r.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
