package store

import (
	"context"
	"fmt"
	"time"
)

// purgeBatch bounds one delete, so that retention never holds the writer
// for long: SQLite has one, and ingest waits for it.
const purgeBatch = 1000

// Purge deletes what is older than the cutoff: events, attachments,
// per-minute counts, check-ins, and issues last seen before it (with their
// history). It works in small batches and returns how many events went.
func (s *Store) Purge(ctx context.Context, before time.Time) (int64, error) {
	before = before.UTC()
	var total int64
	steps := []struct {
		what  string
		query string
		arg   any
	}{
		{"events", `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received < $1 LIMIT ` + fmt.Sprint(purgeBatch) + `)`, before},
		{"attachments", `DELETE FROM attachments WHERE id IN (SELECT id FROM attachments WHERE date_created < $1 LIMIT ` + fmt.Sprint(purgeBatch) + `)`, before},
		{"issues", `DELETE FROM issues WHERE id IN (SELECT id FROM issues WHERE last_seen < $1 LIMIT ` + fmt.Sprint(purgeBatch) + `)`, before},
		{"check-ins", `DELETE FROM monitor_checkins WHERE id IN (SELECT id FROM monitor_checkins WHERE date_created < $1 LIMIT ` + fmt.Sprint(purgeBatch) + `)`, before},
		{"user reports", `DELETE FROM user_reports WHERE id IN (SELECT id FROM user_reports WHERE date_created < $1 LIMIT ` + fmt.Sprint(purgeBatch) + `)`, before},
		{"issue counts", `DELETE FROM issue_counts WHERE minute < $1`, minuteOf(before)},
		{"project counts", `DELETE FROM project_counts WHERE minute < $1`, minuteOf(before)},
		{"session counts", `DELETE FROM session_counts WHERE hour < $1`, before.Unix() / 3600},
	}
	for _, st := range steps {
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			var n int64
			err := s.tx(ctx, func(q querier) error {
				var err error
				n, err = q.exec(ctx, st.query, st.arg)
				return err
			})
			if err != nil {
				return total, fmt.Errorf("purge %s: %w", st.what, err)
			}
			if st.what == "events" {
				total += n
			}
			if n < purgeBatch {
				break
			}
		}
	}
	return total, nil
}
