package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/store"
)

// Release JSON follows Sentry's ReleaseSerializer, without commits and deploys.
type releaseJSON struct {
	ID           string            `json:"id"`
	Version      string            `json:"version"`
	ShortVersion string            `json:"shortVersion"`
	Ref          *string           `json:"ref"`
	URL          *string           `json:"url"`
	DateCreated  time.Time         `json:"dateCreated"`
	DateReleased *time.Time        `json:"dateReleased"`
	FirstEvent   *time.Time        `json:"firstEvent"`
	LastEvent    *time.Time        `json:"lastEvent"`
	NewGroups    int               `json:"newGroups"`
	Status       string            `json:"status"`
	Data         map[string]any    `json:"data"`
	Authors      []any             `json:"authors"`
	CommitCount  int               `json:"commitCount"`
	DeployCount  int               `json:"deployCount"`
	LastCommit   any               `json:"lastCommit"`
	LastDeploy   any               `json:"lastDeploy"`
	Owner        any               `json:"owner"`
	Projects     []releaseProjJSON `json:"projects"`
}

type releaseProjJSON struct {
	ID        string  `json:"id"`
	Slug      string  `json:"slug"`
	Name      string  `json:"name"`
	Platform  *string `json:"platform"`
	NewGroups int     `json:"newGroups"`
}

func releaseToJSON(r *store.Release) releaseJSON {
	out := releaseJSON{ID: id(r.ID), Version: r.Version, ShortVersion: r.Version, Ref: optional(r.Ref),
		URL: optional(r.URL), DateCreated: r.DateCreated, DateReleased: r.DateReleased, FirstEvent: r.FirstEvent,
		LastEvent: r.LastEvent, NewGroups: r.NewGroups, Status: "open", Data: map[string]any{},
		Authors: []any{}, Projects: []releaseProjJSON{}}
	for _, p := range r.Projects {
		out.Projects = append(out.Projects, releaseProjJSON{ID: id(p.ID), Slug: p.Slug, Name: p.Name, Platform: optional(p.Platform)})
	}
	return out
}

func (h *Handler) releaseList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	var projectID int64
	if v := r.URL.Query().Get("project"); v != "" && v != "-1" {
		pid, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "project: expected a project id")
			return
		}
		projectID = pid
	}
	rels, err := h.store.ReleaseList(r.Context(), or.org.ID, projectID, r.URL.Query().Get("query"), pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	paginate(w, pg, rels, releaseToJSON)
}

type releaseRequest struct {
	Version      *string    `json:"version"`
	Ref          *string    `json:"ref"`
	URL          *string    `json:"url"`
	DateReleased *time.Time `json:"dateReleased"`
	Projects     []string   `json:"projects"`
}

// releaseCreate answers POST …/releases/ as sentry-cli's "releases new"
// expects: 201 for a new release, 208 with the release when it exists.
func (h *Handler) releaseCreate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	var req releaseRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if req.Version == nil || !store.ValidVersion(*req.Version) {
		replyBadRequest(w, invalidField("version", "Release with name %q is not allowed", deref(req.Version)))
		return
	}
	if len(req.Projects) == 0 {
		replyBadRequest(w, invalidField("projects", "This field is required."))
		return
	}
	p := &store.ReleaseParams{Version: *req.Version, Ref: req.Ref, URL: req.URL, DateReleased: req.DateReleased}
	for _, slug := range req.Projects {
		proj, err := h.store.ProjectGet(r.Context(), or.org.ID, slug)
		if err != nil {
			replyBadRequest(w, invalidField("projects", "Invalid project slugs"))
			return
		}
		p.ProjectIDs = append(p.ProjectIDs, proj.ID)
	}
	rel, created, err := h.store.ReleaseUpsert(r.Context(), or.org.ID, p)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	code := http.StatusAlreadyReported
	if created {
		code = http.StatusCreated
	}
	writeJSON(w, code, releaseToJSON(rel))
}

func (h *Handler) releaseGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	rel, err := h.store.ReleaseGet(r.Context(), or.org.ID, r.PathValue("version"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, releaseToJSON(rel))
}

// releaseUpdate answers PUT …/releases/{version}/ (sentry-cli "releases finalize").
func (h *Handler) releaseUpdate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	rel, err := h.store.ReleaseGet(r.Context(), or.org.ID, r.PathValue("version"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	var req releaseRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	p := &store.ReleaseParams{Version: rel.Version, Ref: req.Ref, URL: req.URL, DateReleased: req.DateReleased}
	for _, slug := range req.Projects {
		proj, err := h.store.ProjectGet(r.Context(), or.org.ID, slug)
		if err != nil {
			replyBadRequest(w, invalidField("projects", "Invalid project slugs"))
			return
		}
		p.ProjectIDs = append(p.ProjectIDs, proj.ID)
	}
	rel, _, err = h.store.ReleaseUpsert(r.Context(), or.org.ID, p)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, releaseToJSON(rel))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
