package store

import (
	"context"
	"fmt"
	"strings"
)

// UserOptions are a user's preferences for what Tocsin sends them, as
// Sentry's user options: language and time zone ("" for the defaults,
// English and UTC).
type UserOptions struct {
	Language string
	Timezone string
}

// UserOptionsGet returns a user's options.
func (s *Store) UserOptionsGet(ctx context.Context, userID int64) (UserOptions, error) {
	var o UserOptions
	err := s.r.queryRow(ctx, `SELECT language, timezone FROM users WHERE id = $1`, userID).Scan(&o.Language, &o.Timezone)
	if err != nil {
		return o, notFound(err, fmt.Sprintf("user %d", userID))
	}
	return o, nil
}

// UserOptionsSet changes a user's options.
func (s *Store) UserOptionsSet(ctx context.Context, userID int64, o UserOptions) error {
	n, err := s.w.exec(ctx, `UPDATE users SET language = $2, timezone = $3 WHERE id = $1`, userID, o.Language, o.Timezone)
	if err != nil {
		return fmt.Errorf("set options of user %d: %w", userID, err)
	}
	if n == 0 {
		return fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	return nil
}

// UserOptionsByEmail returns the options of the users with these
// addresses (matched without regard to case); addresses of no user are
// left out.
func (s *Store) UserOptionsByEmail(ctx context.Context, emails []string) (map[string]UserOptions, error) {
	out := map[string]UserOptions{}
	if len(emails) == 0 {
		return out, nil
	}
	args := make([]any, len(emails))
	for i, e := range emails {
		args[i] = strings.ToLower(strings.TrimSpace(e))
	}
	rs, err := s.r.query(ctx, `SELECT LOWER(email), language, timezone FROM users WHERE LOWER(email) IN (`+
		placeholders(1, len(args))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("options of users: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var e string
		var o UserOptions
		if err := rs.Scan(&e, &o.Language, &o.Timezone); err != nil {
			return nil, fmt.Errorf("options of users: %w", err)
		}
		out[e] = o
	}
	return out, rs.Err()
}
