package api

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/store"
)

// The issue JSON follows Sentry's GroupSerializer
// (src/sentry/api/serializers/models/group.py).

type issueProjectJSON struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Slug     string  `json:"slug"`
	Platform *string `json:"platform"`
}

type assigneeJSON struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

type issueJSON struct {
	ID            string                `json:"id"`
	ShareID       *string               `json:"shareId"`
	ShortID       string                `json:"shortId"`
	Title         string                `json:"title"`
	Culprit       string                `json:"culprit"`
	Permalink     string                `json:"permalink"`
	Logger        *string               `json:"logger"`
	Level         string                `json:"level"`
	Status        string                `json:"status"`
	StatusDetails map[string]any        `json:"statusDetails"`
	Substatus     *string               `json:"substatus"`
	IsPublic      bool                  `json:"isPublic"`
	Platform      *string               `json:"platform"`
	Project       issueProjectJSON      `json:"project"`
	Type          string                `json:"type"`
	Metadata      event.Metadata        `json:"metadata"`
	NumComments   int                   `json:"numComments"`
	AssignedTo    *assigneeJSON         `json:"assignedTo"`
	IsBookmarked  bool                  `json:"isBookmarked"`
	IsSubscribed  bool                  `json:"isSubscribed"`
	HasSeen       bool                  `json:"hasSeen"`
	Annotations   []string              `json:"annotations"`
	IssueType     string                `json:"issueType"`
	IssueCategory string                `json:"issueCategory"`
	IsUnhandled   bool                  `json:"isUnhandled"`
	Count         string                `json:"count"`
	UserCount     int64                 `json:"userCount"`
	FirstSeen     time.Time             `json:"firstSeen"`
	LastSeen      time.Time             `json:"lastSeen"`
	Stats         map[string][][2]int64 `json:"stats,omitempty"`
}

// issueDetailJSON adds what the issue detail endpoint shows.
type issueDetailJSON struct {
	issueJSON
	Activity        []activityJSON  `json:"activity"`
	FirstRelease    *releaseRefJSON `json:"firstRelease"`
	LastRelease     *releaseRefJSON `json:"lastRelease"`
	Tags            []tagJSON       `json:"tags"`
	SeenBy          []any           `json:"seenBy"`
	Participants    []any           `json:"participants"`
	UserReportCount int             `json:"userReportCount"`
}

type releaseRefJSON struct {
	Version      string `json:"version"`
	ShortVersion string `json:"shortVersion"`
}

type activityJSON struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Data        map[string]any `json:"data"`
	DateCreated time.Time      `json:"dateCreated"`
	User        *userJSON      `json:"user"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// issueContext holds what serializing issues needs beyond the issues.
type issueContext struct {
	org      *store.Organization
	projects map[int64]*store.Project
	users    map[int64]*store.User
	teams    map[int64]*store.Team
}

func (h *Handler) newIssueContext(ctx context.Context, or *orgRequest) (*issueContext, error) {
	ic := &issueContext{org: or.org, projects: map[int64]*store.Project{}, users: map[int64]*store.User{}, teams: map[int64]*store.Team{}}
	projects, err := h.store.ProjectList(ctx, or.org.ID, 0, store.Page{Limit: 10000})
	if err != nil {
		return nil, err
	}
	for _, p := range projects {
		ic.projects[p.ID] = p
	}
	teams, err := h.store.TeamList(ctx, or.org.ID, or.member.ID, store.Page{Limit: 10000})
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		ic.teams[t.ID] = t
	}
	return ic, nil
}

func (h *Handler) lookupUser(ctx context.Context, ic *issueContext, id int64) *store.User {
	if u, ok := ic.users[id]; ok {
		return u
	}
	u, err := h.store.UserGet(ctx, id)
	if err != nil {
		u = nil
	}
	ic.users[id] = u
	return u
}

func (h *Handler) issueJSON(ctx context.Context, ic *issueContext, is *store.Issue) issueJSON {
	p := ic.projects[is.ProjectID]
	if p == nil {
		p = &store.Project{ID: is.ProjectID, Slug: "unknown", Name: "unknown"}
	}
	out := issueJSON{
		ID: id(is.ID), ShortID: store.ShortID(p.Slug, is.ShortID), Title: is.Title, Culprit: is.Culprit,
		Permalink: h.baseURL + "/organizations/" + ic.org.Slug + "/issues/" + id(is.ID) + "/",
		Logger:    optional(is.Logger), Level: is.Level, Status: is.Status, StatusDetails: statusDetails(is),
		Substatus: optional(is.Substatus), Platform: optional(is.Platform),
		Project: issueProjectJSON{ID: id(p.ID), Name: p.Name, Slug: p.Slug, Platform: optional(p.Platform)},
		Type:    is.Type, Metadata: is.Metadata, Annotations: []string{}, IssueType: issueType(is),
		IssueCategory: issueCategory(is), Count: strconv.FormatInt(is.TimesSeen, 10), UserCount: is.UserCount,
		FirstSeen: is.FirstSeen, LastSeen: is.LastSeen,
	}
	if out.Metadata == (event.Metadata{}) {
		out.Metadata = event.Metadata{Title: is.Title}
	}
	switch {
	case is.AssigneeUserID != nil:
		if u := h.lookupUser(ctx, ic, *is.AssigneeUserID); u != nil {
			out.AssignedTo = &assigneeJSON{Type: "user", ID: id(u.ID), Name: userToJSON(u).Name, Email: u.Email}
		}
	case is.AssigneeTeamID != nil:
		if t := ic.teams[*is.AssigneeTeamID]; t != nil {
			out.AssignedTo = &assigneeJSON{Type: "team", ID: id(t.ID), Name: t.Slug}
		}
	}
	return out
}

func issueType(is *store.Issue) string {
	if is.Logger == "monitor" { // monitors.FailureEvent's
		return "monitor_check_in_failure"
	}
	return "error"
}

func issueCategory(is *store.Issue) string {
	if is.Logger == "monitor" { // monitors.FailureEvent's
		return "cron"
	}
	return "error"
}

// statusDetails renders how an issue is resolved or ignored, as Sentry's
// statusDetails.
func statusDetails(is *store.Issue) map[string]any {
	d := map[string]any{}
	switch is.Status {
	case store.StatusResolved:
		if is.ResolvedInRelease != "" {
			d["inRelease"] = is.ResolvedInRelease
		}
	case store.StatusIgnored:
		ig := is.Ignore
		if ig.Until != nil {
			d["ignoreUntil"] = ig.Until.UTC()
		}
		if ig.Count > 0 {
			d["ignoreCount"] = ig.Count
			if ig.Window > 0 {
				d["ignoreWindow"] = ig.Window
			}
		}
		if ig.UserCount > 0 {
			d["ignoreUserCount"] = ig.UserCount
			if ig.UserWindow > 0 {
				d["ignoreUserWindow"] = ig.UserWindow
			}
		}
	}
	return d
}

func statsJSON(pts []store.StatPoint) [][2]int64 {
	out := make([][2]int64, len(pts))
	for i, p := range pts {
		out[i] = [2]int64{p.Time.Unix(), p.Count}
	}
	return out
}

func (h *Handler) activityJSON(ctx context.Context, ic *issueContext, a *store.Activity) activityJSON {
	out := activityJSON{ID: id(a.ID), Type: a.Kind, Data: a.Data, DateCreated: a.DateCreated}
	if out.Data == nil {
		out.Data = map[string]any{}
	}
	if a.UserID != nil {
		if u := h.lookupUser(ctx, ic, *a.UserID); u != nil {
			uj := userToJSON(u)
			out.User = &uj
		}
	}
	return out
}

type tagJSON struct {
	Key         string         `json:"key"`
	Name        string         `json:"name"`
	TotalValues int64          `json:"totalValues"`
	TopValues   []tagValueJSON `json:"topValues"`
}

type tagValueJSON struct {
	Key       string    `json:"key"`
	Name      string    `json:"name"`
	Value     string    `json:"value"`
	Count     int64     `json:"count"`
	FirstSeen time.Time `json:"firstSeen"`
	LastSeen  time.Time `json:"lastSeen"`
}

func tagsJSON(tags []*store.TagSummary) []tagJSON {
	out := make([]tagJSON, 0, len(tags))
	for _, t := range tags {
		tj := tagJSON{Key: t.Key, Name: tagName(t.Key), TotalValues: t.TotalValues, TopValues: []tagValueJSON{}}
		for _, v := range t.Top {
			tj.TopValues = append(tj.TopValues, tagValueJSON{Key: t.Key, Name: v.Value, Value: v.Value,
				Count: v.Count, FirstSeen: v.FirstSeen, LastSeen: v.LastSeen})
		}
		out = append(out, tj)
	}
	return out
}

// tagName is a tag key as people read it: "server_name" → "Server Name".
func tagName(key string) string {
	words := strings.FieldsFunc(key, func(r rune) bool { return r == '_' || r == '.' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
