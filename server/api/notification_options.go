package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/tocsin/tocsin/store"
)

// Notification options follow Sentry's /users/{user}/notification-options/:
// per type ("alerts", "workflow"), for every project ("user" scope) or
// one ("project" scope), "always" or "never".

type notificationOptionJSON struct {
	Type            string `json:"type"`
	ScopeType       string `json:"scopeType"`
	ScopeIdentifier string `json:"scopeIdentifier"`
	Value           string `json:"value"`
}

func optionToJSON(ns *store.NotificationSetting) notificationOptionJSON {
	out := notificationOptionJSON{Type: ns.Kind, ScopeType: "user", ScopeIdentifier: id(ns.UserID), Value: "always"}
	if ns.ProjectID != 0 {
		out.ScopeType, out.ScopeIdentifier = "project", id(ns.ProjectID)
	}
	if !ns.Enabled {
		out.Value = "never"
	}
	return out
}

// selfOnly answers 404 for any user but "me" or the principal's own id.
func selfOnly(w http.ResponseWriter, r *http.Request, p *principal) bool {
	if u := r.PathValue("user"); u != "me" && u != id(p.user.ID) {
		writeError(w, http.StatusNotFound, "The requested resource does not exist")
		return false
	}
	return true
}

func (h *Handler) notificationOptions(w http.ResponseWriter, r *http.Request, p *principal) {
	if !selfOnly(w, r, p) {
		return
	}
	list, err := h.store.NotificationSettings(r.Context(), p.user.ID)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	out := []notificationOptionJSON{}
	for _, ns := range list {
		out = append(out, optionToJSON(ns))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) notificationOptionSet(w http.ResponseWriter, r *http.Request, p *principal) {
	if !selfOnly(w, r, p) {
		return
	}
	var req notificationOptionJSON
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	ns := &store.NotificationSetting{UserID: p.user.ID, Kind: req.Type}
	switch req.Type {
	case store.NotifyAlerts, store.NotifyWorkflow:
	default:
		replyBadRequest(w, invalidField("type", "expected alerts or workflow"))
		return
	}
	switch req.Value {
	case "always":
		ns.Enabled = true
	case "never":
	default:
		replyBadRequest(w, invalidField("value", "expected always or never"))
		return
	}
	switch req.ScopeType {
	case "user":
	case "project":
		pid, err := strconv.ParseInt(req.ScopeIdentifier, 10, 64)
		if err != nil {
			replyBadRequest(w, invalidField("scopeIdentifier", "expected a project id"))
			return
		}
		// The project must be of an organization the user belongs to.
		org, _, err := h.store.ProjectOrganization(r.Context(), pid)
		if err == nil {
			_, _, err = h.store.Membership(r.Context(), p.user.ID, org)
		}
		if errors.Is(err, store.ErrNotFound) {
			replyBadRequest(w, invalidField("scopeIdentifier", "no such project"))
			return
		}
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		ns.ProjectID = pid
	default:
		replyBadRequest(w, invalidField("scopeType", "expected user or project"))
		return
	}
	if err := h.store.NotificationSettingSet(r.Context(), ns); err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, optionToJSON(ns))
}
