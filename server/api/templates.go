package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/delivery"
	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/github"
	"github.com/tocsin/tocsin/integrations/slack"
	"github.com/tocsin/tocsin/integrations/trello"
	"github.com/tocsin/tocsin/integrations/webhook"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/templates"
)

// messageTemplates are every service's overridable templates.
var messageTemplates templates.Registry = slices.Concat(email.Templates, slack.Templates, github.Templates,
	trello.Templates, webhook.Templates)

// maxTemplateBytes bounds an override's body.
const maxTemplateBytes = 64 << 10

// templateOverrideJSON is an override of a message template in one scope:
// the organization (project and integration null), one of its projects or
// one of its integrations.
type templateOverrideJSON struct {
	Name        string    `json:"name,omitempty"`
	Project     *string   `json:"project"`
	Integration *string   `json:"integration"`
	Body        string    `json:"body"`
	DateUpdated time.Time `json:"dateUpdated"`
}

// templateJSON is a template name with its built-in body and overrides.
type templateJSON struct {
	Name      string                 `json:"name"`
	Default   string                 `json:"default"`
	Overrides []templateOverrideJSON `json:"overrides"`
}

// projectSlugs resolves project ids to slugs within the organization, once
// each; a project that cannot be read shows as its id, which the endpoints
// accept as well.
type projectSlugs struct {
	h     *Handler
	r     *http.Request
	or    *orgRequest
	slugs map[int64]string
}

func (ps *projectSlugs) slug(pid *int64) *string {
	if pid == nil {
		return nil
	}
	s, ok := ps.slugs[*pid]
	if !ok {
		s = ps.h.projectSlug(ps.r, ps.or, *pid)
		if s == "" {
			s = id(*pid)
		}
		ps.slugs[*pid] = s
	}
	return &s
}

func (ps *projectSlugs) override(t *store.MessageTemplate) templateOverrideJSON {
	return templateOverrideJSON{Project: ps.slug(t.ProjectID), Integration: optionalInt(t.IntegrationID),
		Body: t.Body, DateUpdated: t.DateUpdated}
}

// writeOverride answers one saved override, named.
func (h *Handler) writeOverride(w http.ResponseWriter, r *http.Request, or *orgRequest, t *store.MessageTemplate) {
	out := h.newProjectSlugs(r, or).override(t)
	out.Name = t.Name
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) newProjectSlugs(r *http.Request, or *orgRequest) *projectSlugs {
	return &projectSlugs{h: h, r: r, or: or, slugs: map[int64]string{}}
}

// writeFieldError answers a 400 about one field in both shapes clients
// read: the API's {"detail": "field: message"} and Sentry's serializer
// errors, {"field": ["message"]}.
func writeFieldError(w http.ResponseWriter, field, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"detail": field + ": " + msg, field: []string{msg}})
}

// templateList answers GET …/templates/: every overridable template with
// its built-in body and the organization's overrides of it.
func (h *Handler) templateList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	ts, err := h.store.TemplateList(r.Context(), or.org.ID)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	ps := h.newProjectSlugs(r, or)
	out := make([]templateJSON, 0, len(messageTemplates))
	for _, mt := range messageTemplates {
		tj := templateJSON{Name: mt.Name, Default: mt.Default(), Overrides: []templateOverrideJSON{}}
		for _, t := range ts {
			if t.Name == mt.Name {
				tj.Overrides = append(tj.Overrides, ps.override(t))
			}
		}
		out = append(out, tj)
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
}

// templateScope is the template named by the {kind}/{file} path values and
// the scope the project and integration query parameters select.
type templateScope struct {
	name          string
	projectID     *int64
	integrationID *int64
}

// templateScope resolves the path and query; an unknown name, project or
// integration is answered 404.
func (h *Handler) templateScope(w http.ResponseWriter, r *http.Request, or *orgRequest) (*templateScope, bool) {
	sc := &templateScope{name: r.PathValue("kind") + "/" + r.PathValue("file")}
	if _, ok := messageTemplates.Lookup(sc.name); !ok {
		writeError(w, http.StatusNotFound, "The requested resource does not exist")
		return nil, false
	}
	q := r.URL.Query()
	if slug := q.Get("project"); slug != "" {
		p, err := h.store.ProjectGet(r.Context(), or.org.ID, slug)
		if err != nil {
			h.fail(w, r, err, "")
			return nil, false
		}
		sc.projectID = &p.ID
	}
	if v := q.Get("integration"); v != "" {
		in, ok := h.integrationByID(w, r, or, v)
		if !ok {
			return nil, false
		}
		sc.integrationID = &in.ID
	}
	return sc, true
}

func (h *Handler) templateGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	sc, ok := h.templateScope(w, r, or)
	if !ok {
		return
	}
	t, err := h.store.TemplateGet(r.Context(), or.org.ID, sc.projectID, sc.integrationID, sc.name)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	h.writeOverride(w, r, or, t)
}

// checkTemplateBody refuses a body that is missing, blank or too large; it
// answers the 400 itself.
func checkTemplateBody(w http.ResponseWriter, body *string) bool {
	switch {
	case body == nil:
		writeFieldError(w, "body", "This field is required.")
	case strings.TrimSpace(*body) == "":
		writeFieldError(w, "body", "This field may not be blank.")
	case len(*body) > maxTemplateBytes:
		writeFieldError(w, "body", fmt.Sprintf("Ensure this field has no more than %d bytes.", maxTemplateBytes))
	default:
		return true
	}
	return false
}

// templatePut saves an override once it parses and renders against sample
// messages, so that a broken one is refused here, with its line and column,
// rather than found at delivery.
func (h *Handler) templatePut(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	sc, ok := h.templateScope(w, r, or)
	if !ok {
		return
	}
	var req struct {
		Body *string `json:"body"`
	}
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if !checkTemplateBody(w, req.Body) {
		return
	}
	if err := messageTemplates.Check(sc.name, *req.Body); err != nil {
		writeFieldError(w, "body", err.Error())
		return
	}
	uid := or.user.ID
	t, err := h.store.TemplatePut(r.Context(), &store.MessageTemplate{OrganizationID: or.org.ID,
		ProjectID: sc.projectID, IntegrationID: sc.integrationID, Name: sc.name, Body: *req.Body, UpdatedBy: &uid})
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	h.writeOverride(w, r, or, t)
}

func (h *Handler) templateDelete(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	sc, ok := h.templateScope(w, r, or)
	if !ok {
		return
	}
	if err := h.store.TemplateDelete(r.Context(), or.org.ID, sc.projectID, sc.integrationID, sc.name); err != nil {
		h.fail(w, r, err, "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// templatePreview answers POST …/templates/preview/: a template (the body
// given, else the override that applies to the issue's project and the
// integration, else the built-in one) rendered for a real issue of the
// organization, as its alert would be. A template that fails is a 400 with
// Go's error, which says where.
func (h *Handler) templatePreview(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	var req struct {
		Name        *string `json:"name"`
		Body        *string `json:"body"`
		Issue       *string `json:"issue"`
		Integration *string `json:"integration"`
	}
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	switch {
	case req.Name == nil:
		writeFieldError(w, "name", "This field is required.")
		return
	case !slices.Contains(messageTemplates.Names(), *req.Name):
		writeFieldError(w, "name", fmt.Sprintf("%q is not one of %s", *req.Name, strings.Join(messageTemplates.Names(), ", ")))
		return
	case req.Issue == nil || *req.Issue == "":
		writeFieldError(w, "issue", "This field is required.")
		return
	}
	if req.Body != nil && !checkTemplateBody(w, req.Body) {
		return
	}
	// Issues are event data: the token must be allowed to read them too.
	if !or.can(eventRead...) {
		writeError(w, http.StatusForbidden, "You do not have permission to perform this action.")
		return
	}
	is, err := h.orgIssue(r, or, *req.Issue)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	var integrationID *int64
	if req.Integration != nil && *req.Integration != "" {
		iid, err := strconv.ParseInt(*req.Integration, 10, 64)
		if err != nil {
			writeFieldError(w, "integration", "expected an id")
			return
		}
		in, err := h.store.IntegrationGet(r.Context(), or.org.ID, iid)
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		integrationID = &in.ID
	}
	tmpl, _ := messageTemplates.Lookup(*req.Name)
	n, err := h.previewNotification(r, or, is, *req.Name)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	var body string
	if req.Body != nil {
		body = *req.Body
	} else {
		pid := is.ProjectID
		saved, err := h.store.TemplatesFor(r.Context(), or.org.ID, &pid, integrationID)
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		var ok bool
		if body, ok = saved[*req.Name]; !ok {
			body = tmpl.Default()
		}
	}
	out, err := tmpl.Preview(body, n)
	if err != nil {
		writeFieldError(w, "body", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"output": out})
}

// orgIssue finds an issue of the organization by id or short id (BACKEND-1A).
func (h *Handler) orgIssue(r *http.Request, or *orgRequest, ref string) (*store.Issue, error) {
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return h.store.IssueGet(r.Context(), or.org.ID, n)
	}
	slug, n, ok := store.ParseShortID(ref)
	if !ok {
		return nil, store.ErrNotFound
	}
	p, err := h.store.ProjectGet(r.Context(), or.org.ID, slug)
	if err != nil {
		return nil, err
	}
	return h.store.IssueGetByShortID(r.Context(), or.org.ID, p.ID, n)
}

// previewNotification is what the delivery worker would hand a notifier
// about the issue: an alert with the issue and its latest event,
// or, for the digest and summary templates, a digest or a summary of that
// one issue.
func (h *Handler) previewNotification(r *http.Request, or *orgRequest, is *store.Issue, name string) (*integrations.Notification, error) {
	p, err := h.store.ProjectGet(r.Context(), or.org.ID, id(is.ProjectID))
	if err != nil {
		return nil, err
	}
	issue := delivery.IssueSummary(h.baseURL, or.org.Slug, p, is)
	issueURL := issue.URL
	now := time.Now().UTC()
	n := &integrations.Notification{Kind: integrations.KindAlert, IdempotencyKey: "preview", Issue: issue, At: now}
	_, file, _ := strings.Cut(name, "/")
	switch {
	case strings.HasPrefix(file, "digest"):
		n.Kind = integrations.KindDigest
		n.Digest = []integrations.DigestItem{{Issue: issue, Alerts: 1, Reason: integrations.KindAlert}}
	case strings.HasPrefix(file, "summary"):
		n.Kind = integrations.KindSummary
		top := integrations.SummaryIssue{ShortID: issue.ShortID, Title: issue.Title, URL: issueURL,
			Events: issue.Count, Users: issue.UserCount}
		n.Summary = &integrations.Summary{From: now.Add(-24 * time.Hour), To: now, Events: issue.Count,
			TopIssues: []integrations.SummaryIssue{top}}
	default:
		se, err := h.store.EventEdge(r.Context(), or.org.ID, is.ID, true)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if se != nil {
			n.Event = delivery.EventSummary(se, issueURL)
		}
	}
	return n, nil
}
