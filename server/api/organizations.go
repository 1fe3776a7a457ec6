package api

import (
	"net/http"
	"slices"

	"github.com/tocsin/tocsin/store"
)

type indexJSON struct {
	Version string    `json:"version"`
	Auth    *authJSON `json:"auth"`
	User    *userJSON `json:"user"`
}

type authJSON struct {
	Scopes []string `json:"scopes"`
}

// index answers GET /api/0/: without a token it says so, as Sentry does;
// with one it shows the token's scopes and user (sentry-cli info reads them).
func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	if _, present := bearer(r); !present {
		writeJSON(w, http.StatusOK, indexJSON{Version: "0"})
		return
	}
	p, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	u := userToJSON(p.user)
	writeJSON(w, http.StatusOK, indexJSON{Version: "0", Auth: &authJSON{Scopes: p.token.Scopes}, User: &u})
}

func (h *Handler) organizationList(w http.ResponseWriter, r *http.Request, p *principal) {
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	orgs, err := h.store.OrganizationListForUser(r.Context(), p.user.ID, pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	paginate(w, pg, orgs, h.organizationJSON)
}

type organizationCreateRequest struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
}

func (h *Handler) organizationCreate(w http.ResponseWriter, r *http.Request, p *principal) {
	if !slices.Contains(p.token.Scopes, "org:write") && !slices.Contains(p.token.Scopes, "org:admin") {
		writeError(w, http.StatusForbidden, "You do not have permission to perform this action.")
		return
	}
	var req organizationCreateRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if req.Name == nil {
		replyBadRequest(w, invalidField("name", "This field is required."))
		return
	}
	if replyBadRequest(w, checkName("name", *req.Name, maxOrgName)) {
		return
	}
	slug, err := slugFor(req.Slug, *req.Name)
	if replyBadRequest(w, err) {
		return
	}
	org, err := h.store.OrganizationCreate(r.Context(), &store.OrganizationCreateParams{
		Slug: slug, Name: *req.Name, OwnerID: p.user.ID})
	if err != nil {
		h.fail(w, r, err, "An organization")
		return
	}
	writeJSON(w, http.StatusCreated, h.organizationDetail(org, &store.Member{Role: store.RoleOwner}, p.token))
}

func (h *Handler) organizationDetail(o *store.Organization, m *store.Member, t *store.APIToken) organizationDetailJSON {
	return organizationDetailJSON{
		organizationJSON: h.organizationJSON(o),
		Access:           store.EffectiveScopes(t.Scopes, m.Role),
		OrgRole:          string(m.Role),
		Role:             string(m.Role),
	}
}

func (h *Handler) organizationGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	writeJSON(w, http.StatusOK, h.organizationDetail(or.org, or.member, or.token))
}

type organizationUpdateRequest struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
}

func (h *Handler) organizationUpdate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	var req organizationUpdateRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if req.Name != nil && replyBadRequest(w, checkName("name", *req.Name, maxOrgName)) {
		return
	}
	if req.Slug != nil && replyBadRequest(w, checkSlug("slug", *req.Slug)) {
		return
	}
	org, err := h.store.OrganizationUpdate(r.Context(), or.org.ID, &store.OrganizationUpdateParams{Name: req.Name, Slug: req.Slug})
	if err != nil {
		h.fail(w, r, err, "An organization")
		return
	}
	writeJSON(w, http.StatusOK, h.organizationDetail(org, or.member, or.token))
}
