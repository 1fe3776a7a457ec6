package store

import (
	"context"
	"fmt"
	"time"
)

// The reads the rules engine makes: counts over windows of time, an issue
// and an event by id. They are not scoped by organization because the
// engine works on activities the store itself queued for a project.

// IssueByID returns an issue whatever its organization, for the engine.
func (s *Store) IssueByID(ctx context.Context, issueID int64) (*Issue, error) {
	is, err := scanIssue(s.r.queryRow(ctx, `SELECT `+issueColumns+` FROM issues i WHERE i.id = $1`, issueID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("issue %d", issueID))
	}
	return is, nil
}

// IssuesByIDs returns the issues of the ids that still exist, by id,
// whatever their organization, for the engine: one read for a batch of
// activities instead of one per activity.
func (s *Store) IssuesByIDs(ctx context.Context, ids []int64) (map[int64]*Issue, error) {
	out := make(map[int64]*Issue, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxIssuesRead)]
		ids = ids[len(chunk):]
		// The list is padded (repeating its last id) to one of a few
		// lengths, so that a handful of statements serve every batch.
		n := 8
		for n < len(chunk) {
			n *= 4
		}
		n = min(n, maxIssuesRead)
		args := make([]any, n)
		for i := range args {
			args[i] = chunk[min(i, len(chunk)-1)]
		}
		rs, err := s.r.query(ctx, `SELECT `+issueColumns+` FROM issues i WHERE i.id IN (`+placeholders(1, n)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read issues: %w", err)
		}
		for rs.Next() {
			is, err := scanIssue(rs)
			if err != nil {
				rs.Close()
				return nil, fmt.Errorf("read issues: %w", err)
			}
			out[is.ID] = is
		}
		err = rs.Err()
		rs.Close()
		if err != nil {
			return nil, fmt.Errorf("read issues: %w", err)
		}
	}
	return out, nil
}

// maxIssuesRead bounds the ids of one IssuesByIDs statement.
const maxIssuesRead = 512

// EventByRowID returns an event by its row id, for the engine.
func (s *Store) EventByRowID(ctx context.Context, rowID int64) (*StoredEvent, error) {
	e, err := scanEvent(s.r.queryRow(ctx, `SELECT e.id, e.event_id, e.project_id, COALESCE(e.issue_id, 0), e.type,
		e.title, e.level, e.timestamp, e.received, e.data FROM events e WHERE e.id = $1`, rowID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("event %d", rowID))
	}
	return e, nil
}

// IssueEventCount counts an issue's events received in [from, to). With an
// environment it counts that environment's events only (from the events
// themselves); without, it sums the per-minute counters.
func (s *Store) IssueEventCount(ctx context.Context, issueID int64, environment string, from, to time.Time) (int64, error) {
	var n int64
	var err error
	if environment == "" {
		err = s.r.queryRow(ctx, `SELECT COALESCE(SUM(count), 0) FROM issue_counts
			WHERE issue_id = $1 AND minute >= $2 AND minute < $3`, issueID, minuteOf(from), minuteCeil(to)).Scan(&n)
	} else {
		err = s.r.queryRow(ctx, `SELECT COUNT(*) FROM events WHERE issue_id = $1 AND environment = $2
			AND received >= $3 AND received < $4`, issueID, environment, from.UTC(), to.UTC()).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count events of issue %d: %w", issueID, err)
	}
	return n, nil
}

// minuteCeil is the first minute after t's, so [from, to) in minutes
// includes to's own minute.
func minuteCeil(t time.Time) int64 { return minuteOf(t) + 1 }

// IssueUserCount counts the distinct users of an issue's events received
// in [from, to), optionally in one environment.
func (s *Store) IssueUserCount(ctx context.Context, issueID int64, environment string, from, to time.Time) (int64, error) {
	var n int64
	err := s.r.queryRow(ctx, `SELECT COUNT(DISTINCT user_ident) FROM events WHERE issue_id = $1
		AND user_ident <> '' AND received >= $2 AND received < $3 AND ($4 = '' OR environment = $4)`,
		issueID, from.UTC(), to.UTC(), environment).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count users of issue %d: %w", issueID, err)
	}
	return n, nil
}

// ProjectSessionCount counts sessions started in the hours overlapping
// [from, to); sessions are kept per hour.
func (s *Store) ProjectSessionCount(ctx context.Context, projectID int64, environment string, from, to time.Time) (int64, error) {
	var n int64
	err := s.r.queryRow(ctx, `SELECT COALESCE(SUM(started), 0) FROM session_counts WHERE project_id = $1
		AND hour >= $2 AND hour <= $3 AND ($4 = '' OR environment = $4)`,
		projectID, from.Unix()/3600, to.Unix()/3600, environment).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sessions of project %d: %w", projectID, err)
	}
	return n, nil
}

// IssuesActiveSince lists a project's issues with events received since
// the time, for the sweep of frequency conditions.
func (s *Store) IssuesActiveSince(ctx context.Context, projectID int64, since time.Time, limit int) ([]int64, error) {
	rs, err := s.r.query(ctx, `SELECT DISTINCT c.issue_id FROM issue_counts c JOIN issues i ON i.id = c.issue_id
		WHERE i.project_id = $1 AND c.minute >= $2 LIMIT $3`, projectID, minuteOf(since), limit)
	if err != nil {
		return nil, fmt.Errorf("active issues of project %d: %w", projectID, err)
	}
	defer rs.Close()
	var out []int64
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("active issues: %w", err)
		}
		out = append(out, id)
	}
	return out, rs.Err()
}

// ProjectsWithActiveRules lists the projects that have active rules.
func (s *Store) ProjectsWithActiveRules(ctx context.Context) ([]int64, error) {
	rs, err := s.r.query(ctx, `SELECT DISTINCT project_id FROM rules WHERE status = 'active'`)
	if err != nil {
		return nil, fmt.Errorf("projects with rules: %w", err)
	}
	defer rs.Close()
	var out []int64
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return nil, fmt.Errorf("projects with rules: %w", err)
		}
		out = append(out, id)
	}
	return out, rs.Err()
}

// RuleLastFired returns when each rule last fired for the issue, so that
// the engine skips rules still within their frequency. RuleFire's
// compare-and-set decides; this is a read to spare the work.
func (s *Store) RuleLastFired(ctx context.Context, issueID int64) (map[int64]time.Time, error) {
	rs, err := s.r.query(ctx, `SELECT rule_id, last_fired FROM rule_fires WHERE issue_id = $1`, issueID)
	if err != nil {
		return nil, fmt.Errorf("rules fired for issue %d: %w", issueID, err)
	}
	defer rs.Close()
	out := map[int64]time.Time{}
	for rs.Next() {
		var (
			id int64
			at time.Time
		)
		if err := rs.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("rules fired for issue %d: %w", issueID, err)
		}
		out[id] = at
	}
	return out, rs.Err()
}

// EventIDByRowID returns an event's id by its row id, for the engine,
// without reading the event itself.
func (s *Store) EventIDByRowID(ctx context.Context, rowID int64) (string, error) {
	var id string
	if err := s.r.queryRow(ctx, `SELECT event_id FROM events WHERE id = $1`, rowID).Scan(&id); err != nil {
		return "", notFound(err, fmt.Sprintf("event %d", rowID))
	}
	return id, nil
}
