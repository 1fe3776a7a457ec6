package api

import (
	"net/http"

	"github.com/tocsin/tocsin/store"
)

func (h *Handler) teamList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	teams, err := h.store.TeamList(r.Context(), or.org.ID, or.member.ID, pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	paginate(w, pg, teams, teamToJSON)
}

type teamCreateRequest struct {
	Name *string `json:"name"`
	Slug *string `json:"slug"`
}

// teamCreate follows Sentry: either name or slug may be given, the other is
// derived from it; the creator joins the team.
func (h *Handler) teamCreate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	var req teamCreateRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	name := ""
	switch {
	case req.Name != nil:
		name = *req.Name
	case req.Slug != nil:
		name = *req.Slug
	default:
		replyBadRequest(w, invalidField("name", "This field is required (or give a slug)."))
		return
	}
	if replyBadRequest(w, checkName("name", name, maxTeamName)) {
		return
	}
	slug, err := slugFor(req.Slug, name)
	if replyBadRequest(w, err) {
		return
	}
	team, err := h.store.TeamCreate(r.Context(), or.org.ID, &store.TeamCreateParams{
		Slug: slug, Name: name, MemberID: or.member.ID})
	if err != nil {
		h.fail(w, r, err, "A team")
		return
	}
	writeJSON(w, http.StatusCreated, teamToJSON(team))
}

func (h *Handler) teamGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	team, err := h.store.TeamGet(r.Context(), or.org.ID, or.member.ID, r.PathValue("team"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, teamToJSON(team))
}
