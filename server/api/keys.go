package api

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/tocsin/tocsin/store"
)

// project resolves the {project} path value inside the organization.
func (h *Handler) project(w http.ResponseWriter, r *http.Request, or *orgRequest) (*store.Project, bool) {
	p, err := h.store.ProjectGet(r.Context(), or.org.ID, r.PathValue("project"))
	if err != nil {
		h.fail(w, r, err, "")
		return nil, false
	}
	return p, true
}

func (h *Handler) keyList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	projectList(h, w, r, or, h.store.KeyList, h.keyJSON)
}

type keyCreateRequest struct {
	Name *string `json:"name"`
}

func (h *Handler) keyCreate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	var req keyCreateRequest
	if replyBadRequest(w, decodeOptional(w, r, &req)) {
		return
	}
	label := ""
	if req.Name != nil {
		label = *req.Name
		if replyBadRequest(w, checkName("name", label, maxKeyName)) {
			return
		}
	}
	k, err := h.store.KeyCreate(r.Context(), or.org.ID, p.ID, &store.KeyCreateParams{Label: label})
	if err != nil {
		h.fail(w, r, err, "A key")
		return
	}
	writeJSON(w, http.StatusCreated, h.keyJSON(k))
}

func (h *Handler) keyGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	k, err := h.store.KeyGet(r.Context(), or.org.ID, p.ID, r.PathValue("key"))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, h.keyJSON(k))
}

type keyUpdateRequest struct {
	Name     *string `json:"name"`
	IsActive *bool   `json:"isActive"`
	// RateLimit is {"window": seconds, "count": events}; null removes it.
	RateLimit json.RawMessage `json:"rateLimit"`
}

func (h *Handler) keyUpdate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	var req keyUpdateRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	params := &store.KeyUpdateParams{Label: req.Name, IsActive: req.IsActive}
	if req.Name != nil && replyBadRequest(w, checkName("name", *req.Name, maxKeyName)) {
		return
	}
	if len(req.RateLimit) > 0 {
		var rl rateLimitJSON
		if !bytes.Equal(req.RateLimit, []byte("null")) {
			if err := json.Unmarshal(req.RateLimit, &rl); err != nil {
				replyBadRequest(w, invalidField("rateLimit", `expected {"window": seconds, "count": events} or null`))
				return
			}
			if rl.Window < 1 || rl.Window > 86400 || rl.Count < 1 {
				replyBadRequest(w, invalidField("rateLimit", "window must be 1 to 86400 seconds and count at least 1"))
				return
			}
		}
		params.RateLimitCount, params.RateLimitWindow = &rl.Count, &rl.Window
	}
	k, err := h.store.KeyUpdate(r.Context(), or.org.ID, p.ID, r.PathValue("key"), params)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, h.keyJSON(k))
}

func (h *Handler) keyDelete(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	if err := h.store.KeyDelete(r.Context(), or.org.ID, p.ID, r.PathValue("key")); err != nil {
		h.fail(w, r, err, "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
