package store

import (
	"context"
	"fmt"
	"time"

	"github.com/tocsin/tocsin/event"
)

// OutboxEntry is an issue activity waiting for the rules engine: written in
// the same transaction as the event or change that caused it, so that a
// crash never loses it.
type OutboxEntry struct {
	ID          int64
	ProjectID   int64
	IssueID     int64
	EventRowID  *int64
	Kind        string
	DateCreated time.Time
	// Event is the triggering event as ingest parsed it, when the entry is
	// handed over in the process that stored it (nil when read from the
	// store): the engine then need not read and parse it again.
	Event *event.Event
	// Issue is the issue as that event left it, likewise when handed over
	// (nil when read from the store).
	Issue *Issue
}

// OutboxClaim leases up to limit entries for the lease's duration. Entries
// whose lease ran out (their consumer died) are claimed again, so every
// entry is handled at least once; OutboxDone removes handled entries.
// Several workers may claim at once: on PostgreSQL rows locked by another
// claim are skipped.
func (s *Store) OutboxClaim(ctx context.Context, limit int, lease time.Duration) ([]*OutboxEntry, error) {
	var out []*OutboxEntry
	err := s.tx(ctx, func(q querier) error {
		out = out[:0]
		n := now()
		lock := ""
		if s.engine == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rs, err := q.query(ctx, `SELECT id, project_id, issue_id, event_row_id, kind, date_created
			FROM activity_outbox WHERE claimed_until IS NULL OR claimed_until < $1
			ORDER BY id LIMIT $2`+lock, n, limit)
		if err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		for rs.Next() {
			var e OutboxEntry
			if err := rs.Scan(&e.ID, &e.ProjectID, &e.IssueID, &e.EventRowID, &e.Kind, &e.DateCreated); err != nil {
				rs.Close()
				return fmt.Errorf("claim outbox: %w", err)
			}
			out = append(out, &e)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		if len(out) == 0 {
			return nil
		}
		args := []any{n.Add(lease)}
		for _, e := range out {
			args = append(args, e.ID)
		}
		if _, err := q.exec(ctx, `UPDATE activity_outbox SET claimed_until = $1 WHERE id IN (`+
			placeholders(2, len(out))+`)`, args...); err != nil {
			return fmt.Errorf("claim outbox: %w", err)
		}
		return nil
	})
	return out, err
}

// OutboxDone removes handled entries.
func (s *Store) OutboxDone(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return s.tx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `DELETE FROM activity_outbox WHERE id IN (`+placeholders(1, len(ids))+`)`,
			anySlice(ids)...); err != nil {
			return fmt.Errorf("finish outbox entries: %w", err)
		}
		return nil
	})
}

// OutboxPending counts entries not yet handled, for health reports.
func (s *Store) OutboxPending(ctx context.Context) (int64, error) {
	var n int64
	if err := s.r.queryRow(ctx, `SELECT COUNT(*) FROM activity_outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}
