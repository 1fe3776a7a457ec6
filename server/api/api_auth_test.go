package api_test

import (
	"encoding/base64"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// route is one request of the route table, with a body where it needs one.
type route struct {
	method, path string
	body         any
}

// routes lists every authenticated route of the API for tenant a.
func routes(a *tenant) []route {
	org, proj, key := a.org.Slug, a.project.Slug, a.key.Public
	return []route{
		{"GET", "/api/0/organizations/", nil},
		{"POST", "/api/0/organizations/", map[string]any{"name": "New Org"}},
		{"GET", "/api/0/organizations/" + org + "/", nil},
		{"PUT", "/api/0/organizations/" + org + "/", map[string]any{"name": "Renamed"}},
		{"GET", "/api/0/organizations/" + org + "/teams/", nil},
		{"POST", "/api/0/organizations/" + org + "/teams/", map[string]any{"slug": "new-team"}},
		{"GET", "/api/0/teams/" + org + "/" + a.team.Slug + "/", nil},
		{"GET", "/api/0/teams/" + org + "/" + a.team.Slug + "/projects/", nil},
		{"POST", "/api/0/teams/" + org + "/" + a.team.Slug + "/projects/", map[string]any{"name": "New Project"}},
		{"GET", "/api/0/organizations/" + org + "/projects/", nil},
		{"GET", "/api/0/projects/" + org + "/" + proj + "/", nil},
		{"PUT", "/api/0/projects/" + org + "/" + proj + "/", map[string]any{"name": "Renamed"}},
		{"DELETE", "/api/0/projects/" + org + "/" + proj + "/", nil},
		{"GET", "/api/0/projects/" + org + "/" + proj + "/keys/", nil},
		{"POST", "/api/0/projects/" + org + "/" + proj + "/keys/", map[string]any{"name": "New Key"}},
		{"GET", "/api/0/projects/" + org + "/" + proj + "/keys/" + key + "/", nil},
		{"PUT", "/api/0/projects/" + org + "/" + proj + "/keys/" + key + "/", map[string]any{"isActive": false}},
		{"DELETE", "/api/0/projects/" + org + "/" + proj + "/keys/" + key + "/", nil},
	}
}

func TestHandler_Index(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")

		got := e.want(t, http.StatusOK, "GET", "/api/0/", "", nil)
		want := map[string]any{"version": "0", "auth": nil, "user": nil}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("anonymous index = %v, want %v", got, want)
		}

		tok := e.token(t, a.user, "project:read", "org:read")
		got = e.want(t, http.StatusOK, "GET", "/api/0/", tok, nil)
		if s := str(t, got, "version"); s != "0" {
			t.Errorf("version = %q", s)
		}
		var scopes []string
		for _, sc := range list(t, get(got, "auth", "scopes")) {
			scopes = append(scopes, sc.(string))
		}
		if !slices.Equal(scopes, []string{"org:read", "project:read"}) {
			t.Errorf("auth.scopes = %v, want [org:read project:read]", scopes)
		}
		if s := str(t, got, "user", "email"); s != "acme@example.com" {
			t.Errorf("user.email = %q", s)
		}
		if s := str(t, got, "user", "id"); s != strconv.FormatInt(a.user.ID, 10) {
			t.Errorf("user.id = %q, want %d", s, a.user.ID)
		}

		wantDetail(t, e.want(t, http.StatusUnauthorized, "GET", "/api/0/", "not-a-token", nil))
		basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("acme@example.com:correct horse"))}}
		if code, _, v := e.send(t, "GET", "/api/0/", basic, nil); code != http.StatusUnauthorized {
			t.Errorf("index with Basic auth: %d %v, want 401", code, v)
		}
	})
}

func TestHandler_Authentication(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		past := time.Now().Add(-time.Hour)
		expired := e.tokenExpiring(t, a.user, &past, "org:read", "project:read")
		future := time.Now().Add(time.Hour)
		current := e.tokenExpiring(t, a.user, &future, "org:read", "project:read")

		// A token that expires later works until then.
		e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/", current, nil)

		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("acme@example.com:correct horse"))
		for _, tc := range []struct {
			name string
			auth string // the Authorization header, absent when ""
		}{
			{"no token", ""},
			{"bad token", "Bearer 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
			{"empty bearer", "Bearer "},
			{"basic", basic},
			{"token without scheme", a.token},
			{"expired token", "Bearer " + expired},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var hdr http.Header
				if tc.auth != "" {
					hdr = http.Header{"Authorization": {tc.auth}}
				}
				for _, r := range routes(a) {
					code, h, v := e.send(t, r.method, r.path, hdr, r.body)
					if code != http.StatusUnauthorized {
						t.Errorf("%s %s: %d %v, want 401", r.method, r.path, code, v)
						continue
					}
					wantDetail(t, v)
					if !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("%s %s: WWW-Authenticate %q", r.method, r.path, h.Get("WWW-Authenticate"))
					}
				}
			})
		}

		// Nothing changed through any of them.
		v := e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/projects/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme-web"}) {
			t.Errorf("projects after refused requests: %v", got)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme"}) {
			t.Errorf("organizations after refused requests: %v", got)
		}
	})
}

func TestHandler_Scopes(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		dev := e.user(t, "dev@example.com")
		e.member(t, a.org, dev, "member")

		const (
			projectPath = "/api/0/projects/acme/acme-web/"
			createPath  = "/api/0/teams/acme/acme-ops/projects/"
			listPath    = "/api/0/organizations/acme/projects/"
			keysPath    = "/api/0/projects/acme/acme-web/keys/"
			orgsPath    = "/api/0/organizations/"
		)
		rename := map[string]any{"name": "Renamed"}
		newProject := map[string]any{"name": "Other"}

		e.runScopeCases(t, []scopeCase{
			{"owner with project:read", e.token(t, a.user, "project:read"), []check{
				{"GET", projectPath, nil, http.StatusOK},
				{"GET", keysPath, nil, http.StatusOK},
				{"POST", createPath, newProject, http.StatusForbidden},
				{"PUT", projectPath, rename, http.StatusForbidden},
				{"DELETE", projectPath, nil, http.StatusForbidden},
				{"POST", keysPath, nil, http.StatusForbidden},
				{"GET", listPath, nil, http.StatusForbidden}, // needs org:read
				{"GET", "/api/0/organizations/acme/", nil, http.StatusForbidden},
				{"POST", orgsPath, map[string]any{"name": "Mine"}, http.StatusForbidden},
			}},
			{"member role with every project scope", e.token(t, dev, "org:read", "org:write", "project:read", "project:write", "project:admin", "team:write"), []check{
				{"GET", projectPath, nil, http.StatusOK},
				{"GET", listPath, nil, http.StatusOK},
				{"POST", createPath, newProject, http.StatusForbidden},
				{"PUT", projectPath, rename, http.StatusForbidden},
				{"DELETE", projectPath, nil, http.StatusForbidden},
				{"POST", keysPath, nil, http.StatusForbidden},
				{"PUT", keysPath + a.key.Public + "/", map[string]any{"isActive": false}, http.StatusForbidden},
				{"DELETE", keysPath + a.key.Public + "/", nil, http.StatusForbidden},
				{"POST", "/api/0/organizations/acme/teams/", map[string]any{"slug": "mine"}, http.StatusForbidden},
				{"PUT", "/api/0/organizations/acme/", rename, http.StatusForbidden},
			}},
			{"owner with org:read", e.token(t, a.user, "org:read"), []check{
				{"GET", listPath, nil, http.StatusOK},
				{"GET", projectPath, nil, http.StatusForbidden},
				{"POST", orgsPath, map[string]any{"name": "Mine"}, http.StatusForbidden},
			}},
			{"owner with project:write", e.token(t, a.user, "project:write"), []check{
				{"DELETE", projectPath, nil, http.StatusForbidden}, // needs project:admin
				{"DELETE", keysPath + a.key.Public + "/", nil, http.StatusForbidden},
				{"PUT", projectPath, map[string]any{"name": "Project acme-web"}, http.StatusOK},
				{"POST", createPath, map[string]any{"name": "Second"}, http.StatusCreated},
			}},
			{"owner with org:write", e.token(t, a.user, "org:write"), []check{
				{"POST", orgsPath, map[string]any{"name": "Second Org"}, http.StatusCreated},
			}},
			{"owner with project:admin", e.token(t, a.user, "project:admin"), []check{
				{"DELETE", "/api/0/projects/acme/second/", nil, http.StatusNoContent},
			}},
		})

		// The refused requests changed nothing.
		v := e.want(t, http.StatusOK, "GET", projectPath, a.token, nil)
		if s := str(t, v, "name"); s != "Project acme-web" {
			t.Errorf("project name = %q", s)
		}
		v = e.want(t, http.StatusOK, "GET", listPath, a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme-web"}) {
			t.Errorf("projects = %v, want [acme-web]", got)
		}
		v = e.want(t, http.StatusOK, "GET", keysPath, a.token, nil)
		if l := list(t, v); len(l) != 1 || get(l[0], "isActive") != true {
			t.Errorf("keys = %v, want the one active default key", v)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/teams/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme-ops"}) {
			t.Errorf("teams = %v, want [acme-ops]", got)
		}
		v = e.want(t, http.StatusOK, "GET", orgsPath, a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme", "second-org"}) {
			t.Errorf("organizations = %v, want [acme second-org]", got)
		}
	})
}
