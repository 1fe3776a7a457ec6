package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// IssueFilter selects issues of an organization, as Sentry's issue search.
// Zero fields do not filter.
type IssueFilter struct {
	ProjectIDs []int64
	IDs        []int64
	Statuses   []string // unresolved, resolved, ignored
	Levels     []string
	// Assignment: "assigned", "unassigned", or "" for either.
	Assignment     string
	AssigneeUserID int64
	// AssigneeTeamIDs match issues assigned to any of the teams (used with
	// AssigneeUserID for "assigned:me", which includes my teams).
	AssigneeTeamIDs []int64
	Tags            []TagMatch
	// Text matches the title or the culprit, case-insensitively.
	Text string
	// SeenSince keeps issues seen at or after the time (statsPeriod).
	SeenSince time.Time
	// Sort: date (last seen, default), new (first seen), freq (events), user (users).
	Sort string
	Page Page
}

// TagMatch is a tag condition: the issue has an event with key=value (or
// none with it, when Negate).
type TagMatch struct {
	Key    string
	Value  string
	Negate bool
}

// IssueList returns the issues of the organization that match the filter.
func (s *Store) IssueList(ctx context.Context, orgID int64, f *IssueFilter) ([]*Issue, error) {
	where := []string{"p.organization_id = $1"}
	args := []any{orgID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	in := func(col string, vals []any) {
		ph := make([]string, len(vals))
		for i, v := range vals {
			ph[i] = arg(v)
		}
		where = append(where, col+" IN ("+strings.Join(ph, ", ")+")")
	}
	if len(f.ProjectIDs) > 0 {
		in("i.project_id", anySlice(f.ProjectIDs))
	}
	if len(f.IDs) > 0 {
		in("i.id", anySlice(f.IDs))
	}
	if len(f.Statuses) > 0 {
		in("i.status", anySlice(f.Statuses))
	}
	if len(f.Levels) > 0 {
		in("i.level", anySlice(f.Levels))
	}
	switch f.Assignment {
	case "assigned":
		where = append(where, "(i.assignee_user_id IS NOT NULL OR i.assignee_team_id IS NOT NULL)")
	case "unassigned":
		where = append(where, "i.assignee_user_id IS NULL AND i.assignee_team_id IS NULL")
	}
	if f.AssigneeUserID != 0 || len(f.AssigneeTeamIDs) > 0 {
		conds := []string{}
		if f.AssigneeUserID != 0 {
			conds = append(conds, "i.assignee_user_id = "+arg(f.AssigneeUserID))
		}
		if len(f.AssigneeTeamIDs) > 0 {
			ph := make([]string, len(f.AssigneeTeamIDs))
			for i, t := range f.AssigneeTeamIDs {
				ph[i] = arg(t)
			}
			conds = append(conds, "i.assignee_team_id IN ("+strings.Join(ph, ", ")+")")
		}
		where = append(where, "("+strings.Join(conds, " OR ")+")")
	}
	for _, t := range f.Tags {
		cond := "EXISTS (SELECT 1 FROM issue_tags t WHERE t.issue_id = i.id AND t.key = " + arg(t.Key) +
			" AND t.value = " + arg(t.Value) + ")"
		if t.Negate {
			cond = "NOT " + cond
		}
		where = append(where, cond)
	}
	if f.Text != "" {
		pat := "%" + escapeLike(strings.ToLower(f.Text)) + "%"
		p := arg(pat)
		where = append(where, "(LOWER(i.title) LIKE "+p+" ESCAPE '\\' OR LOWER(i.culprit) LIKE "+p+" ESCAPE '\\')")
	}
	if !f.SeenSince.IsZero() {
		where = append(where, "i.last_seen >= "+arg(f.SeenSince.UTC()))
	}
	order := "i.last_seen DESC"
	switch f.Sort {
	case "new":
		order = "i.first_seen DESC"
	case "freq":
		order = "i.times_seen DESC"
	case "user":
		order = "i.user_count DESC"
	}
	q := `SELECT ` + issueColumns + ` FROM issues i JOIN projects p ON p.id = i.project_id
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY ` + order + `, i.id DESC LIMIT ` + arg(f.Page.Limit) + ` OFFSET ` + arg(f.Page.Offset)
	rs, err := s.r.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list issues: %w", err)
	}
	defer rs.Close()
	var out []*Issue
	for rs.Next() {
		is, err := scanIssue(rs)
		if err != nil {
			return nil, fmt.Errorf("list issues: %w", err)
		}
		out = append(out, is)
	}
	return out, rs.Err()
}

func anySlice[T any](vs []T) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// IssueStats returns per-bucket event counts of issues from since to now:
// buckets of bucket length, oldest first, as Sentry's stats series.
func (s *Store) IssueStats(ctx context.Context, issueIDs []int64, since time.Time, bucket time.Duration, now time.Time) (map[int64][]StatPoint, error) {
	out := map[int64][]StatPoint{}
	if len(issueIDs) == 0 {
		return out, nil
	}
	start := since.Truncate(bucket)
	n := int(now.Sub(start)/bucket) + 1
	for _, id := range issueIDs {
		pts := make([]StatPoint, n)
		for i := range pts {
			pts[i].Time = start.Add(time.Duration(i) * bucket)
		}
		out[id] = pts
	}
	args := append([]any{minuteOf(start)}, anySlice(issueIDs)...)
	rs, err := s.r.query(ctx, `SELECT issue_id, minute, count FROM issue_counts
		WHERE minute >= $1 AND issue_id IN (`+placeholders(2, len(issueIDs))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("issue stats: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var id, minute, count int64
		if err := rs.Scan(&id, &minute, &count); err != nil {
			return nil, fmt.Errorf("issue stats: %w", err)
		}
		i := int(time.Unix(minute*60, 0).Sub(start) / bucket)
		if pts := out[id]; i >= 0 && i < len(pts) {
			pts[i].Count += count
		}
	}
	return out, rs.Err()
}

// StatPoint is one bucket of a stats series.
type StatPoint struct {
	Time  time.Time
	Count int64
}
