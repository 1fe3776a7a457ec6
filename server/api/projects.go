package api

import (
	"net/http"
	"strings"

	"github.com/tocsin/tocsin/store"
)

func (h *Handler) projectList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	h.listProjects(w, r, or, 0)
}

func (h *Handler) teamProjectList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	team, err := h.store.TeamGet(r.Context(), or.org.ID, or.member.ID, r.PathValue("team"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	h.listProjects(w, r, or, team.ID)
}

func (h *Handler) listProjects(w http.ResponseWriter, r *http.Request, or *orgRequest, teamID int64) {
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	projects, err := h.store.ProjectList(r.Context(), or.org.ID, teamID, pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	paginate(w, pg, projects, func(p *store.Project) projectJSON { return h.projectJSON(p, nil) })
}

type projectCreateRequest struct {
	Name     *string `json:"name"`
	Slug     *string `json:"slug"`
	Platform *string `json:"platform"`
}

// projectCreate makes a project under a team, with its first client key.
func (h *Handler) projectCreate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	team, err := h.store.TeamGet(r.Context(), or.org.ID, or.member.ID, r.PathValue("team"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	var req projectCreateRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if req.Name == nil {
		replyBadRequest(w, invalidField("name", "This field is required."))
		return
	}
	if replyBadRequest(w, checkName("name", *req.Name, maxProjectName)) {
		return
	}
	slug, err := slugFor(req.Slug, *req.Name)
	if replyBadRequest(w, err) {
		return
	}
	platform := ""
	if req.Platform != nil {
		platform = *req.Platform
	}
	if replyBadRequest(w, checkPlatform(platform)) {
		return
	}
	p, _, err := h.store.ProjectCreate(r.Context(), or.org.ID, team.ID, &store.ProjectCreateParams{
		Slug: slug, Name: *req.Name, Platform: platform})
	if err != nil {
		h.fail(w, r, err, "A project")
		return
	}
	writeJSON(w, http.StatusCreated, h.projectJSON(p, or.org))
}

func (h *Handler) projectGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, err := h.store.ProjectGet(r.Context(), or.org.ID, r.PathValue("project"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, h.projectJSON(p, or.org))
}

type projectUpdateRequest struct {
	Name     *string `json:"name"`
	Slug     *string `json:"slug"`
	Platform *string `json:"platform"`
	// AllowedDomains are the origins browser SDKs may send from (Sentry's
	// project setting); ["*"] allows any.
	AllowedDomains []string `json:"allowedDomains"`
	// EventQuotaPerDay caps accepted error events per UTC day; 0 removes the cap.
	EventQuotaPerDay *int64 `json:"eventQuotaPerDay"`
}

func (h *Handler) projectUpdate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, err := h.store.ProjectGet(r.Context(), or.org.ID, r.PathValue("project"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	var req projectUpdateRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if req.Name != nil && replyBadRequest(w, checkName("name", *req.Name, maxProjectName)) {
		return
	}
	if req.Slug != nil && replyBadRequest(w, checkSlug("slug", *req.Slug)) {
		return
	}
	if req.Platform != nil && replyBadRequest(w, checkPlatform(*req.Platform)) {
		return
	}
	if req.AllowedDomains != nil {
		if len(req.AllowedDomains) == 0 {
			replyBadRequest(w, invalidField("allowedDomains", `give at least one domain, or ["*"] for any`))
			return
		}
		for _, d := range req.AllowedDomains {
			if d == "" || len(d) > 255 || strings.ContainsAny(d, " \t\r\n,") {
				replyBadRequest(w, invalidField("allowedDomains", "%q is not a domain or origin", d))
				return
			}
		}
	}
	if req.EventQuotaPerDay != nil && (*req.EventQuotaPerDay < 0 || *req.EventQuotaPerDay > 1e12) {
		replyBadRequest(w, invalidField("eventQuotaPerDay", "must be 0 (no quota) or a positive number"))
		return
	}
	p, err = h.store.ProjectUpdate(r.Context(), or.org.ID, p.ID, &store.ProjectUpdateParams{
		Name: req.Name, Slug: req.Slug, Platform: req.Platform, AllowedDomains: req.AllowedDomains,
		EventQuotaPerDay: req.EventQuotaPerDay})
	if err != nil {
		h.fail(w, r, err, "A project")
		return
	}
	writeJSON(w, http.StatusOK, h.projectJSON(p, or.org))
}

func (h *Handler) projectDelete(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, err := h.store.ProjectGet(r.Context(), or.org.ID, r.PathValue("project"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	if err := h.store.ProjectDelete(r.Context(), or.org.ID, p.ID); err != nil {
		h.fail(w, r, err, "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
