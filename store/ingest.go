package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tocsin/tocsin/event"
)

// IngestEvent is one processed event ready to be stored: normalized,
// grouped and compressed by the caller, outside the write transaction.
type IngestEvent struct {
	ProjectID       int64
	OrganizationID  int64
	Event           *event.Event
	Hash            string
	GroupingVersion string
	Data            []byte // CompressEventData of the normalized JSON
	Size            int    // the JSON's size before compression
	// Kind, when set, is the outbox kind for this event instead of the one
	// derived from what it did (ActivityCheckIn for cron failures).
	Kind string
	// ClaimUntil, when set, writes the event's outbox entry already leased
	// until then: the process that stores it evaluates it itself, and
	// other workers take it only if that lease runs out.
	ClaimUntil time.Time
}

// IngestResult says what storing an event did.
type IngestResult struct {
	EventRowID int64
	OutboxID   int64  // the event's outbox entry
	Kind       string // its activity kind
	IssueID    int64
	Duplicate  bool // an event with this id was already stored; nothing changed
	NewIssue   bool
	Regression bool // a resolved issue reopened
	Unignored  bool // an ignored issue's condition ran out
	// Issue is the issue as this event left it, as committed (the rules
	// engine of the same process evaluates the event on it).
	Issue *Issue
}

// Activity kinds that the outbox carries to the rules engine, one row per
// stored event, naming the most significant thing the event did.
const (
	ActivityNewIssue   = "new_issue"
	ActivityRegression = "regression"
	ActivityEscalating = "escalating"
	ActivityUnignored  = "unignored"
	ActivityEvent      = "event"
	ActivityStatus     = "status_change"
	ActivityCheckIn    = "check_in_failure"
)

// IngestEnvelope is everything one request brought for one project,
// stored in one transaction with the rest of its batch.
type IngestEnvelope struct {
	ProjectID      int64
	OrganizationID int64
	Received       time.Time
	Events         []*IngestEvent
	Transactions   int64
	Sessions       []SessionUpdate
	Attachments    []Attachment
	UserReports    []UserReport
	Discards       []Discard
	CheckIns       []CheckIn
	// Results has one entry per event, filled by IngestBatch.
	Results []IngestResult
}

// IngestBatch stores envelopes in one transaction: the events, their
// issues (created, counted, reopened), users, tags, per-minute counts,
// releases, the activity history and the outbox rows the rules engine
// reads, plus sessions, attachments, feedback, client reports and cron
// check-ins. Either all of it is committed or none.
func (s *Store) IngestBatch(ctx context.Context, envs []*IngestEnvelope) error {
	return s.tx(ctx, func(q querier) error {
		agg := newAggregates()
		if err := s.lockIssues(ctx, q, envs); err != nil {
			return err
		}
		for _, env := range envs {
			env.Results = make([]IngestResult, len(env.Events))
			for i, ie := range env.Events {
				r, err := s.ingestOne(ctx, q, ie, agg)
				if err != nil {
					return fmt.Errorf("store event %s: %w", ie.Event.ID, err)
				}
				env.Results[i] = r
			}
			if err := s.ingestItems(ctx, q, env, agg); err != nil {
				return err
			}
		}
		return agg.flush(ctx, q)
	})
}

// issueAfter is the issue is as the UPDATE of ingestOne leaves it, worked
// out in memory from the row it read (which the transaction holds: SQLite
// has one writer, PostgreSQL locks the row). TestStore_IngestIssueAfter
// holds the two to the same result.
func issueAfter(is *Issue, ev *event.Event, newUser int64, status, substatus string, resolvedAt *time.Time, clearIgnore bool) *Issue {
	after := *is
	after.TimesSeen++
	after.UserCount += newUser
	ts := ev.Timestamp.UTC()
	if ts.After(is.LastSeen) {
		after.LastSeen = ts
	}
	if ts.Before(is.FirstSeen) {
		after.FirstSeen = ts
	}
	after.Level = ev.Level
	if ev.Release != "" && !ts.Before(is.LastSeen) {
		after.LastRelease = ev.Release
	}
	after.Status, after.Substatus, after.ResolvedAt = status, substatus, resolvedAt
	if status != StatusResolved {
		after.ResolvedInRelease = ""
	}
	if clearIgnore {
		after.Ignore.Until, after.Ignore.Count, after.Ignore.UserCount = nil, 0, 0
	}
	return &after
}

// lockIssues locks, on PostgreSQL, the existing issues a batch will update,
// in id order, before any is touched: concurrent writers then take issue
// locks in one order and cannot deadlock each other, while events are
// still stored in the order they came (SQLite has one writer).
func (s *Store) lockIssues(ctx context.Context, q querier, envs []*IngestEnvelope) error {
	if s.engine != Postgres {
		return nil
	}
	var args []any
	var pairs []string
	seen := map[string]bool{}
	for _, env := range envs {
		for _, ie := range env.Events {
			k := fmt.Sprint(ie.ProjectID, ie.Hash)
			if seen[k] {
				continue
			}
			seen[k] = true
			args = append(args, ie.ProjectID, ie.Hash)
			pairs = append(pairs, fmt.Sprintf("($%d::bigint, $%d::text)", len(args)-1, len(args)))
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	rs, err := q.query(ctx, `SELECT i.id FROM issues i JOIN issue_hashes h ON h.issue_id = i.id
		WHERE (h.project_id, h.hash) IN (`+strings.Join(pairs, ", ")+`) ORDER BY i.id FOR UPDATE OF i`, args...)
	if err != nil {
		return fmt.Errorf("lock issues: %w", err)
	}
	for rs.Next() {
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("lock issues: %w", err)
	}
	return nil
}

// aggregates collects counter increments of a batch so that each counter
// row is written once per batch, not once per event.
type aggregates struct {
	tags     map[tagKey]*tagCount
	issueMin map[[2]int64]int64     // (issue, minute) → events
	projMin  map[projCountKey]int64 // accepted, discarded… per category
	releases map[releaseKey]*relAgg // per organization and version
}

type projCountKey struct {
	project           int64
	minute            int64
	category, outcome string
}

type tagKey struct {
	issue      int64
	key, value string
}

type tagCount struct {
	n           int64
	first, last time.Time
}

type releaseKey struct {
	org     int64
	project int64
	version string
}

type relAgg struct {
	first, last time.Time
	newGroups   int
}

func newAggregates() *aggregates {
	return &aggregates{tags: map[tagKey]*tagCount{}, issueMin: map[[2]int64]int64{},
		projMin: map[projCountKey]int64{}, releases: map[releaseKey]*relAgg{}}
}

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

func (s *Store) ingestOne(ctx context.Context, q querier, ie *IngestEvent, agg *aggregates) (IngestResult, error) {
	ev := ie.Event
	var res IngestResult
	issue, created, err := s.issueForHash(ctx, q, ie)
	if err != nil {
		return res, err
	}
	res.IssueID, res.NewIssue = issue.ID, created

	ident := ev.User.Identity()
	err = q.queryRow(ctx, `
		INSERT INTO events (project_id, issue_id, event_id, type, timestamp, received, level, title,
			environment, release, user_ident, size, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (project_id, event_id) DO NOTHING RETURNING id`,
		ie.ProjectID, issue.ID, ev.ID, ev.Type, ev.Timestamp, ev.Received, ev.Level, truncateRunes(ev.Title(), 200),
		ev.Environment, ev.Release, ident, ie.Size, ie.Data).Scan(&res.EventRowID)
	if isNoRows(err) {
		// A client resent an event it had sent before: keep the first.
		if created {
			if _, err := q.exec(ctx, `DELETE FROM issues WHERE id = $1`, issue.ID); err != nil {
				return res, fmt.Errorf("drop issue of duplicate event: %w", err)
			}
		}
		return IngestResult{Duplicate: true}, nil
	}
	if err != nil {
		return res, fmt.Errorf("insert event: %w", err)
	}

	newUser := int64(0)
	if ident != "" {
		n, err := q.exec(ctx, `INSERT INTO issue_users (issue_id, user_ident, first_seen) VALUES ($1, $2, $3)
			ON CONFLICT (issue_id, user_ident) DO NOTHING`, issue.ID, ident, ev.Timestamp)
		if err != nil {
			return res, fmt.Errorf("count user: %w", err)
		}
		newUser = n
	}

	kind := ActivityEvent
	status, substatus := issue.Status, issue.Substatus
	resolvedAt := issue.ResolvedAt
	var activity string
	switch {
	case created:
		kind, activity = ActivityNewIssue, "first_seen"
	case issue.Status == StatusResolved && regresses(issue, ev):
		res.Regression = true
		kind, activity = ActivityRegression, "set_regression"
		status, substatus, resolvedAt = StatusUnresolved, SubstatusRegressed, nil
	case issue.Status == StatusIgnored:
		why, err := s.ignoreEnds(ctx, q, issue, ev, newUser, agg)
		if err != nil {
			return res, err
		}
		if why != "" {
			res.Unignored = true
			kind, activity = why, "set_unresolved"
			status, substatus = StatusUnresolved, SubstatusOngoing
			if why == ActivityEscalating {
				substatus = SubstatusEscalating
			}
		}
	case issue.Substatus == SubstatusNew && ev.Received.Sub(issue.FirstSeen) > 3*24*time.Hour:
		// Sentry's "new" lasts three days; after that an issue is ongoing.
		substatus = SubstatusOngoing
	}
	if ie.Kind != "" {
		kind = ie.Kind
	}
	clearIgnore := res.Unignored
	_, err = q.exec(ctx, `
		UPDATE issues SET
			times_seen = times_seen + 1,
			user_count = user_count + $2,
			last_seen = CASE WHEN $3 > last_seen THEN $3 ELSE last_seen END,
			first_seen = CASE WHEN $3 < first_seen THEN $3 ELSE first_seen END,
			level = $4,
			last_release = CASE WHEN $5 <> '' AND $3 >= last_seen THEN $5 ELSE last_release END,
			status = $6, substatus = $7, resolved_at = $8,
			resolved_in_release = CASE WHEN $6 = 'resolved' THEN resolved_in_release ELSE '' END,
			ignore_until = CASE WHEN $9 THEN NULL ELSE ignore_until END,
			ignore_count = CASE WHEN $9 THEN 0 ELSE ignore_count END,
			ignore_user_count = CASE WHEN $9 THEN 0 ELSE ignore_user_count END
		WHERE id = $1`,
		issue.ID, newUser, ev.Timestamp, ev.Level, ev.Release, status, substatus, resolvedAt, clearIgnore)
	if err != nil {
		return res, fmt.Errorf("update issue %d: %w", issue.ID, err)
	}
	res.Issue = issueAfter(issue, ev, newUser, status, substatus, resolvedAt, clearIgnore)
	if activity != "" {
		data := "{}"
		if res.Regression && ev.Release != "" {
			b, _ := json.Marshal(map[string]string{"version": ev.Release})
			data = string(b)
		}
		if err := insertActivity(ctx, q, ie.ProjectID, issue.ID, activity, nil, data, ev.Received); err != nil {
			return res, err
		}
	}
	var claimed *time.Time
	if !ie.ClaimUntil.IsZero() {
		claimed = &ie.ClaimUntil
	}
	if err := q.queryRow(ctx, `INSERT INTO activity_outbox (project_id, issue_id, event_row_id, kind, date_created, claimed_until)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, ie.ProjectID, issue.ID, res.EventRowID, kind, ev.Received, claimed).Scan(&res.OutboxID); err != nil {
		return res, fmt.Errorf("queue activity: %w", err)
	}
	res.Kind = kind

	for _, t := range ev.IndexTags() {
		k := tagKey{issue.ID, t.Key, t.Value}
		c := agg.tags[k]
		if c == nil {
			c = &tagCount{first: ev.Timestamp, last: ev.Timestamp}
			agg.tags[k] = c
		}
		c.n++
		if ev.Timestamp.Before(c.first) {
			c.first = ev.Timestamp
		}
		if ev.Timestamp.After(c.last) {
			c.last = ev.Timestamp
		}
	}
	agg.issueMin[[2]int64{issue.ID, minuteOf(ev.Received)}]++
	agg.projMin[projCountKey{ie.ProjectID, minuteOf(ev.Received), "error", "accepted"}]++
	if ev.Release != "" {
		k := releaseKey{ie.OrganizationID, ie.ProjectID, ev.Release}
		r := agg.releases[k]
		if r == nil {
			r = &relAgg{first: ev.Timestamp, last: ev.Timestamp}
			agg.releases[k] = r
		}
		if ev.Timestamp.Before(r.first) {
			r.first = ev.Timestamp
		}
		if ev.Timestamp.After(r.last) {
			r.last = ev.Timestamp
		}
		if created {
			r.newGroups++
		}
	}
	return res, nil
}

// regresses reports whether an event reopens a resolved issue. An issue
// resolved "in the next release" stays resolved for events of the release
// it was resolved in (and events that name no release).
func regresses(is *Issue, ev *event.Event) bool {
	// An event that happened before the resolution (a client sending late)
	// is old news, as Sentry treats it.
	if is.ResolvedAt != nil && ev.Timestamp.Before(*is.ResolvedAt) {
		return false
	}
	if is.ResolvedInRelease == "" {
		return true
	}
	return ev.Release != "" && ev.Release != is.ResolvedInRelease
}

// ignoreEnds reports why an ignored issue stops being ignored with this
// event: ActivityUnignored when its time ran out, ActivityEscalating when
// it passed its event or user count; "" while it stays ignored.
func (s *Store) ignoreEnds(ctx context.Context, q querier, is *Issue, ev *event.Event, newUser int64, agg *aggregates) (string, error) {
	ig := is.Ignore
	if ig.Until != nil && !ev.Received.Before(*ig.Until) {
		return ActivityUnignored, nil
	}
	if ig.Count > 0 {
		n := is.TimesSeen + 1 - ig.BaseCount
		if ig.Window > 0 {
			since := minuteOf(ev.Received) - int64(ig.Window) + 1
			if err := q.queryRow(ctx, `SELECT COALESCE(SUM(count), 0) FROM issue_counts WHERE issue_id = $1 AND minute >= $2`,
				is.ID, since).Scan(&n); err != nil {
				return "", fmt.Errorf("count recent events: %w", err)
			}
			// This event's count, and those of the batch's earlier events,
			// are not flushed yet.
			n++
			for k, c := range agg.issueMin {
				if k[0] == is.ID && k[1] >= since {
					n += c
				}
			}
		}
		if n >= ig.Count {
			return ActivityEscalating, nil
		}
	}
	if ig.UserCount > 0 {
		n := is.UserCount + newUser - ig.BaseUsers
		if ig.UserWindow > 0 {
			since := ev.Received.Add(-time.Duration(ig.UserWindow) * time.Minute)
			if err := q.queryRow(ctx, `SELECT COUNT(DISTINCT user_ident) FROM events
				WHERE issue_id = $1 AND received >= $2 AND user_ident <> ''`, is.ID, since).Scan(&n); err != nil {
				return "", fmt.Errorf("count recent users: %w", err)
			}
		}
		if n >= ig.UserCount {
			return ActivityEscalating, nil
		}
	}
	return "", nil
}

// issueForHash finds the issue of the event's hash or creates it. When two
// processes create the same hash at once, the loser drops its new issue
// and joins the winner's.
func (s *Store) issueForHash(ctx context.Context, q querier, ie *IngestEvent) (*Issue, bool, error) {
	lock := ""
	if s.engine == Postgres {
		lock = " FOR UPDATE OF i"
	}
	is, err := scanIssue(q.queryRow(ctx, `SELECT `+issueColumns+` FROM issue_hashes h
		JOIN issues i ON i.id = h.issue_id WHERE h.project_id = $1 AND h.hash = $2`+lock, ie.ProjectID, ie.Hash))
	if err == nil {
		return is, false, nil
	}
	if !isNoRows(err) {
		return nil, false, fmt.Errorf("find issue: %w", err)
	}
	ev := ie.Event
	is = &Issue{ProjectID: ie.ProjectID, Type: ev.Type, Title: truncateRunes(ev.Title(), 200),
		Culprit: truncateRunes(ev.DerivedCulprit(), 200), Level: ev.Level, Platform: ev.Platform, Logger: ev.Logger,
		Metadata: ev.Metadata(), Status: StatusUnresolved, Substatus: SubstatusNew, FirstSeen: ev.Timestamp,
		LastSeen: ev.Timestamp, FirstRelease: ev.Release, LastRelease: ev.Release, GroupingVersion: ie.GroupingVersion}
	if err := q.queryRow(ctx, `UPDATE projects SET next_short_id = next_short_id + 1 WHERE id = $1
		RETURNING next_short_id - 1`, ie.ProjectID).Scan(&is.ShortID); err != nil {
		return nil, false, notFound(err, fmt.Sprintf("project %d", ie.ProjectID))
	}
	md, _ := json.Marshal(is.Metadata)
	err = q.queryRow(ctx, `
		INSERT INTO issues (project_id, short_id, type, title, culprit, level, platform, logger, metadata,
			status, substatus, first_seen, last_seen, first_release, last_release, grouping_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		is.ProjectID, is.ShortID, is.Type, is.Title, is.Culprit, is.Level, is.Platform, is.Logger, string(md),
		is.Status, is.Substatus, is.FirstSeen, is.LastSeen, is.FirstRelease, is.LastRelease, is.GroupingVersion).Scan(&is.ID)
	if err != nil {
		return nil, false, fmt.Errorf("create issue: %w", err)
	}
	var got int64
	err = q.queryRow(ctx, `INSERT INTO issue_hashes (project_id, hash, issue_id, grouping_version)
		VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, hash) DO NOTHING RETURNING issue_id`,
		ie.ProjectID, ie.Hash, is.ID, ie.GroupingVersion).Scan(&got)
	if err == nil {
		return is, true, nil
	}
	if !isNoRows(err) {
		return nil, false, fmt.Errorf("record issue hash: %w", err)
	}
	// Another process created this hash's issue first.
	if _, err := q.exec(ctx, `DELETE FROM issues WHERE id = $1`, is.ID); err != nil {
		return nil, false, fmt.Errorf("drop raced issue: %w", err)
	}
	is, err = scanIssue(q.queryRow(ctx, `SELECT `+issueColumns+` FROM issue_hashes h
		JOIN issues i ON i.id = h.issue_id WHERE h.project_id = $1 AND h.hash = $2`+lock, ie.ProjectID, ie.Hash))
	if err != nil {
		return nil, false, fmt.Errorf("find raced issue: %w", err)
	}
	return is, false, nil
}

// flushChunk bounds the rows of one multi-row upsert.
const flushChunk = 64

// upsertRows writes rows with one INSERT … ON CONFLICT per chunk: a batch's
// counters cost a handful of statements instead of one per row. Each row
// has len(cols) values; the keys are unique within a call.
func upsertRows(ctx context.Context, q querier, table string, cols []string, conflict, update string, rows [][]any) error {
	for len(rows) > 0 {
		// Chunks of a power of two rows: a handful of statement texts per
		// table, each prepared once and kept, instead of one per batch size.
		n := flushChunk
		for n > len(rows) {
			n /= 2
		}
		args := make([]any, 0, n*len(cols))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if _, err := q.exec(ctx, upsertSQL(table, cols, conflict, update, n), args...); err != nil {
			return fmt.Errorf("update %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// upsertTexts caches upsertSQL's texts: building them was a tenth of
// upsertRows.
var upsertTexts sync.Map // upsertText → string

type upsertText struct {
	table, conflict, update string
	rows                    int
}

// upsertSQL is the INSERT … ON CONFLICT DO UPDATE of n rows into table.
func upsertSQL(table string, cols []string, conflict, update string, n int) string {
	k := upsertText{table, conflict, update, n}
	if v, ok := upsertTexts.Load(k); ok {
		return v.(string)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, strings.Join(cols, ", "))
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + placeholders(i*len(cols)+1, len(cols)) + ")")
	}
	fmt.Fprintf(&b, " ON CONFLICT (%s) DO UPDATE SET %s", conflict, update)
	upsertTexts.Store(k, b.String())
	return b.String()
}

func (a *aggregates) flush(ctx context.Context, q querier) error {
	tagRows := make([][]any, 0, len(a.tags))
	for k, c := range a.tags {
		tagRows = append(tagRows, []any{k.issue, k.key, k.value, c.n, c.first, c.last})
	}
	// A stable order keeps concurrent writers (PostgreSQL) from locking the
	// same rows in different orders.
	sort.Slice(tagRows, func(i, j int) bool {
		a, b := tagRows[i], tagRows[j]
		if a[0].(int64) != b[0].(int64) {
			return a[0].(int64) < b[0].(int64)
		}
		if a[1].(string) != b[1].(string) {
			return a[1].(string) < b[1].(string)
		}
		return a[2].(string) < b[2].(string)
	})
	if err := upsertRows(ctx, q, "issue_tags", []string{"issue_id", "key", "value", "times_seen", "first_seen", "last_seen"},
		"issue_id, key, value", `times_seen = issue_tags.times_seen + excluded.times_seen,
			first_seen = CASE WHEN excluded.first_seen < issue_tags.first_seen THEN excluded.first_seen ELSE issue_tags.first_seen END,
			last_seen = CASE WHEN excluded.last_seen > issue_tags.last_seen THEN excluded.last_seen ELSE issue_tags.last_seen END`,
		tagRows); err != nil {
		return err
	}
	countRows := make([][]any, 0, len(a.issueMin))
	for k, n := range a.issueMin {
		countRows = append(countRows, []any{k[0], k[1], n})
	}
	sort.Slice(countRows, func(i, j int) bool {
		a, b := countRows[i], countRows[j]
		return a[0].(int64) < b[0].(int64) || a[0].(int64) == b[0].(int64) && a[1].(int64) < b[1].(int64)
	})
	if err := upsertRows(ctx, q, "issue_counts", []string{"issue_id", "minute", "count"}, "issue_id, minute",
		"count = issue_counts.count + excluded.count", countRows); err != nil {
		return err
	}
	projRows := make([][]any, 0, len(a.projMin))
	for k, n := range a.projMin {
		projRows = append(projRows, []any{k.project, k.minute, k.category, k.outcome, n})
	}
	sort.Slice(projRows, func(i, j int) bool { return fmt.Sprint(projRows[i][:4]) < fmt.Sprint(projRows[j][:4]) })
	if err := upsertRows(ctx, q, "project_counts", []string{"project_id", "minute", "category", "outcome", "count"},
		"project_id, minute, category, outcome", "count = project_counts.count + excluded.count", projRows); err != nil {
		return err
	}
	keys := make([]releaseKey, 0, len(a.releases))
	for k := range a.releases {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	for _, k := range keys {
		if err := upsertRelease(ctx, q, k, a.releases[k]); err != nil {
			return err
		}
	}
	return nil
}

func upsertRelease(ctx context.Context, q querier, k releaseKey, r *relAgg) error {
	var id int64
	err := q.queryRow(ctx, `
		INSERT INTO releases (organization_id, version, date_created, first_event, last_event, new_groups)
		VALUES ($1, $2, $3, $3, $4, $5)
		ON CONFLICT (organization_id, version) DO UPDATE SET
			first_event = CASE WHEN releases.first_event IS NULL OR excluded.first_event < releases.first_event
				THEN excluded.first_event ELSE releases.first_event END,
			last_event = CASE WHEN releases.last_event IS NULL OR excluded.last_event > releases.last_event
				THEN excluded.last_event ELSE releases.last_event END,
			new_groups = releases.new_groups + excluded.new_groups
		RETURNING id`, k.org, truncateRunes(k.version, 200), r.first, r.last, r.newGroups).Scan(&id)
	if err != nil {
		return fmt.Errorf("record release %s: %w", k.version, err)
	}
	if _, err := q.exec(ctx, `INSERT INTO release_projects (release_id, project_id) VALUES ($1, $2)
		ON CONFLICT (release_id, project_id) DO NOTHING`, id, k.project); err != nil {
		return fmt.Errorf("record release %s: %w", k.version, err)
	}
	return nil
}

func insertActivity(ctx context.Context, q querier, projectID, issueID int64, kind string, userID *int64, data string, at time.Time) error {
	if _, err := q.exec(ctx, `INSERT INTO activities (project_id, issue_id, kind, user_id, data, date_created)
		VALUES ($1, $2, $3, $4, $5, $6)`, projectID, issueID, kind, userID, data, at.UTC()); err != nil {
		return fmt.Errorf("record activity %s: %w", kind, err)
	}
	return nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
