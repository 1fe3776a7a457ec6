package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/server/api"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// env is one API server over a real store, with helpers that create
// fixtures through the store and send requests over HTTP.
type env struct {
	url    string // the test server's base URL, also the API's public address
	host   string // host:port of url, as DSNs show it
	st     *store.Store
	client *http.Client
}

// setup runs fn per engine (SQLite, and PostgreSQL when
// TOCSIN_TEST_DATABASE_URL is set), each with its own empty store and server.
func setup(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		mux := http.NewServeMux()
		var handler http.Handler
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handler.ServeHTTP(w, r)
		}))
		srv.Start()
		t.Cleanup(srv.Close)
		// The API needs the server's address for DSNs and Link headers,
		// which is known only once it listens; no request comes before this.
		a := api.New(st, srv.URL, slog.New(slog.DiscardHandler))
		a.Register(mux)
		handler = a.WithNotFound(mux)
		u, err := url.Parse(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		client := srv.Client()
		client.Timeout = 30 * time.Second
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		fn(t, &env{url: srv.URL, host: u.Host, st: st, client: client})
	})
}

// tenant is an organization with an owner, a team, a project (with its
// default key) and an owner token that has every scope.
type tenant struct {
	user    *store.User
	org     *store.Organization
	member  *store.Member
	team    *store.Team
	project *store.Project
	key     *store.ProjectKey
	token   string
}

// tenant creates one whose slugs start with name: org name, team name-ops,
// project name-web, user name@example.com.
func (e *env) tenant(t *testing.T, name string) *tenant {
	t.Helper()
	tn := &tenant{user: e.user(t, name+"@example.com")}
	tn.org, tn.member = e.org(t, name, tn.user)
	tn.team = e.team(t, tn.org, tn.member, name+"-ops")
	tn.project, tn.key = e.project(t, tn.org, tn.team, name+"-web")
	tn.token = e.token(t, tn.user, store.AllScopes...)
	return tn
}

func (e *env) user(t *testing.T, email string) *store.User {
	t.Helper()
	u, err := e.st.UserCreate(context.Background(), &store.UserCreateParams{Email: email, Password: "correct horse"})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// org creates an organization owned by owner and returns the owner's membership.
func (e *env) org(t *testing.T, slug string, owner *store.User) (*store.Organization, *store.Member) {
	t.Helper()
	ctx := context.Background()
	o, err := e.st.OrganizationCreate(ctx, &store.OrganizationCreateParams{Slug: slug, Name: "Org " + slug, OwnerID: owner.ID})
	if err != nil {
		t.Fatalf("create organization %s: %v", slug, err)
	}
	_, m, err := e.st.Membership(ctx, owner.ID, slug)
	if err != nil {
		t.Fatalf("membership in %s: %v", slug, err)
	}
	return o, m
}

func (e *env) member(t *testing.T, org *store.Organization, u *store.User, role store.Role) *store.Member {
	t.Helper()
	m, err := e.st.MemberCreate(context.Background(), org.ID, u.ID, role)
	if err != nil {
		t.Fatalf("add %s to %s as %s: %v", u.Email, org.Slug, role, err)
	}
	return m
}

func (e *env) team(t *testing.T, org *store.Organization, m *store.Member, slug string) *store.Team {
	t.Helper()
	tm, err := e.st.TeamCreate(context.Background(), org.ID, &store.TeamCreateParams{Slug: slug, Name: "Team " + slug, MemberID: m.ID})
	if err != nil {
		t.Fatalf("create team %s: %v", slug, err)
	}
	return tm
}

func (e *env) project(t *testing.T, org *store.Organization, team *store.Team, slug string) (*store.Project, *store.ProjectKey) {
	t.Helper()
	p, k, err := e.st.ProjectCreate(context.Background(), org.ID, team.ID, &store.ProjectCreateParams{Slug: slug, Name: "Project " + slug, Platform: "python"})
	if err != nil {
		t.Fatalf("create project %s: %v", slug, err)
	}
	return p, k
}

func (e *env) token(t *testing.T, u *store.User, scopes ...string) string {
	t.Helper()
	return e.tokenExpiring(t, u, nil, scopes...)
}

func (e *env) tokenExpiring(t *testing.T, u *store.User, expires *time.Time, scopes ...string) string {
	t.Helper()
	tok, _, err := e.st.TokenCreate(context.Background(), u.ID, &store.TokenCreateParams{Name: "test", Scopes: scopes, ExpiresAt: expires})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok
}

// check is one request of a scope test and the status it must get.
type check struct {
	method, path string
	body         any
	code         int
}

// scopeCase is a token and the checks its requests must pass.
type scopeCase struct {
	name   string
	token  string
	checks []check
}

// runScopeCases runs the cases in order (later ones see what earlier ones
// changed); a refusal must say it is about permission.
func (e *env) runScopeCases(t *testing.T, cases []scopeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range tc.checks {
				code, _, v := e.do(t, c.method, c.path, tc.token, c.body)
				if code != c.code {
					t.Errorf("%s %s: %d %v, want %d", c.method, c.path, code, v, c.code)
					continue
				}
				if code == http.StatusForbidden {
					wantDetail(t, v, "permission")
				}
			}
		})
	}
}

// do sends a request with a bearer token (none when token is "") and
// returns the status, the headers and the decoded JSON body (nil when
// empty). body is sent as is when it is a string or []byte, else as JSON.
func (e *env) do(t *testing.T, method, path, token string, body any) (int, http.Header, any) {
	t.Helper()
	var hdr http.Header
	if token != "" {
		hdr = http.Header{"Authorization": {"Bearer " + token}}
	}
	return e.send(t, method, path, hdr, body)
}

// send is do with arbitrary request headers.
func (e *env) send(t *testing.T, method, path string, hdr http.Header, body any) (int, http.Header, any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.url + path
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	var v any
	// Redirects carry net/http's HTML link; everything else answers JSON.
	if len(bytes.TrimSpace(raw)) > 0 && resp.StatusCode/100 != 3 {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%s %s: %d with Content-Type %q, body %q", method, path, resp.StatusCode, ct, raw)
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s %s: %d with bad JSON %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, v
}

// want checks a request's status and returns its body.
func (e *env) want(t *testing.T, code int, method, path, token string, body any) any {
	t.Helper()
	got, _, v := e.do(t, method, path, token, body)
	if got != code {
		t.Fatalf("%s %s: status %d, want %d; body %v", method, path, got, code, v)
	}
	return v
}

// get walks decoded JSON: strings index objects, ints index lists. A step
// that does not fit gives nil.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// str is get for a string value; it fails the test when there is none.
func str(t *testing.T, v any, path ...any) string {
	t.Helper()
	s, ok := get(v, path...).(string)
	if !ok {
		t.Fatalf("%v in %v: %#v is not a string", path, v, get(v, path...))
	}
	return s
}

// list returns decoded JSON that must be a list.
func list(t *testing.T, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%v is not a list", v)
	}
	return l
}

// slugs returns the "slug" of each object in a list.
func slugs(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, it := range list(t, v) {
		out = append(out, str(t, it, "slug"))
	}
	return out
}

// wantDetail checks Sentry's error shape and that detail mentions each part.
func wantDetail(t *testing.T, v any, parts ...string) {
	t.Helper()
	d, ok := get(v, "detail").(string)
	if !ok || d == "" {
		t.Fatalf("error body %v has no detail", v)
	}
	for _, p := range parts {
		if !strings.Contains(d, p) {
			t.Errorf("detail %q does not mention %q", d, p)
		}
	}
}

func TestHandler_Routing(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		for _, tc := range []struct {
			method, path, location string
		}{
			{"GET", "/api/0/organizations", "/api/0/organizations/"},
			{"GET", "/api/0/organizations?per_page=1", "/api/0/organizations/?per_page=1"},
			{"POST", "/api/0/organizations", "/api/0/organizations/"},
			{"GET", "/api/0/projects/acme/acme-web", "/api/0/projects/acme/acme-web/"},
			{"DELETE", "/api/0/projects/acme/acme-web/keys/" + a.key.Public, "/api/0/projects/acme/acme-web/keys/" + a.key.Public + "/"},
			{"GET", "/api/0", "/api/0/"},
			{"GET", "/api/0/nope", "/api/0/nope/"},
		} {
			code, hdr, _ := e.do(t, tc.method, tc.path, a.token, nil)
			if code != http.StatusPermanentRedirect || hdr.Get("Location") != tc.location {
				t.Errorf("%s %s: %d to %q, want 308 to %q", tc.method, tc.path, code, hdr.Get("Location"), tc.location)
			}
		}
		for _, path := range []string{"/api/0/nope/", "/api/0/organizations/acme/nope/", "/api/0/nope"} {
			// Without a valid token no path but the index says whether it exists.
			wantDetail(t, e.want(t, http.StatusUnauthorized, "GET", path, "", nil))
			wantDetail(t, e.want(t, http.StatusUnauthorized, "GET", path, strings.Repeat("0", 64), nil))
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", "/api/0/nope/", a.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", "/api/0/organizations/acme/nope/", a.token, nil))
		e.want(t, http.StatusPermanentRedirect, "GET", "/api/0", "", nil)
		// A known path with another method: 405 with Allow, as JSON.
		for _, tc := range []struct{ method, path, allow string }{
			{"PATCH", "/api/0/organizations/", "GET, HEAD, POST"},
			{"DELETE", "/api/0/organizations/acme/", "GET, HEAD, PUT"},
			{"POST", "/api/0/projects/acme/acme-web/", "DELETE, GET, HEAD, PUT"},
		} {
			code, hdr, v := e.do(t, tc.method, tc.path, a.token, nil)
			if code != http.StatusMethodNotAllowed || hdr.Get("Allow") != tc.allow {
				t.Errorf("%s %s: %d with Allow %q, want 405 with %q", tc.method, tc.path, code, hdr.Get("Allow"), tc.allow)
				continue
			}
			wantDetail(t, v, tc.method)
		}
		e.want(t, http.StatusOK, "GET", "/api/0/projects/acme/acme-web/", a.token, nil)
	})
}
