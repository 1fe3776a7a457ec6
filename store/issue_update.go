package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// IssueUpdate is a change people make to issues: status, ignore
// conditions, assignment. Nil fields are left as they are.
type IssueUpdate struct {
	// Status is unresolved, resolved or ignored.
	Status *string
	// ResolvedInRelease, with Status resolved, keeps the issue resolved for
	// events of that release (Sentry's "resolved in next release" names the
	// project's latest release here).
	ResolvedInRelease string
	// Ignore, with Status ignored, says until when.
	Ignore IgnoreOptions
	// Assign changes the assignee when set: a user, a team, or neither to unassign.
	Assign         bool
	AssigneeUserID *int64
	AssigneeTeamID *int64
	// ActorID is the user making the change, recorded in the activity.
	ActorID *int64
	At      time.Time
}

// IssuesUpdate applies one change to issues of the organization, recording
// an activity per changed issue and queueing a status change for the rules
// engine, all in one transaction. It returns the updated issues.
func (s *Store) IssuesUpdate(ctx context.Context, orgID int64, ids []int64, u *IssueUpdate) ([]*Issue, error) {
	if u.At.IsZero() {
		u.At = now()
	}
	var out []*Issue
	err := s.tx(ctx, func(q querier) error {
		out = out[:0]
		for _, id := range ids {
			is, err := s.issueGet(ctx, q, orgID, id)
			if err != nil {
				return err
			}
			if err := s.issueUpdate(ctx, q, is, u); err != nil {
				return err
			}
			if is, err = s.issueGet(ctx, q, orgID, id); err != nil {
				return err
			}
			out = append(out, is)
		}
		return nil
	})
	return out, err
}

func (s *Store) issueUpdate(ctx context.Context, q querier, is *Issue, u *IssueUpdate) error {
	type activity struct {
		kind string
		data map[string]any
	}
	var acts []activity
	if u.Status != nil {
		st := *u.Status
		switch st {
		case StatusResolved:
			if _, err := q.exec(ctx, `UPDATE issues SET status = 'resolved', substatus = '', resolved_at = $2,
				resolved_in_release = $3, ignore_until = NULL, ignore_count = 0, ignore_user_count = 0 WHERE id = $1`,
				is.ID, u.At, u.ResolvedInRelease); err != nil {
				return fmt.Errorf("resolve issue %d: %w", is.ID, err)
			}
			if u.ResolvedInRelease != "" {
				acts = append(acts, activity{"set_resolved_in_release", map[string]any{"version": u.ResolvedInRelease}})
			} else if is.Status != StatusResolved {
				acts = append(acts, activity{"set_resolved", nil})
			}
		case StatusIgnored:
			ig := u.Ignore
			sub := SubstatusForever
			if ig.Until != nil || ig.Count > 0 || ig.UserCount > 0 {
				sub = SubstatusUntil
			}
			if _, err := q.exec(ctx, `UPDATE issues SET status = 'ignored', substatus = $2, resolved_at = NULL,
				resolved_in_release = '', ignore_until = $3, ignore_count = $4, ignore_window = $5,
				ignore_user_count = $6, ignore_user_window = $7, ignore_base_count = times_seen,
				ignore_base_users = user_count WHERE id = $1`,
				is.ID, sub, ig.Until, ig.Count, ig.Window, ig.UserCount, ig.UserWindow); err != nil {
				return fmt.Errorf("ignore issue %d: %w", is.ID, err)
			}
			data := map[string]any{}
			if ig.Until != nil {
				data["ignoreUntil"] = ig.Until.UTC()
			}
			if ig.Count > 0 {
				data["ignoreCount"], data["ignoreWindow"] = ig.Count, ig.Window
			}
			if ig.UserCount > 0 {
				data["ignoreUserCount"], data["ignoreUserWindow"] = ig.UserCount, ig.UserWindow
			}
			acts = append(acts, activity{"set_ignored", data})
		case StatusUnresolved:
			if is.Status == StatusUnresolved {
				break
			}
			if _, err := q.exec(ctx, `UPDATE issues SET status = 'unresolved', substatus = 'ongoing', resolved_at = NULL,
				resolved_in_release = '', ignore_until = NULL, ignore_count = 0, ignore_user_count = 0 WHERE id = $1`,
				is.ID); err != nil {
				return fmt.Errorf("reopen issue %d: %w", is.ID, err)
			}
			acts = append(acts, activity{"set_unresolved", nil})
		default:
			return fmt.Errorf("unknown status %q", st)
		}
	}
	if u.Assign {
		if _, err := q.exec(ctx, `UPDATE issues SET assignee_user_id = $2, assignee_team_id = $3 WHERE id = $1`,
			is.ID, u.AssigneeUserID, u.AssigneeTeamID); err != nil {
			return fmt.Errorf("assign issue %d: %w", is.ID, err)
		}
		switch {
		case u.AssigneeUserID != nil:
			acts = append(acts, activity{"assigned", map[string]any{"assignee": fmt.Sprint(*u.AssigneeUserID), "assigneeType": "user"}})
		case u.AssigneeTeamID != nil:
			acts = append(acts, activity{"assigned", map[string]any{"assignee": fmt.Sprint(*u.AssigneeTeamID), "assigneeType": "team"}})
		case is.AssigneeUserID != nil || is.AssigneeTeamID != nil:
			acts = append(acts, activity{"unassigned", nil})
		}
	}
	for _, a := range acts {
		data := "{}"
		if a.data != nil {
			b, _ := json.Marshal(a.data)
			data = string(b)
		}
		if err := insertActivity(ctx, q, is.ProjectID, is.ID, a.kind, u.ActorID, data, u.At); err != nil {
			return err
		}
	}
	if len(acts) > 0 {
		if _, err := q.exec(ctx, `INSERT INTO activity_outbox (project_id, issue_id, kind, date_created)
			VALUES ($1, $2, $3, $4)`, is.ProjectID, is.ID, ActivityStatus, u.At); err != nil {
			return fmt.Errorf("queue status change: %w", err)
		}
	}
	return nil
}

// IssuesDelete removes issues of the organization with their events. When
// one of them is not the organization's (or does not exist) it deletes
// nothing and returns ErrNotFound, as IssuesUpdate does.
func (s *Store) IssuesDelete(ctx context.Context, orgID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return s.tx(ctx, func(q querier) error {
		args := append([]any{orgID}, anySlice(ids)...)
		n, err := q.exec(ctx, `DELETE FROM issues WHERE id IN (`+placeholders(2, len(ids))+`)
			AND project_id IN (SELECT id FROM projects WHERE organization_id = $1)`, args...)
		if err != nil {
			return fmt.Errorf("delete issues: %w", err)
		}
		if n != int64(len(ids)) {
			return fmt.Errorf("delete issues: %d of %d: %w", len(ids)-int(n), len(ids), ErrNotFound)
		}
		return nil
	})
}

// IssueOrganization returns the organization an issue belongs to, for
// paths like /api/0/issues/{id}/ that do not name it. The caller must then
// check membership.
func (s *Store) IssueOrganization(ctx context.Context, issueID int64) (string, error) {
	var slug string
	err := s.r.queryRow(ctx, `SELECT o.slug FROM issues i JOIN projects p ON p.id = i.project_id
		JOIN organizations o ON o.id = p.organization_id WHERE i.id = $1`, issueID).Scan(&slug)
	if err != nil {
		return "", notFound(err, fmt.Sprintf("issue %d", issueID))
	}
	return slug, nil
}

// Activity is an entry of an issue's history.
type Activity struct {
	ID          int64
	IssueID     int64
	Kind        string
	UserID      *int64
	Data        map[string]any
	DateCreated time.Time
}

// ActivityList returns an issue's history, newest first.
func (s *Store) ActivityList(ctx context.Context, issueID int64, limit int) ([]*Activity, error) {
	rs, err := s.r.query(ctx, `SELECT id, issue_id, kind, user_id, data, date_created FROM activities
		WHERE issue_id = $1 ORDER BY id DESC LIMIT $2`, issueID, limit)
	if err != nil {
		return nil, fmt.Errorf("list activity: %w", err)
	}
	defer rs.Close()
	var out []*Activity
	for rs.Next() {
		var (
			a    Activity
			data string
		)
		if err := rs.Scan(&a.ID, &a.IssueID, &a.Kind, &a.UserID, &data, &a.DateCreated); err != nil {
			return nil, fmt.Errorf("list activity: %w", err)
		}
		_ = json.Unmarshal([]byte(data), &a.Data)
		out = append(out, &a)
	}
	return out, rs.Err()
}
