// Package api serves Sentry's REST API (/api/0/) over Tocsin's store: the
// same paths, JSON field names, bearer tokens and Link-header cursors, so
// that sentry-cli and other Sentry API clients work unchanged.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tocsin/tocsin/store"
)

// Handler holds the API's dependencies.
type Handler struct {
	store        *store.Store
	baseURL      string
	log          *slog.Logger
	integrations *Integrations
}

// New returns the API handler; baseURL is the public address used in DSNs.
func New(st *store.Store, baseURL string, log *slog.Logger) *Handler {
	return &Handler{store: st, baseURL: strings.TrimRight(baseURL, "/"), log: log}
}

// Register adds the API's routes to mux. The whole route table is here.
func (h *Handler) Register(mux *http.ServeMux) {
	// handle also routes the path without its trailing slash to notFound,
	// which redirects it; left to itself ServeMux would answer 307 with HTML.
	handle := func(pattern string, fn http.HandlerFunc) {
		mux.HandleFunc(pattern, fn)
		mux.HandleFunc(strings.TrimSuffix(pattern, "/{$}"), h.notFound)
	}
	handle("GET /api/0/{$}", h.index)

	handle("GET /api/0/organizations/{$}", h.user(h.organizationList))
	handle("POST /api/0/organizations/{$}", h.user(h.organizationCreate))
	handle("GET /api/0/organizations/{org}/{$}", h.org(h.organizationGet, orgRead...))
	handle("PUT /api/0/organizations/{org}/{$}", h.org(h.organizationUpdate, orgWrite...))

	handle("GET /api/0/organizations/{org}/teams/{$}", h.org(h.teamList, orgRead...))
	handle("POST /api/0/organizations/{org}/teams/{$}", h.org(h.teamCreate, "org:write", "org:admin", "team:write"))
	handle("GET /api/0/teams/{org}/{team}/{$}", h.org(h.teamGet, teamRead...))
	handle("GET /api/0/teams/{org}/{team}/projects/{$}", h.org(h.teamProjectList, projectRead...))
	handle("POST /api/0/teams/{org}/{team}/projects/{$}", h.org(h.projectCreate, projectWrite...))

	handle("GET /api/0/organizations/{org}/projects/{$}", h.org(h.projectList, orgRead...))
	handle("GET /api/0/projects/{org}/{project}/{$}", h.org(h.projectGet, projectRead...))
	handle("PUT /api/0/projects/{org}/{project}/{$}", h.org(h.projectUpdate, projectWrite...))
	handle("DELETE /api/0/projects/{org}/{project}/{$}", h.org(h.projectDelete, "project:admin"))

	handle("GET /api/0/projects/{org}/{project}/keys/{$}", h.org(h.keyList, projectRead...))
	handle("POST /api/0/projects/{org}/{project}/keys/{$}", h.org(h.keyCreate, projectWrite...))
	handle("GET /api/0/projects/{org}/{project}/keys/{key}/{$}", h.org(h.keyGet, projectRead...))
	handle("PUT /api/0/projects/{org}/{project}/keys/{key}/{$}", h.org(h.keyUpdate, projectWrite...))
	handle("DELETE /api/0/projects/{org}/{project}/keys/{key}/{$}", h.org(h.keyDelete, "project:admin"))

	handle("GET /api/0/projects/{org}/{project}/issues/{$}", h.org(h.issueList, eventRead...))
	handle("PUT /api/0/projects/{org}/{project}/issues/{$}", h.org(h.issueBulkUpdate, eventWrite...))
	handle("DELETE /api/0/projects/{org}/{project}/issues/{$}", h.org(h.issueBulkDelete, eventAdmin...))
	handle("GET /api/0/organizations/{org}/issues/{$}", h.org(h.issueList, eventRead...))
	handle("PUT /api/0/organizations/{org}/issues/{$}", h.org(h.issueBulkUpdate, eventWrite...))
	handle("DELETE /api/0/organizations/{org}/issues/{$}", h.org(h.issueBulkDelete, eventAdmin...))
	for _, prefix := range []string{"/api/0/issues/{issue}", "/api/0/organizations/{org}/issues/{issue}"} {
		handle("GET "+prefix+"/{$}", h.issue(h.issueGet, eventRead...))
		handle("PUT "+prefix+"/{$}", h.issue(h.issueUpdate, eventWrite...))
		handle("DELETE "+prefix+"/{$}", h.issue(h.issueDelete, eventAdmin...))
		handle("GET "+prefix+"/events/{$}", h.issue(h.issueEvents, eventRead...))
		handle("GET "+prefix+"/events/{event}/{$}", h.issue(h.issueEvent, eventRead...))
		handle("GET "+prefix+"/tags/{$}", h.issue(h.issueTags, eventRead...))
		handle("GET "+prefix+"/links/{$}", h.issue(h.issueLinks, eventRead...))
		handle("POST "+prefix+"/links/{$}", h.issue(h.issueLinkCreate, eventWrite...))
	}
	handle("GET /api/0/projects/{org}/{project}/events/{event}/{$}", h.org(h.projectEvent, eventRead...))

	rulesPath := "/api/0/projects/{org}/{project}/rules/"
	handle("GET "+rulesPath+"{$}", h.org(h.ruleList, alertsRead...))
	handle("POST "+rulesPath+"{$}", h.org(h.ruleCreate, alertsWrite...))
	handle("GET "+rulesPath+"configuration/{$}", h.org(h.ruleConfiguration, alertsRead...))
	handle("GET "+rulesPath+"{rule}/{$}", h.org(h.ruleGet, alertsRead...))
	handle("PUT "+rulesPath+"{rule}/{$}", h.org(h.ruleUpdate, alertsWrite...))
	handle("DELETE "+rulesPath+"{rule}/{$}", h.org(h.ruleDelete, alertsWrite...))
	handle("POST "+rulesPath+"{rule}/snooze/{$}", h.org(h.ruleSnooze, alertsWrite...))
	handle("DELETE "+rulesPath+"{rule}/snooze/{$}", h.org(h.ruleUnsnooze, alertsWrite...))
	handle("GET "+rulesPath+"{rule}/group-history/{$}", h.org(h.ruleGroupHistory, alertsRead...))

	summariesPath := "/api/0/projects/{org}/{project}/summaries/"
	handle("GET "+summariesPath+"{$}", h.org(h.summaryList, alertsRead...))
	handle("POST "+summariesPath+"{$}", h.org(h.summaryCreate, alertsWrite...))
	handle("GET "+summariesPath+"{summary}/{$}", h.org(h.summaryGet, alertsRead...))
	handle("PUT "+summariesPath+"{summary}/{$}", h.org(h.summaryUpdate, alertsWrite...))
	handle("DELETE "+summariesPath+"{summary}/{$}", h.org(h.summaryDelete, alertsWrite...))
	handle("POST "+summariesPath+"{summary}/send-now/{$}", h.org(h.summarySendNow, alertsWrite...))

	handle("GET /api/0/users/{user}/{$}", h.user(h.userDetails))
	handle("PUT /api/0/users/{user}/{$}", h.user(h.userUpdate))
	handle("GET /api/0/users/{user}/notification-options/{$}", h.user(h.notificationOptions))
	handle("PUT /api/0/users/{user}/notification-options/{$}", h.user(h.notificationOptionSet))

	handle("GET /api/0/organizations/{org}/integrations/{$}", h.org(h.integrationList, orgRead...))
	handle("POST /api/0/organizations/{org}/integrations/{$}", h.org(h.integrationCreate, integrationWrite...))
	handle("GET /api/0/organizations/{org}/integrations/{integration}/{$}", h.org(h.integrationGet, orgRead...))
	handle("PUT /api/0/organizations/{org}/integrations/{integration}/{$}", h.org(h.integrationUpdate, integrationWrite...))
	handle("DELETE /api/0/organizations/{org}/integrations/{integration}/{$}", h.org(h.integrationDelete, integrationWrite...))
	handle("POST /api/0/organizations/{org}/integrations/{integration}/test/{$}", h.org(h.integrationTest, integrationWrite...))
	templatesPath := "/api/0/organizations/{org}/templates/"
	handle("GET "+templatesPath+"{$}", h.org(h.templateList, orgRead...))
	handle("POST "+templatesPath+"preview/{$}", h.org(h.templatePreview, integrationWrite...))
	handle("GET "+templatesPath+"{kind}/{file}/{$}", h.org(h.templateGet, orgRead...))
	handle("PUT "+templatesPath+"{kind}/{file}/{$}", h.org(h.templatePut, integrationWrite...))
	handle("DELETE "+templatesPath+"{kind}/{file}/{$}", h.org(h.templateDelete, integrationWrite...))
	handle("GET /api/0/organizations/{org}/deliveries/{$}", h.org(h.deliveryList, orgRead...))
	handle("GET /api/0/organizations/{org}/deliveries/{delivery}/{$}", h.org(h.deliveryGet, orgRead...))
	handle("POST /api/0/organizations/{org}/deliveries/{delivery}/retry/{$}", h.org(h.deliveryRetry, integrationWrite...))

	handle("GET /api/0/organizations/{org}/releases/{$}", h.org(h.releaseList, projectRead...))
	handle("POST /api/0/organizations/{org}/releases/{$}", h.org(h.releaseCreate, "project:releases", "project:write", "project:admin"))
	handle("GET /api/0/organizations/{org}/releases/{version}/{$}", h.org(h.releaseGet, projectRead...))
	handle("PUT /api/0/organizations/{org}/releases/{version}/{$}", h.org(h.releaseUpdate, "project:releases", "project:write", "project:admin"))
}

// Scope sets, as Sentry's permission classes map methods to scopes.
var (
	orgRead      = []string{"org:read", "org:write", "org:admin"}
	orgWrite     = []string{"org:write", "org:admin"}
	teamRead     = []string{"team:read", "team:write", "team:admin"}
	projectRead  = []string{"project:read", "project:write", "project:admin"}
	projectWrite = []string{"project:write", "project:admin"}
	// integrationWrite is Sentry's OrganizationIntegrationsPermission for writes.
	integrationWrite = []string{"org:integrations", "org:write", "org:admin"}
)

// notFound answers a known API path without its trailing slash: Sentry's
// paths end in a slash, and a path without it is redirected, keeping the
// method (308), as Django's APPEND_SLASH does for Sentry.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/0" {
		if _, ok := h.authenticate(w, r); !ok {
			return
		}
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		appendSlash(w, r)
		return
	}
	writeError(w, http.StatusNotFound, "The requested resource does not exist")
}

// appendSlash redirects to the path with its trailing slash, keeping the
// method and body (308).
func appendSlash(w http.ResponseWriter, r *http.Request) {
	u := *r.URL
	u.Path += "/"
	u.RawPath = ""
	http.Redirect(w, r, u.RequestURI(), http.StatusPermanentRedirect)
}

// WithNotFound answers API paths that match no route of mux the way
// Sentry does: a path without its trailing slash is redirected to it,
// keeping the method (308), as Django's APPEND_SLASH does for Sentry; other
// unknown paths get a JSON 404. Like every API path but the index, they need
// a valid token first: without one the answer is 401, which does not tell
// a stranger which paths exist. (A catch-all "/api/0/" route would conflict
// with ingest's "/api/{project_id}/…" routes in http.ServeMux.)
func (h *Handler) WithNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/0/") {
			if _, pattern := mux.Handler(r); pattern == "" {
				if _, ok := h.authenticate(w, r); !ok {
					return
				}
				if !strings.HasSuffix(r.URL.Path, "/") {
					appendSlash(w, r)
					return
				}
				w = &jsonNotFound{ResponseWriter: w, method: r.Method}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// jsonNotFound replaces ServeMux's plain-text 404 and 405 (a known path,
// with its Allow header) with the API's JSON errors, worded as Sentry's.
type jsonNotFound struct {
	http.ResponseWriter
	method  string
	swallow bool
}

func (w *jsonNotFound) WriteHeader(code int) {
	var detail string
	switch code {
	case http.StatusNotFound:
		detail = "The requested resource does not exist"
	case http.StatusMethodNotAllowed:
		detail = fmt.Sprintf("Method %q not allowed.", w.method)
	default:
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.swallow = true
	w.ResponseWriter.Header().Del("X-Content-Type-Options")
	writeError(w.ResponseWriter, code, detail)
}

func (w *jsonNotFound) Write(b []byte) (int, error) {
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
