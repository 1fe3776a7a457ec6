package store

import (
	"context"
	"fmt"
	"time"
)

// Summary is a project's scheduled summary: when it runs (a cron
// expression in a time zone) and where it goes.
type Summary struct {
	ID             int64
	OrganizationID int64
	ProjectID      int64
	Name           string
	Schedule       string // cron expression, five fields or a descriptor (@daily)
	Timezone       string // IANA name
	IntegrationID  *int64 // nil: the built-in email
	Target         string // channel, addresses…; "" for the integration's default
	NextRun        time.Time
	LastRun        *time.Time
	CreatedBy      *int64
	DateCreated    time.Time
}

const summaryFields = "id, organization_id, project_id, name, schedule, timezone, integration_id, target, " +
	"next_run, last_run, created_by, date_created"

func scanSummary(r row) (*Summary, error) {
	var sm Summary
	err := r.Scan(&sm.ID, &sm.OrganizationID, &sm.ProjectID, &sm.Name, &sm.Schedule, &sm.Timezone, &sm.IntegrationID,
		&sm.Target, &sm.NextRun, &sm.LastRun, &sm.CreatedBy, &sm.DateCreated)
	return &sm, err
}

// SummaryCreate adds a summary to a project of the organization.
func (s *Store) SummaryCreate(ctx context.Context, orgID int64, sm *Summary) (*Summary, error) {
	var out *Summary
	err := s.tx(ctx, func(q querier) error {
		if err := projectInOrg(ctx, q, orgID, sm.ProjectID); err != nil {
			return err
		}
		var err error
		out, err = scanSummary(q.queryRow(ctx, `INSERT INTO summaries (organization_id, project_id, name, schedule,
				timezone, integration_id, target, next_run, created_by, date_created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+summaryFields,
			orgID, sm.ProjectID, sm.Name, sm.Schedule, sm.Timezone, sm.IntegrationID, sm.Target, sm.NextRun.UTC(),
			sm.CreatedBy, now()))
		if err != nil {
			return fmt.Errorf("create summary %q: %w", sm.Name, err)
		}
		return nil
	})
	return out, err
}

// SummaryUpdate replaces a summary's settings and next run.
func (s *Store) SummaryUpdate(ctx context.Context, orgID int64, sm *Summary) (*Summary, error) {
	out, err := scanSummary(s.w.queryRow(ctx, `UPDATE summaries SET name = $4, schedule = $5, timezone = $6,
			integration_id = $7, target = $8, next_run = $9
		WHERE id = $1 AND organization_id = $2 AND project_id = $3 RETURNING `+summaryFields,
		sm.ID, orgID, sm.ProjectID, sm.Name, sm.Schedule, sm.Timezone, sm.IntegrationID, sm.Target, sm.NextRun.UTC()))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("summary %d", sm.ID))
	}
	return out, nil
}

// SummaryGet returns a summary of a project of the organization.
func (s *Store) SummaryGet(ctx context.Context, orgID, projectID, id int64) (*Summary, error) {
	sm, err := scanSummary(s.r.queryRow(ctx, `SELECT `+summaryFields+` FROM summaries
		WHERE id = $1 AND organization_id = $2 AND project_id = $3`, id, orgID, projectID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("summary %d", id))
	}
	return sm, nil
}

// SummaryList lists a project's summaries, oldest first.
func (s *Store) SummaryList(ctx context.Context, orgID, projectID int64, page Page) ([]*Summary, error) {
	rs, err := s.r.query(ctx, `SELECT `+summaryFields+` FROM summaries WHERE organization_id = $1 AND project_id = $2
		ORDER BY id LIMIT $3 OFFSET $4`, orgID, projectID, page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("list summaries: %w", err)
	}
	return collectSummaries(rs)
}

func collectSummaries(rs rows) ([]*Summary, error) {
	defer rs.Close()
	var out []*Summary
	for rs.Next() {
		sm, err := scanSummary(rs)
		if err != nil {
			return nil, fmt.Errorf("list summaries: %w", err)
		}
		out = append(out, sm)
	}
	return out, rs.Err()
}

// SummaryDelete removes a summary.
func (s *Store) SummaryDelete(ctx context.Context, orgID, projectID, id int64) error {
	n, err := s.w.exec(ctx, `DELETE FROM summaries WHERE id = $1 AND organization_id = $2 AND project_id = $3`,
		id, orgID, projectID)
	if err != nil {
		return fmt.Errorf("delete summary %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("summary %d: %w", id, ErrNotFound)
	}
	return nil
}

// SummariesDue lists summaries whose next run is at or before now.
func (s *Store) SummariesDue(ctx context.Context, now time.Time, limit int) ([]*Summary, error) {
	rs, err := s.r.query(ctx, `SELECT `+summaryFields+` FROM summaries WHERE next_run <= $1 ORDER BY next_run, id LIMIT $2`,
		now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("due summaries: %w", err)
	}
	return collectSummaries(rs)
}

// SummaryRun records a run: the next run moves from prev to next, compared
// and set, so that of several processes seeing it due exactly one runs it;
// the winner's delivery d (nil for none) is queued in the same transaction.
// It reports whether this call won.
func (s *Store) SummaryRun(ctx context.Context, id int64, prev, next, ran time.Time, d *Delivery) (bool, error) {
	won := false
	err := s.tx(ctx, func(q querier) error {
		n, err := q.exec(ctx, `UPDATE summaries SET next_run = $3, last_run = $4 WHERE id = $1 AND next_run = $2`,
			id, prev.UTC(), next.UTC(), ran.UTC())
		if err != nil {
			return fmt.Errorf("run summary %d: %w", id, err)
		}
		if n == 0 {
			return nil // another process ran it, or it was changed
		}
		won = true
		if d != nil {
			return deliveryInsert(ctx, q, d)
		}
		return nil
	})
	return won, err
}

// SummaryReport is what a project's summary says of [From, To).
type SummaryReport struct {
	From, To    time.Time
	Events      int64
	NewIssues   int64
	Regressions int64
	Resolved    int64
	// The same figures for the period of the same length just before, to
	// show what changed since the last summary.
	PrevEvents, PrevNewIssues, PrevRegressions, PrevResolved int64
	// TopIssues are the five issues with most events in the period.
	TopIssues []SummaryIssue
	// NewTop are the five new issues of the period with most events.
	NewTop []SummaryIssue
	// EventsByDay are the events of each UTC day of the seven ending with
	// To's, oldest first.
	EventsByDay []DayCount
	// Releases are the crash-free rates of the releases with sessions in
	// the period, most sessions first (at most five).
	Releases []ReleaseHealth
}

// ReleaseHealth is a release's sessions in a period.
type ReleaseHealth struct {
	Release  string
	Sessions int64
	Crashed  int64
}

// CrashFree is the percentage of sessions that did not crash.
func (r ReleaseHealth) CrashFree() float64 {
	if r.Sessions == 0 {
		return 100
	}
	return 100 * float64(r.Sessions-r.Crashed) / float64(r.Sessions)
}

// SummaryIssue is an issue in a summary.
type SummaryIssue struct {
	ID      int64
	ShortID int64
	Title   string
	Events  int64 // in the period
	Users   int64 // all time
}

// DayCount is one day's events.
type DayCount struct {
	Day    time.Time
	Events int64
}

// SummaryReport computes a project's summary of [from, to).
func (s *Store) SummaryReport(ctx context.Context, projectID int64, from, to time.Time) (*SummaryReport, error) {
	r := &SummaryReport{From: from.UTC(), To: to.UTC()}
	count := func(what string, dst *int64, query string, args ...any) error {
		if err := s.r.queryRow(ctx, query, args...).Scan(dst); err != nil {
			return fmt.Errorf("summary %s of project %d: %w", what, projectID, err)
		}
		return nil
	}
	fm, tm := minuteOf(from), minuteOf(to)
	figures := func(from, to time.Time, events, newIssues, regressions, resolved *int64) error {
		fm, tm := minuteOf(from), minuteOf(to)
		if err := count("events", events, `SELECT COALESCE(SUM(c.count), 0) FROM issue_counts c JOIN issues i ON i.id = c.issue_id
			WHERE i.project_id = $1 AND c.minute >= $2 AND c.minute < $3`, projectID, fm, tm); err != nil {
			return err
		}
		if err := count("new issues", newIssues, `SELECT COUNT(*) FROM issues WHERE project_id = $1
			AND first_seen >= $2 AND first_seen < $3`, projectID, from.UTC(), to.UTC()); err != nil {
			return err
		}
		if err := count("regressions", regressions, `SELECT COUNT(*) FROM activities WHERE project_id = $1
			AND kind = 'set_regression' AND date_created >= $2 AND date_created < $3`, projectID, from.UTC(), to.UTC()); err != nil {
			return err
		}
		return count("resolutions", resolved, `SELECT COUNT(DISTINCT issue_id) FROM activities WHERE project_id = $1
			AND kind = 'set_resolved' AND date_created >= $2 AND date_created < $3`, projectID, from.UTC(), to.UTC())
	}
	if err := figures(r.From, r.To, &r.Events, &r.NewIssues, &r.Regressions, &r.Resolved); err != nil {
		return nil, err
	}
	prev := r.From.Add(-r.To.Sub(r.From))
	if err := figures(prev, r.From, &r.PrevEvents, &r.PrevNewIssues, &r.PrevRegressions, &r.PrevResolved); err != nil {
		return nil, err
	}
	top := func(extra string, more ...any) ([]SummaryIssue, error) {
		rs, err := s.r.query(ctx, `SELECT i.id, i.short_id, i.title, SUM(c.count) AS n, i.user_count
			FROM issue_counts c JOIN issues i ON i.id = c.issue_id
			WHERE i.project_id = $1 AND c.minute >= $2 AND c.minute < $3`+extra+`
			GROUP BY i.id, i.short_id, i.title, i.user_count ORDER BY n DESC, i.id LIMIT 5`,
			append([]any{projectID, fm, tm}, more...)...)
		if err != nil {
			return nil, fmt.Errorf("summary top issues of project %d: %w", projectID, err)
		}
		defer rs.Close()
		var out []SummaryIssue
		for rs.Next() {
			var si SummaryIssue
			if err := rs.Scan(&si.ID, &si.ShortID, &si.Title, &si.Events, &si.Users); err != nil {
				return nil, fmt.Errorf("summary top issues of project %d: %w", projectID, err)
			}
			out = append(out, si)
		}
		return out, rs.Err()
	}
	var err error
	if r.TopIssues, err = top(""); err != nil {
		return nil, err
	}
	if r.NewTop, err = top(" AND i.first_seen >= $4", r.From); err != nil {
		return nil, err
	}
	if err := s.eventsByDay(ctx, projectID, r); err != nil {
		return nil, err
	}
	return r, s.releaseHealth(ctx, projectID, r)
}

// releaseHealth reads the sessions of the hours overlapping the period.
func (s *Store) releaseHealth(ctx context.Context, projectID int64, r *SummaryReport) error {
	rs, err := s.r.query(ctx, `SELECT release, SUM(started) AS n, SUM(crashed) FROM session_counts
		WHERE project_id = $1 AND hour >= $2 AND hour < $3 AND release <> ''
		GROUP BY release ORDER BY n DESC, release LIMIT 5`,
		projectID, r.From.Unix()/3600, (r.To.Unix()+3599)/3600)
	if err != nil {
		return fmt.Errorf("summary releases of project %d: %w", projectID, err)
	}
	defer rs.Close()
	for rs.Next() {
		var h ReleaseHealth
		if err := rs.Scan(&h.Release, &h.Sessions, &h.Crashed); err != nil {
			return fmt.Errorf("summary releases of project %d: %w", projectID, err)
		}
		r.Releases = append(r.Releases, h)
	}
	return rs.Err()
}

func (s *Store) eventsByDay(ctx context.Context, projectID int64, r *SummaryReport) error {
	last := r.To.Add(-time.Nanosecond).Truncate(24 * time.Hour)
	first := last.AddDate(0, 0, -6)
	byDay := map[int64]int64{}
	rs, err := s.r.query(ctx, `SELECT c.minute / 1440, SUM(c.count) FROM issue_counts c JOIN issues i ON i.id = c.issue_id
		WHERE i.project_id = $1 AND c.minute >= $2 AND c.minute < $3 GROUP BY c.minute / 1440`,
		projectID, minuteOf(first), minuteOf(last.Add(24*time.Hour)))
	if err != nil {
		return fmt.Errorf("summary events by day of project %d: %w", projectID, err)
	}
	defer rs.Close()
	for rs.Next() {
		var day, n int64
		if err := rs.Scan(&day, &n); err != nil {
			return fmt.Errorf("summary events by day of project %d: %w", projectID, err)
		}
		byDay[day] = n
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for d := first; !d.After(last); d = d.Add(24 * time.Hour) {
		r.EventsByDay = append(r.EventsByDay, DayCount{Day: d, Events: byDay[d.Unix()/86400]})
	}
	return nil
}
