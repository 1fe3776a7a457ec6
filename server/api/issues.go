package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/store"
)

// Scopes of the issue and event endpoints, as Sentry's GroupPermission.
var (
	eventRead  = []string{"event:read", "event:write", "event:admin"}
	eventWrite = []string{"event:write", "event:admin"}
	eventAdmin = []string{"event:admin"}
)

// issueRequest is a request about one issue: /api/0/issues/{issue}/ (the
// organization is the issue's) or /api/0/organizations/{org}/issues/{issue}/.
type issueRequest struct {
	*orgRequest
	issue *store.Issue
}

// issue wraps a handler of the {issue} path value. The issue may be named
// by id or by short id (DEFAULT-1A). A principal outside the issue's
// organization gets 404.
func (h *Handler) issue(fn func(http.ResponseWriter, *http.Request, *issueRequest), anyOf ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		ref := r.PathValue("issue")
		orgSlug := r.PathValue("org")
		issueID, idErr := strconv.ParseInt(ref, 10, 64)
		if orgSlug == "" {
			if idErr != nil {
				writeError(w, http.StatusNotFound, "The requested resource does not exist")
				return
			}
			slug, err := h.store.IssueOrganization(r.Context(), issueID)
			if err != nil {
				h.fail(w, r, err, "")
				return
			}
			orgSlug = slug
		}
		org, member, err := h.store.Membership(r.Context(), p.user.ID, orgSlug)
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		or := &orgRequest{principal: p, org: org, member: member}
		if !or.can(anyOf...) {
			writeError(w, http.StatusForbidden, "You do not have permission to perform this action.")
			return
		}
		var is *store.Issue
		if idErr == nil {
			is, err = h.store.IssueGet(r.Context(), org.ID, issueID)
		} else if slug, n, ok := store.ParseShortID(ref); ok {
			var proj *store.Project
			if proj, err = h.store.ProjectGet(r.Context(), org.ID, slug); err == nil {
				is, err = h.store.IssueGetByShortID(r.Context(), org.ID, proj.ID, n)
			}
		} else {
			err = store.ErrNotFound
		}
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		fn(w, r, &issueRequest{orgRequest: or, issue: is})
	}
}

// issueList answers GET …/issues/ for a project, or for the organization
// (optionally narrowed by ?project=ID).
func (h *Handler) issueList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	f, ok := h.issueFilter(w, r, or)
	if !ok {
		return
	}
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	q := r.URL.Query()
	span, bucket, err := parsePeriod(q.Get("statsPeriod"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := time.Now().UTC()
	if q.Get("statsPeriod") != "" {
		f.SeenSince = now.Add(-span)
	}
	switch s := q.Get("sort"); s {
	case "", "date", "new", "freq", "user":
		f.Sort = s
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("sort: %q is not one of date, new, freq, user", s))
		return
	}
	f.Page = pg.page()
	issues, err := h.store.IssueList(r.Context(), or.org.ID, f)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	n := pg.trim(w, len(issues))
	issues = issues[:n]
	ic, err := h.newIssueContext(r.Context(), or)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	ids := make([]int64, len(issues))
	for i, is := range issues {
		ids[i] = is.ID
	}
	// As Sentry's issue stream, the series has span/bucket buckets, the
	// last one holding now: 24 for 24h, 14 for 14d
	// (src/sentry/api/serializers/models/group_stream.py, GroupStatsMixin).
	stats, err := h.store.IssueStats(r.Context(), ids, now.Add(-span+bucket), bucket, now)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	key := q.Get("statsPeriod")
	if key == "" {
		key = "24h"
	}
	out := make([]issueJSON, 0, n)
	for _, is := range issues {
		j := h.issueJSON(r.Context(), ic, is)
		j.Stats = map[string][][2]int64{key: statsJSON(stats[is.ID])}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
}

// issueFilter reads the project from the path (or ?project=), the ?id=
// list and ?query=. An absent query means is:unresolved, as Sentry; an
// empty one (query=) lists every status.
func (h *Handler) issueFilter(w http.ResponseWriter, r *http.Request, or *orgRequest) (*store.IssueFilter, bool) {
	f := &store.IssueFilter{}
	q := r.URL.Query()
	if slug := r.PathValue("project"); slug != "" {
		p, err := h.store.ProjectGet(r.Context(), or.org.ID, slug)
		if err != nil {
			h.fail(w, r, err, "")
			return nil, false
		}
		f.ProjectIDs = []int64{p.ID}
	} else {
		for _, v := range q["project"] {
			pid, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, "project: expected a project id")
				return nil, false
			}
			if pid != -1 {
				f.ProjectIDs = append(f.ProjectIDs, pid)
			}
		}
	}
	for _, v := range q["id"] {
		iid, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("id: %q is not an issue id", v))
			return nil, false
		}
		f.IDs = append(f.IDs, iid)
	}
	query, has := q["query"]
	switch {
	case !has && len(f.IDs) == 0 && r.Method == http.MethodGet:
		f.Statuses = []string{store.StatusUnresolved}
	case has:
		if err := h.parseSearch(r.Context(), or, query[0], f); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return nil, false
		}
	}
	if env := q.Get("environment"); env != "" {
		f.Tags = append(f.Tags, store.TagMatch{Key: "environment", Value: env})
	}
	return f, true
}

// maxBulk bounds the issues one bulk request changes, as Sentry's 1000.
const maxBulk = 1000

type statusDetailsRequest struct {
	InNextRelease    *bool      `json:"inNextRelease"`
	InRelease        *string    `json:"inRelease"`
	IgnoreDuration   *int       `json:"ignoreDuration"`
	IgnoreUntil      *time.Time `json:"ignoreUntil"`
	IgnoreCount      *int64     `json:"ignoreCount"`
	IgnoreWindow     *int       `json:"ignoreWindow"`
	IgnoreUserCount  *int64     `json:"ignoreUserCount"`
	IgnoreUserWindow *int       `json:"ignoreUserWindow"`
}

type issueUpdateRequest struct {
	Status        *string               `json:"status"`
	StatusDetails *statusDetailsRequest `json:"statusDetails"`
	// Older clients put the ignore options at the top level.
	statusDetailsRequest
	AssignedTo json.RawMessage `json:"assignedTo"`
	HasSeen    *bool           `json:"hasSeen"`
}

// parseUpdate validates an issue update body into a store update.
func (h *Handler) parseUpdate(r *http.Request, or *orgRequest, req *issueUpdateRequest, projectID int64) (*store.IssueUpdate, error) {
	u := &store.IssueUpdate{ActorID: &or.user.ID, At: time.Now().UTC()}
	sd := req.statusDetailsRequest
	if req.StatusDetails != nil {
		sd = *req.StatusDetails
	}
	if req.Status != nil {
		st := *req.Status
		switch st {
		case "resolved", "unresolved", "ignored":
		case "resolvedInNextRelease":
			st = store.StatusResolved
			t := true
			sd.InNextRelease = &t
		default:
			return nil, invalidField("status", "%q is not one of resolved, resolvedInNextRelease, unresolved, ignored", st)
		}
		u.Status = &st
		switch st {
		case store.StatusResolved:
			switch {
			case sd.InRelease != nil:
				if !store.ValidVersion(*sd.InRelease) {
					return nil, invalidField("statusDetails.inRelease", "invalid release version")
				}
				u.ResolvedInRelease = *sd.InRelease
			case sd.InNextRelease != nil && *sd.InNextRelease:
				if projectID == 0 {
					return nil, invalidField("statusDetails.inNextRelease", "needs issues of a single project")
				}
				latest, err := h.store.LatestRelease(r.Context(), projectID)
				if err != nil {
					return nil, err
				}
				if latest == "" {
					return nil, invalidField("statusDetails.inNextRelease", "the project has no release yet")
				}
				u.ResolvedInRelease = latest
			}
		case store.StatusIgnored:
			ig, err := ignoreOptions(sd, u.At)
			if err != nil {
				return nil, err
			}
			u.Ignore = ig
		}
	}
	if len(req.AssignedTo) > 0 {
		if err := h.parseAssignee(r, or, req.AssignedTo, u); err != nil {
			return nil, err
		}
	}
	return u, nil
}

func ignoreOptions(sd statusDetailsRequest, now time.Time) (store.IgnoreOptions, error) {
	var ig store.IgnoreOptions
	positive := func(field string, v *int64, max int64) (int64, error) {
		if v == nil {
			return 0, nil
		}
		if *v < 1 || *v > max {
			return 0, invalidField("statusDetails."+field, "must be from 1 to %d", max)
		}
		return *v, nil
	}
	window := func(field string, v *int) (int, error) {
		if v == nil {
			return 0, nil
		}
		if *v < 1 || *v > 7*24*60 {
			return 0, invalidField("statusDetails."+field, "must be from 1 to 10080 minutes")
		}
		return *v, nil
	}
	var err error
	if sd.IgnoreDuration != nil {
		if *sd.IgnoreDuration < 1 || *sd.IgnoreDuration > 365*24*60 {
			return ig, invalidField("statusDetails.ignoreDuration", "must be from 1 to 525600 minutes")
		}
		t := now.Add(time.Duration(*sd.IgnoreDuration) * time.Minute)
		ig.Until = &t
	}
	if sd.IgnoreUntil != nil {
		if !sd.IgnoreUntil.After(now) {
			return ig, invalidField("statusDetails.ignoreUntil", "must be in the future")
		}
		t := sd.IgnoreUntil.UTC()
		ig.Until = &t
	}
	if ig.Count, err = positive("ignoreCount", sd.IgnoreCount, 1e9); err != nil {
		return ig, err
	}
	if ig.Window, err = window("ignoreWindow", sd.IgnoreWindow); err != nil {
		return ig, err
	}
	if ig.UserCount, err = positive("ignoreUserCount", sd.IgnoreUserCount, 1e9); err != nil {
		return ig, err
	}
	if ig.UserWindow, err = window("ignoreUserWindow", sd.IgnoreUserWindow); err != nil {
		return ig, err
	}
	return ig, nil
}

// parseAssignee reads Sentry's assignedTo: "user:ID", "team:ID", a user id,
// an email, or null/"" to unassign. The assignee must be of the organization.
func (h *Handler) parseAssignee(r *http.Request, or *orgRequest, raw json.RawMessage, u *store.IssueUpdate) error {
	u.Assign = true
	if bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return invalidField("assignedTo", "expected a string such as user:1, team:2 or an email")
	}
	if s == "" {
		return nil
	}
	ctx := r.Context()
	kind, ref, found := strings.Cut(s, ":")
	if !found {
		kind, ref = "user", s
	}
	switch kind {
	case "team":
		tid, err := strconv.ParseInt(ref, 10, 64)
		if err != nil {
			return invalidField("assignedTo", "unknown team %q", ref)
		}
		teams, err := h.store.TeamList(ctx, or.org.ID, or.member.ID, store.Page{Limit: 10000})
		if err != nil {
			return err
		}
		for _, t := range teams {
			if t.ID == tid {
				u.AssigneeTeamID = &tid
				return nil
			}
		}
		return invalidField("assignedTo", "unknown team %q", ref)
	case "user":
		var (
			usr *store.User
			err error
		)
		if uid, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
			usr, err = h.store.UserGet(ctx, uid)
		} else {
			usr, err = h.store.UserGetByEmail(ctx, ref)
		}
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return invalidField("assignedTo", "unknown user %q", ref)
			}
			return err
		}
		if _, _, err := h.store.Membership(ctx, usr.ID, or.org.Slug); err != nil {
			return invalidField("assignedTo", "%s is not a member of the organization", ref)
		}
		u.AssigneeUserID = &usr.ID
		return nil
	}
	return invalidField("assignedTo", "expected user:ID, team:ID or an email")
}

// issueBulkUpdate answers PUT …/issues/?id=…: one change to many issues.
func (h *Handler) issueBulkUpdate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	f, ok := h.issueFilter(w, r, or)
	if !ok {
		return
	}
	var req issueUpdateRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	var projectID int64
	if len(f.ProjectIDs) == 1 {
		projectID = f.ProjectIDs[0]
	}
	u, err := h.parseUpdate(r, or, &req, projectID)
	if err != nil {
		h.badOrFail(w, r, err)
		return
	}
	f.Page = store.Page{Limit: maxBulk}
	issues, err := h.store.IssueList(r.Context(), or.org.ID, f)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	if len(issues) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ids := make([]int64, len(issues))
	for i, is := range issues {
		ids[i] = is.ID
	}
	updated, err := h.store.IssuesUpdate(r.Context(), or.org.ID, ids, u)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	ic, err := h.newIssueContext(r.Context(), or)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	first := h.issueJSON(r.Context(), ic, updated[0])
	writeJSON(w, http.StatusOK, map[string]any{"status": first.Status, "statusDetails": first.StatusDetails,
		"assignedTo": first.AssignedTo, "substatus": first.Substatus})
}

// badOrFail answers validation errors 400 and the rest as store errors.
func (h *Handler) badOrFail(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		writeError(w, http.StatusBadRequest, br.msg)
		return
	}
	h.fail(w, r, err, "")
}

// issueBulkDelete answers DELETE …/issues/?id=…; without ids it refuses,
// rather than delete a whole project's issues by accident.
func (h *Handler) issueBulkDelete(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	f, ok := h.issueFilter(w, r, or)
	if !ok {
		return
	}
	if len(f.IDs) == 0 {
		writeError(w, http.StatusBadRequest, "id: name the issues to delete with ?id=")
		return
	}
	f.Page = store.Page{Limit: maxBulk}
	issues, err := h.store.IssueList(r.Context(), or.org.ID, f)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	ids := make([]int64, len(issues))
	for i, is := range issues {
		ids[i] = is.ID
	}
	if err := h.store.IssuesDelete(r.Context(), or.org.ID, ids); err != nil {
		h.fail(w, r, err, "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) issueGet(w http.ResponseWriter, r *http.Request, ir *issueRequest) {
	ctx := r.Context()
	ic, err := h.newIssueContext(ctx, ir.orgRequest)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	is := ir.issue
	now := time.Now().UTC()
	stats, err := h.store.IssueStats(ctx, []int64{is.ID}, now.Add(-24*time.Hour), time.Hour, now)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	stats30, err := h.store.IssueStats(ctx, []int64{is.ID}, now.Add(-30*24*time.Hour), 24*time.Hour, now)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	acts, err := h.store.ActivityList(ctx, is.ID, 100)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	tags, err := h.store.IssueTags(ctx, is.ID, 9)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	out := issueDetailJSON{issueJSON: h.issueJSON(ctx, ic, is), Activity: []activityJSON{}, Tags: tagsJSON(tags),
		SeenBy: []any{}, Participants: []any{}}
	out.Stats = map[string][][2]int64{"24h": statsJSON(stats[is.ID]), "30d": statsJSON(stats30[is.ID])}
	for _, a := range acts {
		out.Activity = append(out.Activity, h.activityJSON(ctx, ic, a))
	}
	if is.FirstRelease != "" {
		out.FirstRelease = &releaseRefJSON{Version: is.FirstRelease, ShortVersion: is.FirstRelease}
	}
	if is.LastRelease != "" {
		out.LastRelease = &releaseRefJSON{Version: is.LastRelease, ShortVersion: is.LastRelease}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) issueUpdate(w http.ResponseWriter, r *http.Request, ir *issueRequest) {
	var req issueUpdateRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	u, err := h.parseUpdate(r, ir.orgRequest, &req, ir.issue.ProjectID)
	if err != nil {
		h.badOrFail(w, r, err)
		return
	}
	if _, err := h.store.IssuesUpdate(r.Context(), ir.org.ID, []int64{ir.issue.ID}, u); err != nil {
		h.fail(w, r, err, "")
		return
	}
	is, err := h.store.IssueGet(r.Context(), ir.org.ID, ir.issue.ID)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	ir.issue = is
	h.issueGet(w, r, ir)
}

func (h *Handler) issueDelete(w http.ResponseWriter, r *http.Request, ir *issueRequest) {
	if err := h.store.IssuesDelete(r.Context(), ir.org.ID, []int64{ir.issue.ID}); err != nil {
		h.fail(w, r, err, "")
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h *Handler) issueTags(w http.ResponseWriter, r *http.Request, ir *issueRequest) {
	tags, err := h.store.IssueTags(r.Context(), ir.issue.ID, 9)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, tagsJSON(tags))
}
