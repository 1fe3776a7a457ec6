package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/github"
	"github.com/tocsin/tocsin/store"
)

// Links between Tocsin issues and what services have for them: the Slack
// thread, the GitHub issue, the Trello card. GitHub issues can be linked by
// hand, or created now.

type linkJSON struct {
	Integration string  `json:"integration"`
	Provider    string  `json:"provider"`
	Target      string  `json:"target"`
	Handle      string  `json:"handle"`
	URL         *string `json:"url"`
}

func (h *Handler) issueLinks(w http.ResponseWriter, r *http.Request, ir *issueRequest) {
	links, err := h.store.IssueLinks(r.Context(), ir.issue.ID)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	out := []linkJSON{}
	for _, l := range links {
		in, err := h.store.IntegrationGet(r.Context(), ir.org.ID, l.IntegrationID)
		if err != nil {
			continue // another organization's integration cannot link here
		}
		out = append(out, linkJSON{Integration: id(l.IntegrationID), Provider: in.Provider, Target: l.Target,
			Handle: l.Handle, URL: optional(l.URL)})
	}
	writeJSON(w, http.StatusOK, out)
}

type linkRequest struct {
	Integration *string `json:"integration"`
	// Handle links an existing GitHub issue: "owner/repo#123" or its address.
	Handle *string `json:"handle"`
	// Create asks for a new GitHub issue now, in Target ("owner/repo") or
	// the integration's repository.
	Create bool   `json:"create"`
	Target string `json:"target"`
}

// issueLinkCreate answers POST /api/0/issues/{issue}/links/: 201 with the
// link for a handle, 202 when a GitHub issue is to be created.
func (h *Handler) issueLinkCreate(w http.ResponseWriter, r *http.Request, ir *issueRequest) {
	var req linkRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if req.Integration == nil {
		replyBadRequest(w, invalidField("integration", "This field is required."))
		return
	}
	iid, err := strconv.ParseInt(*req.Integration, 10, 64)
	if err != nil {
		replyBadRequest(w, invalidField("integration", "%q is not an integration of this organization", *req.Integration))
		return
	}
	in, err := h.store.IntegrationGet(r.Context(), ir.org.ID, iid)
	if errors.Is(err, store.ErrNotFound) {
		replyBadRequest(w, invalidField("integration", "%q is not an integration of this organization", *req.Integration))
		return
	}
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	if in.Provider != "github" {
		replyBadRequest(w, invalidField("integration", "only GitHub issues can be linked by hand"))
		return
	}
	switch {
	case req.Handle != nil && req.Create:
		replyBadRequest(w, invalidField("handle", "give a handle to link, or create: true, not both"))
	case req.Handle != nil:
		handle, err := github.ParseHandle(*req.Handle)
		if err != nil {
			replyBadRequest(w, invalidField("handle", "%v", err))
			return
		}
		repo, number, _ := strings.Cut(handle, "#")
		l := &store.IssueLink{IntegrationID: in.ID, IssueID: ir.issue.ID, Target: repo, Handle: handle,
			URL: "https://github.com/" + repo + "/issues/" + number}
		if err := h.store.IssueLinkSet(r.Context(), l); err != nil {
			h.fail(w, r, err, "")
			return
		}
		writeJSON(w, http.StatusCreated, linkJSON{Integration: id(in.ID), Provider: in.Provider, Target: l.Target,
			Handle: l.Handle, URL: optional(l.URL)})
	case req.Create:
		if req.Target != "" && !strings.Contains(req.Target, "/") {
			replyBadRequest(w, invalidField("target", "expected owner/repo"))
			return
		}
		issueID := ir.issue.ID
		d := &store.Delivery{OrganizationID: ir.org.ID, IntegrationID: &in.ID, Provider: in.Provider,
			ProjectID: &ir.issue.ProjectID, IssueID: &issueID, Kind: integrations.KindAlert, Target: req.Target,
			IdempotencyKey: fmt.Sprintf("link:%d:int:%d:%s:%d", issueID, in.ID, req.Target, time.Now().UnixNano())}
		if err := h.store.DeliveryCreate(r.Context(), d); err != nil {
			h.fail(w, r, err, "")
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"detail": "the GitHub issue will be created by the next delivery run"})
	default:
		replyBadRequest(w, invalidField("handle", "give a handle to link, or create: true"))
	}
}
