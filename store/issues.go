package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin/tocsin/event"
)

// Issue statuses, as Sentry's API names them.
const (
	StatusUnresolved = "unresolved"
	StatusResolved   = "resolved"
	StatusIgnored    = "ignored"
)

// Issue substatuses (Sentry's GroupSubStatus).
const (
	SubstatusNew        = "new"
	SubstatusOngoing    = "ongoing"
	SubstatusRegressed  = "regressed"
	SubstatusEscalating = "escalating"
	SubstatusForever    = "archived_forever"
	SubstatusUntil      = "archived_until_condition_met"
)

// Issue is a group of events with the same grouping hash.
type Issue struct {
	ID                int64
	ProjectID         int64
	ShortID           int64 // per project, shown as PROJECT-1A
	Type              string
	Title             string
	Culprit           string
	Level             string
	Platform          string
	Logger            string
	Metadata          event.Metadata
	Status            string
	Substatus         string
	FirstSeen         time.Time
	LastSeen          time.Time
	TimesSeen         int64
	UserCount         int64
	FirstRelease      string
	LastRelease       string
	ResolvedAt        *time.Time
	ResolvedInRelease string
	Ignore            IgnoreOptions
	AssigneeUserID    *int64
	AssigneeTeamID    *int64
	GroupingVersion   string
}

// IgnoreOptions say until when an ignored issue stays ignored, as Sentry's
// statusDetails: a time, or N more events / users (optionally within a
// window of minutes). Zero values mean "not set"; all zero means forever.
type IgnoreOptions struct {
	Until      *time.Time
	Count      int64
	Window     int // minutes
	UserCount  int64
	UserWindow int // minutes
	// BaseCount and BaseUsers are the counts when the issue was ignored.
	BaseCount int64
	BaseUsers int64
}

const issueColumns = `i.id, i.project_id, i.short_id, i.type, i.title, i.culprit, i.level, i.platform, i.logger,
	i.metadata, i.status, i.substatus, i.first_seen, i.last_seen, i.times_seen, i.user_count,
	i.first_release, i.last_release, i.resolved_at, i.resolved_in_release,
	i.ignore_until, i.ignore_count, i.ignore_window, i.ignore_user_count, i.ignore_user_window,
	i.ignore_base_count, i.ignore_base_users, i.assignee_user_id, i.assignee_team_id, i.grouping_version`

func scanIssue(r row, extra ...any) (*Issue, error) {
	var (
		is Issue
		md string
	)
	err := r.Scan(append([]any{&is.ID, &is.ProjectID, &is.ShortID, &is.Type, &is.Title, &is.Culprit, &is.Level,
		&is.Platform, &is.Logger, &md, &is.Status, &is.Substatus, &is.FirstSeen, &is.LastSeen, &is.TimesSeen,
		&is.UserCount, &is.FirstRelease, &is.LastRelease, &is.ResolvedAt, &is.ResolvedInRelease,
		&is.Ignore.Until, &is.Ignore.Count, &is.Ignore.Window, &is.Ignore.UserCount, &is.Ignore.UserWindow,
		&is.Ignore.BaseCount, &is.Ignore.BaseUsers, &is.AssigneeUserID, &is.AssigneeTeamID, &is.GroupingVersion},
		extra...)...)
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(md), &is.Metadata)
	return &is, nil
}

// IssueGet returns an issue of the organization by id.
func (s *Store) IssueGet(ctx context.Context, orgID, issueID int64) (*Issue, error) {
	return s.issueGet(ctx, s.r, orgID, issueID)
}

func (s *Store) issueGet(ctx context.Context, q querier, orgID, issueID int64) (*Issue, error) {
	is, err := scanIssue(q.queryRow(ctx, `SELECT `+issueColumns+` FROM issues i
		JOIN projects p ON p.id = i.project_id
		WHERE p.organization_id = $1 AND i.id = $2`, orgID, issueID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("issue %d", issueID))
	}
	return is, nil
}

// IssueGetByShortID returns an issue of a project by its short id number.
func (s *Store) IssueGetByShortID(ctx context.Context, orgID, projectID, shortID int64) (*Issue, error) {
	is, err := scanIssue(s.r.queryRow(ctx, `SELECT `+issueColumns+` FROM issues i
		JOIN projects p ON p.id = i.project_id
		WHERE p.organization_id = $1 AND i.project_id = $2 AND i.short_id = $3`, orgID, projectID, shortID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("issue %d", shortID))
	}
	return is, nil
}

// shortIDAlphabet is Sentry's base32 for short ids (Crockford's, without I, L, O, U).
const shortIDAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ShortID renders a project's issue number as Sentry does: DEFAULT-1A.
func ShortID(projectSlug string, n int64) string {
	var b []byte
	for n > 0 {
		b = append([]byte{shortIDAlphabet[n%32]}, b...)
		n /= 32
	}
	if len(b) == 0 {
		b = []byte{'0'}
	}
	return strings.ToUpper(projectSlug) + "-" + string(b)
}

// ParseShortID reads "SLUG-1A" back into the slug and number.
func ParseShortID(s string) (string, int64, bool) {
	i := strings.LastIndexByte(s, '-')
	if i <= 0 || i == len(s)-1 {
		return "", 0, false
	}
	var n int64
	for _, c := range strings.ToUpper(s[i+1:]) {
		d := strings.IndexRune(shortIDAlphabet, c)
		if d < 0 {
			return "", 0, false
		}
		n = n*32 + int64(d)
	}
	return strings.ToLower(s[:i]), n, true
}

// ProjectOfIssue returns the organization and project of an issue, for
// the worker, which has only the issue.
func (s *Store) ProjectOfIssue(ctx context.Context, issueID int64) (*Organization, *Project, error) {
	var orgSlug string
	var pid int64
	err := s.r.queryRow(ctx, `SELECT o.slug, p.id FROM issues i JOIN projects p ON p.id = i.project_id
		JOIN organizations o ON o.id = p.organization_id WHERE i.id = $1`, issueID).Scan(&orgSlug, &pid)
	if err != nil {
		return nil, nil, notFound(err, fmt.Sprintf("issue %d", issueID))
	}
	org, err := s.OrganizationGetBySlug(ctx, orgSlug)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.ProjectGet(ctx, org.ID, fmt.Sprint(pid))
	if err != nil {
		return nil, nil, err
	}
	return org, p, nil
}

// IssueIDByHash returns the issue of a grouping hash in a project, 0 when
// there is none.
func (s *Store) IssueIDByHash(ctx context.Context, projectID int64, hash string) (int64, error) {
	var id int64
	err := s.r.queryRow(ctx, `SELECT issue_id FROM issue_hashes WHERE project_id = $1 AND hash = $2`,
		projectID, hash).Scan(&id)
	if isNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("issue of hash: %w", err)
	}
	return id, nil
}
