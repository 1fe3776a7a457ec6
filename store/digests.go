package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// DigestPolicy is when a digest timeline is delivered, Sentry's model: the
// first record opens it and makes it due after MinDelay; each later record
// pushes that to at least Increment after itself, never past MaxDelay after
// the first record.
type DigestPolicy struct {
	MinDelay, Increment, MaxDelay time.Duration
}

// DigestRecord is one fired notification collected for a digest.
type DigestRecord struct {
	OrganizationID int64
	ProjectID      int64
	IntegrationID  *int64 // nil for the built-in email
	Provider       string
	Target         string
	IssueID        int64
	RuleID         *int64
	EventID        string
	Reason         string // the activity that fired the rule
	Options        string // the rule action's JSON
	Count          int64  // events the record stands for, at least 1
	At             time.Time
}

// DigestTimeline is a claimed digest: one project's collected
// notifications to one target.
type DigestTimeline struct {
	ID             int64
	OrganizationID int64
	ProjectID      int64
	IntegrationID  *int64
	Provider       string
	Target         string
	FirstRecord    time.Time
	Due            time.Time
	Deadline       time.Time
	// Entries, one per issue, by the issue's event count (most first), then
	// by when the issue was first seen.
	Entries []*DigestEntry
}

// DigestEntry is an issue in a digest.
type DigestEntry struct {
	IssueID     int64
	RuleID      *int64 // of the latest record
	EventID     string // of the latest record
	Reason      string // of the latest record
	Options     string // of the latest record
	Records     int64  // summed counts of the issue's records
	FirstRecord time.Time
	LastRecord  time.Time
	// The issue's own figures, for ordering, rendering and holding.
	TimesSeen int64
	FirstSeen time.Time
	Level     string
}

// DigestAdd adds a record to the open timeline of its project and target,
// opening one if there is none, and returns when that timeline is due. The
// record and the timeline's new due time are committed together: a crash
// loses neither.
func (s *Store) DigestAdd(ctx context.Context, r *DigestRecord, p DigestPolicy) (time.Time, error) {
	var due time.Time
	err := s.tx(ctx, func(q querier) error {
		var err error
		due, err = digestAdd(ctx, q, s.engine, r, p)
		return err
	})
	return due, err
}

func digestAdd(ctx context.Context, q querier, engine Engine, r *DigestRecord, p DigestPolicy) (time.Time, error) {
	if r.Count < 1 {
		r.Count = 1
	}
	at := r.At.UTC().Truncate(time.Microsecond)
	id, cur, deadline, err := openTimeline(ctx, q, engine, r, at, p)
	if err != nil {
		return time.Time{}, err
	}
	due := cur
	if at.Add(p.Increment).After(due) {
		due = at.Add(p.Increment)
	}
	if due.After(deadline) {
		due = deadline
	}
	if !due.Equal(cur) {
		if _, err := q.exec(ctx, `UPDATE digest_timelines SET due = $2 WHERE id = $1`, id, due); err != nil {
			return time.Time{}, fmt.Errorf("extend digest %d: %w", id, err)
		}
	}
	if r.Options == "" {
		r.Options = "{}"
	}
	if _, err := q.exec(ctx, `INSERT INTO digest_records (timeline_id, issue_id, rule_id, event_id, reason, options,
			count, first_record, last_record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
		ON CONFLICT (timeline_id, issue_id) DO UPDATE SET count = digest_records.count + excluded.count,
			rule_id = excluded.rule_id, event_id = excluded.event_id, reason = excluded.reason,
			options = excluded.options, last_record = excluded.last_record`,
		id, r.IssueID, r.RuleID, r.EventID, r.Reason, r.Options, r.Count, at); err != nil {
		return time.Time{}, fmt.Errorf("add to digest %d: %w", id, err)
	}
	return due, nil
}

// openTimeline returns the open timeline of r's project and target, locked
// on PostgreSQL, creating it when there is none.
func openTimeline(ctx context.Context, q querier, engine Engine, r *DigestRecord, at time.Time, p DigestPolicy) (id int64, due, deadline time.Time, err error) {
	lock := ""
	if engine == Postgres {
		lock = " FOR UPDATE"
	}
	var integration int64
	if r.IntegrationID != nil {
		integration = *r.IntegrationID
	}
	find := func() error {
		return q.queryRow(ctx, `SELECT id, due, deadline FROM digest_timelines WHERE project_id = $1
			AND COALESCE(integration_id, 0) = $2 AND provider = $3 AND target = $4 AND state = 'open'`+lock,
			r.ProjectID, integration, r.Provider, r.Target).Scan(&id, &due, &deadline)
	}
	err = find()
	if err == nil || !isNoRows(err) {
		if err != nil {
			err = fmt.Errorf("find digest: %w", err)
		}
		return id, due, deadline, err
	}
	due, deadline = at.Add(p.MinDelay), at.Add(p.MaxDelay)
	if due.After(deadline) {
		due = deadline
	}
	err = q.queryRow(ctx, `INSERT INTO digest_timelines (organization_id, project_id, integration_id, provider, target,
			state, first_record, due, deadline, date_created)
		VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $6)
		ON CONFLICT (project_id, COALESCE(integration_id, 0), provider, target) WHERE state = 'open' DO NOTHING
		RETURNING id`, r.OrganizationID, r.ProjectID, r.IntegrationID, r.Provider, r.Target, at, due, deadline).Scan(&id)
	if isNoRows(err) {
		// Another writer opened it meanwhile (PostgreSQL): use theirs.
		if err = find(); err != nil {
			err = fmt.Errorf("find digest: %w", err)
		}
		return id, due, deadline, err
	}
	if err != nil {
		return 0, time.Time{}, time.Time{}, fmt.Errorf("open digest: %w", err)
	}
	return id, due, deadline, nil
}

// DigestHold keeps issues of a due timeline back until Until: they stay
// in the timeline, which stays open (taking records) and is due then. A
// hold that has ended keeps nothing back.
type DigestHold struct {
	Until  time.Time
	Issues []int64
}

// DigestsClaim claims up to limit timelines due at now for lease: open ones
// past their due time, and claimed ones whose lease ran out (their worker
// died). A claimed timeline takes no more records; new ones open another.
// Several workers may claim at once; each timeline goes to one.
//
// hold, when not nil, is asked about each open timeline before it is
// claimed (with its entries; it may read the store, not write): the issues
// it keeps back wait in the timeline, whose due time moves to the hold's
// end, and only the others are claimed, as a timeline of their own. A
// claim whose lease ran out was decided already and is not asked about.
func (s *Store) DigestsClaim(ctx context.Context, now time.Time, limit int, lease time.Duration,
	hold func(*DigestTimeline) (*DigestHold, error)) ([]*DigestTimeline, error) {
	now = now.UTC()
	// The worker asks every second and is almost always told "none": a
	// read answers that without taking the write lock (SQLite's writer is
	// ingest's).
	var one int
	err := s.r.queryRow(ctx, `SELECT 1 FROM digest_timelines WHERE (state = 'open' AND due <= $1)
		OR (state = 'claimed' AND claimed_until < $1) LIMIT 1`, now).Scan(&one)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim digests: %w", err)
	}
	var out []*DigestTimeline
	err = s.tx(ctx, func(q querier) error {
		out = out[:0]
		lock := ""
		if s.engine == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rs, err := q.query(ctx, `SELECT id, organization_id, project_id, integration_id, provider, target,
				first_record, due, deadline, state FROM digest_timelines
			WHERE (state = 'open' AND due <= $1) OR (state = 'claimed' AND claimed_until < $1)
			ORDER BY due, id LIMIT $2`+lock, now, limit)
		if err != nil {
			return fmt.Errorf("claim digests: %w", err)
		}
		var due []*DigestTimeline
		open := map[int64]bool{}
		for rs.Next() {
			var (
				t     DigestTimeline
				state string
			)
			if err := rs.Scan(&t.ID, &t.OrganizationID, &t.ProjectID, &t.IntegrationID, &t.Provider, &t.Target,
				&t.FirstRecord, &t.Due, &t.Deadline, &state); err != nil {
				rs.Close()
				return fmt.Errorf("claim digests: %w", err)
			}
			due = append(due, &t)
			open[t.ID] = state == "open"
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("claim digests: %w", err)
		}
		for _, t := range due {
			if t.Entries, err = digestEntries(ctx, q, t.ID); err != nil {
				return err
			}
			if hold != nil && open[t.ID] {
				h, err := hold(t)
				if err != nil {
					return err
				}
				if h != nil && h.Until.After(now) {
					all, err := digestHold(ctx, q, t, h)
					if err != nil {
						return err
					}
					if all {
						continue
					}
				}
			}
			if _, err := q.exec(ctx, `UPDATE digest_timelines SET state = 'claimed', claimed_until = $2 WHERE id = $1`,
				t.ID, now.Add(lease)); err != nil {
				return fmt.Errorf("claim digest %d: %w", t.ID, err)
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// digestHold keeps h's issues in the open timeline t, due at h.Until, and
// reports whether that was all of them. When some of t's issues are not
// held, they move to a new timeline, which becomes t (ID and Entries), to
// be claimed.
func digestHold(ctx context.Context, q querier, t *DigestTimeline, h *DigestHold) (bool, error) {
	held := map[int64]bool{}
	for _, id := range h.Issues {
		held[id] = true
	}
	var keep, rest []*DigestEntry
	for _, e := range t.Entries {
		if held[e.IssueID] {
			keep = append(keep, e)
		} else {
			rest = append(rest, e)
		}
	}
	if len(keep) == 0 {
		return false, nil
	}
	until := h.Until.UTC().Truncate(time.Microsecond)
	deadline := t.Deadline
	if deadline.Before(until) {
		deadline = until
	}
	if _, err := q.exec(ctx, `UPDATE digest_timelines SET due = $2, deadline = $3 WHERE id = $1`,
		t.ID, until, deadline); err != nil {
		return false, fmt.Errorf("hold digest %d: %w", t.ID, err)
	}
	if len(rest) == 0 {
		return true, nil
	}
	// The unique index covers open timelines only: the new one, made
	// claimed, stands beside the open one of the same target.
	var id int64
	if err := q.queryRow(ctx, `INSERT INTO digest_timelines (organization_id, project_id, integration_id, provider,
			target, state, first_record, due, deadline, date_created)
		VALUES ($1, $2, $3, $4, $5, 'claimed', $6, $7, $8, $6) RETURNING id`,
		t.OrganizationID, t.ProjectID, t.IntegrationID, t.Provider, t.Target, t.FirstRecord.UTC(), t.Due.UTC(),
		t.Deadline.UTC()).Scan(&id); err != nil {
		return false, fmt.Errorf("split digest %d: %w", t.ID, err)
	}
	for _, e := range rest {
		if _, err := q.exec(ctx, `UPDATE digest_records SET timeline_id = $2 WHERE timeline_id = $1 AND issue_id = $3`,
			t.ID, id, e.IssueID); err != nil {
			return false, fmt.Errorf("split digest %d: %w", t.ID, err)
		}
	}
	t.ID, t.Entries = id, rest
	return false, nil
}

func digestEntries(ctx context.Context, q querier, timelineID int64) ([]*DigestEntry, error) {
	rs, err := q.query(ctx, `SELECT r.issue_id, r.rule_id, r.event_id, r.reason, r.options, r.count, r.first_record, r.last_record,
			i.times_seen, i.first_seen, i.level
		FROM digest_records r JOIN issues i ON i.id = r.issue_id WHERE r.timeline_id = $1`, timelineID)
	if err != nil {
		return nil, fmt.Errorf("read digest %d: %w", timelineID, err)
	}
	defer rs.Close()
	var out []*DigestEntry
	for rs.Next() {
		var e DigestEntry
		if err := rs.Scan(&e.IssueID, &e.RuleID, &e.EventID, &e.Reason, &e.Options, &e.Records, &e.FirstRecord, &e.LastRecord,
			&e.TimesSeen, &e.FirstSeen, &e.Level); err != nil {
			return nil, fmt.Errorf("read digest %d: %w", timelineID, err)
		}
		out = append(out, &e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read digest %d: %w", timelineID, err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.TimesSeen != b.TimesSeen {
			return a.TimesSeen > b.TimesSeen
		}
		if !a.FirstSeen.Equal(b.FirstSeen) {
			return a.FirstSeen.Before(b.FirstSeen)
		}
		return a.IssueID < b.IssueID
	})
	return out, nil
}

// DigestDeliver replaces a claimed timeline by its deliveries, in one
// transaction: either the digest is still to be delivered, or its
// deliveries are queued (a delivery whose idempotency key exists is not
// added again).
func (s *Store) DigestDeliver(ctx context.Context, id int64, ds []*Delivery) error {
	return s.tx(ctx, func(q querier) error {
		for _, d := range ds {
			if err := deliveryInsert(ctx, q, d); err != nil {
				return err
			}
		}
		n, err := q.exec(ctx, `DELETE FROM digest_timelines WHERE id = $1 AND state = 'claimed'`, id)
		if err != nil {
			return fmt.Errorf("finish digest %d: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("digest %d: %w", id, ErrDigestNotClaimed)
		}
		return nil
	})
}

// ErrDigestNotClaimed says a digest was not (or no longer) claimed.
var ErrDigestNotClaimed = errors.New("digest not claimed")

// DigestDone removes a delivered timeline with its records.
func (s *Store) DigestDone(ctx context.Context, id int64) error {
	n, err := s.w.exec(ctx, `DELETE FROM digest_timelines WHERE id = $1 AND state = 'claimed'`, id)
	if err != nil {
		return fmt.Errorf("finish digest %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("digest %d: %w", id, ErrDigestNotClaimed)
	}
	return nil
}
