package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

// wantID checks that v has an "id" that is a string of digits, as Sentry's.
func wantID(t *testing.T, v any) string {
	t.Helper()
	s, ok := get(v, "id").(string)
	if !ok {
		t.Fatalf("id of %v is %#v, want a string", v, get(v, "id"))
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		t.Errorf("id %q is not a number", s)
	}
	return s
}

func TestHandler_Organizations(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")

		v := e.want(t, http.StatusCreated, "POST", "/api/0/organizations/", a.token, map[string]any{"name": "My Company, Inc."})
		id := wantID(t, v)
		if s := str(t, v, "slug"); s != "my-company-inc" {
			t.Errorf("derived slug = %q, want my-company-inc", s)
		}
		if s := str(t, v, "name"); s != "My Company, Inc." {
			t.Errorf("name = %q", s)
		}
		if s := str(t, v, "role"); s != "owner" {
			t.Errorf("role = %q, want owner", s)
		}

		v = e.want(t, http.StatusCreated, "POST", "/api/0/organizations/", a.token, map[string]any{"name": "Other", "slug": "chosen"})
		if s := str(t, v, "slug"); s != "chosen" {
			t.Errorf("given slug = %q, want chosen", s)
		}

		for _, ref := range []string{"my-company-inc", id} {
			v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/"+ref+"/", a.token, nil)
			if str(t, v, "id") != id || str(t, v, "slug") != "my-company-inc" {
				t.Errorf("GET organization %s = %v", ref, v)
			}
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme", "my-company-inc", "chosen"}) {
			t.Errorf("organizations = %v", got)
		}

		v = e.want(t, http.StatusOK, "PUT", "/api/0/organizations/chosen/", a.token, map[string]any{"name": "Renamed", "slug": "renamed"})
		if str(t, v, "slug") != "renamed" || str(t, v, "name") != "Renamed" {
			t.Errorf("updated organization = %v", v)
		}
		e.want(t, http.StatusOK, "GET", "/api/0/organizations/renamed/", a.token, nil)
		e.want(t, http.StatusNotFound, "GET", "/api/0/organizations/chosen/", a.token, nil)
	})
}

func TestHandler_TeamsAndProjects(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")

		v := e.want(t, http.StatusCreated, "POST", "/api/0/organizations/acme/teams/", a.token, map[string]any{"name": "Backend Team"})
		wantID(t, v)
		if str(t, v, "slug") != "backend-team" || str(t, v, "name") != "Backend Team" || get(v, "isMember") != true {
			t.Errorf("created team = %v", v)
		}
		v = e.want(t, http.StatusCreated, "POST", "/api/0/organizations/acme/teams/", a.token, map[string]any{"slug": "frontend"})
		if str(t, v, "slug") != "frontend" || str(t, v, "name") != "frontend" {
			t.Errorf("team from a slug = %v", v)
		}
		e.want(t, http.StatusOK, "GET", "/api/0/teams/acme/backend-team/", a.token, nil)

		v = e.want(t, http.StatusCreated, "POST", "/api/0/teams/acme/backend-team/projects/", a.token,
			map[string]any{"name": "API Server", "platform": "python"})
		pid := wantID(t, v)
		if str(t, v, "slug") != "api-server" || str(t, v, "name") != "API Server" || str(t, v, "platform") != "python" {
			t.Errorf("created project = %v", v)
		}
		if str(t, v, "team", "slug") != "backend-team" {
			t.Errorf("project team = %v", get(v, "team"))
		}
		if teams := list(t, get(v, "teams")); len(teams) != 1 || str(t, teams[0], "slug") != "backend-team" {
			t.Errorf("project teams = %v", teams)
		}
		if str(t, v, "organization", "slug") != "acme" {
			t.Errorf("project organization = %v", get(v, "organization"))
		}

		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/projects/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme-web", "api-server"}) {
			t.Errorf("organization projects = %v", got)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/teams/acme/backend-team/projects/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"api-server"}) {
			t.Errorf("team projects = %v", got)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/teams/acme/frontend/projects/", a.token, nil)
		if l := list(t, v); len(l) != 0 {
			t.Errorf("empty team's projects = %v", l)
		}

		for _, ref := range []string{"api-server", pid} {
			v = e.want(t, http.StatusOK, "GET", "/api/0/projects/acme/"+ref+"/", a.token, nil)
			if str(t, v, "id") != pid {
				t.Errorf("GET project %s = %v", ref, v)
			}
		}

		v = e.want(t, http.StatusOK, "PUT", "/api/0/projects/acme/api-server/", a.token, map[string]any{"name": "API"})
		if str(t, v, "name") != "API" || str(t, v, "slug") != "api-server" || str(t, v, "platform") != "python" {
			t.Errorf("renamed project = %v", v)
		}
		v = e.want(t, http.StatusOK, "PUT", "/api/0/projects/acme/api-server/", a.token, map[string]any{"slug": "api"})
		if str(t, v, "slug") != "api" || str(t, v, "name") != "API" || str(t, v, "team", "slug") != "backend-team" {
			t.Errorf("re-slugged project = %v", v)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/projects/acme/api/", a.token, nil)
		if str(t, v, "id") != pid || str(t, v, "name") != "API" {
			t.Errorf("project by its new slug = %v", v)
		}
		e.want(t, http.StatusNotFound, "GET", "/api/0/projects/acme/api-server/", a.token, nil)

		code, _, body := e.do(t, "DELETE", "/api/0/projects/acme/api/", a.token, nil)
		if code != http.StatusNoContent || body != nil {
			t.Errorf("DELETE project: %d %v, want 204 without a body", code, body)
		}
		e.want(t, http.StatusNotFound, "GET", "/api/0/projects/acme/api/", a.token, nil)
		e.want(t, http.StatusNotFound, "GET", "/api/0/projects/acme/"+pid+"/", a.token, nil)
		e.want(t, http.StatusNotFound, "DELETE", "/api/0/projects/acme/api/", a.token, nil)
		e.want(t, http.StatusNotFound, "GET", "/api/0/projects/acme/api/keys/", a.token, nil)
		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/projects/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme-web"}) {
			t.Errorf("projects after delete = %v", got)
		}
	})
}

// wantKey checks a key's JSON against Sentry's shapes for a project.
func wantKey(t *testing.T, e *env, v any, projectID int64) {
	t.Helper()
	pub, sec := str(t, v, "public"), str(t, v, "secret")
	if !hex32.MatchString(pub) || !hex32.MatchString(sec) {
		t.Errorf("public %q, secret %q: want 32 lowercase hex characters", pub, sec)
	}
	if id := str(t, v, "id"); id != pub {
		t.Errorf("id %q, want the public key %q", id, pub)
	}
	if n, ok := get(v, "projectId").(float64); !ok || int64(n) != projectID {
		t.Errorf("projectId = %v, want %d", get(v, "projectId"), projectID)
	}
	if got, want := str(t, v, "dsn", "public"), fmt.Sprintf("http://%s@%s/%d", pub, e.host, projectID); got != want {
		t.Errorf("dsn.public = %q, want %q", got, want)
	}
	if got, want := str(t, v, "dsn", "secret"), fmt.Sprintf("http://%s:%s@%s/%d", pub, sec, e.host, projectID); got != want {
		t.Errorf("dsn.secret = %q, want %q", got, want)
	}
	if got, want := str(t, v, "dsn", "csp"), fmt.Sprintf("/api/%d/csp-report/?sentry_key=%s", projectID, pub); !strings.HasPrefix(got, e.url) || !strings.Contains(got, want) {
		t.Errorf("dsn.csp = %q, want %s%s", got, e.url, want)
	}
}

func TestHandler_Keys(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		const keys = "/api/0/projects/acme/acme-web/keys/"

		v := e.want(t, http.StatusOK, "GET", keys, a.token, nil)
		l := list(t, v)
		if len(l) != 1 || str(t, l[0], "id") != a.key.Public || str(t, l[0], "name") != "Default" || get(l[0], "isActive") != true {
			t.Fatalf("keys of a new project = %v, want its default key", v)
		}
		wantKey(t, e, l[0], a.project.ID)

		v = e.want(t, http.StatusCreated, "POST", keys, a.token, map[string]any{"name": "CI"})
		wantKey(t, e, v, a.project.ID)
		if str(t, v, "name") != "CI" || get(v, "isActive") != true || get(v, "rateLimit") != nil {
			t.Errorf("created key = %v", v)
		}
		pub := str(t, v, "id")
		if pub == a.key.Public {
			t.Errorf("new key repeats the default key %s", pub)
		}
		created := e.want(t, http.StatusCreated, "POST", keys, a.token, nil) // the body is optional
		wantKey(t, e, created, a.project.ID)

		kp := keys + pub + "/"
		v = e.want(t, http.StatusOK, "GET", kp, a.token, nil)
		wantKey(t, e, v, a.project.ID)

		v = e.want(t, http.StatusOK, "PUT", kp, a.token, map[string]any{"isActive": false, "rateLimit": map[string]any{"window": 60, "count": 100}})
		if get(v, "isActive") != false || get(v, "rateLimit", "window") != 60.0 || get(v, "rateLimit", "count") != 100.0 {
			t.Errorf("key after PUT = %v", v)
		}
		v = e.want(t, http.StatusOK, "GET", kp, a.token, nil)
		if get(v, "isActive") != false || get(v, "rateLimit", "window") != 60.0 || get(v, "rateLimit", "count") != 100.0 {
			t.Errorf("key read back = %v", v)
		}
		v = e.want(t, http.StatusOK, "PUT", kp, a.token, map[string]any{"name": "Renamed"})
		if str(t, v, "name") != "Renamed" || get(v, "isActive") != false || get(v, "rateLimit", "count") != 100.0 {
			t.Errorf("rename changed other fields: %v", v)
		}
		v = e.want(t, http.StatusOK, "PUT", kp, a.token, map[string]any{"rateLimit": nil})
		if m, ok := v.(map[string]any); !ok || m["rateLimit"] != nil || m["isActive"] != false {
			t.Errorf("key after removing its rate limit = %v", v)
		}
		if _, present := v.(map[string]any)["rateLimit"]; !present {
			t.Errorf("rateLimit left out of %v, want null", v)
		}

		code, _, body := e.do(t, "DELETE", kp, a.token, nil)
		if code != http.StatusNoContent || body != nil {
			t.Errorf("DELETE key: %d %v, want 204 without a body", code, body)
		}
		e.want(t, http.StatusNotFound, "GET", kp, a.token, nil)
		e.want(t, http.StatusNotFound, "PUT", kp, a.token, map[string]any{"isActive": true})
		e.want(t, http.StatusNotFound, "DELETE", kp, a.token, nil)
		v = e.want(t, http.StatusOK, "GET", keys, a.token, nil)
		if l := list(t, v); len(l) != 2 || str(t, l[0], "id") != a.key.Public || str(t, l[1], "id") != str(t, created, "id") {
			t.Errorf("keys after delete = %v", v)
		}
	})
}

// linkRE parses one link of Sentry's Link header.
var linkRE = regexp.MustCompile(`^<([^>]*)>; rel="(previous|next)"; results="(true|false)"; cursor="([^"]*)"$`)

type link struct {
	url     string
	results bool
	cursor  string
}

// links parses a Link header into its previous and next links.
func links(t *testing.T, hdr string) (prev, next link) {
	t.Helper()
	parts := strings.Split(hdr, ", ")
	if len(parts) != 2 {
		t.Fatalf("Link %q: want two links", hdr)
	}
	for i, p := range parts {
		m := linkRE.FindStringSubmatch(p)
		if m == nil {
			t.Fatalf("Link part %q does not parse", p)
		}
		l := link{url: m[1], results: m[3] == "true", cursor: m[4]}
		switch {
		case i == 0 && m[2] == "previous":
			prev = l
		case i == 1 && m[2] == "next":
			next = l
		default:
			t.Fatalf("Link %q: want previous, then next", hdr)
		}
	}
	return prev, next
}

func TestHandler_Pagination(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		want := []string{a.team.Slug}
		for i := 1; i <= 7; i++ {
			s := fmt.Sprintf("team-%d", i)
			e.team(t, a.org, a.member, s)
			want = append(want, s)
		}
		slices.Sort(want)

		base := e.url + "/api/0/organizations/acme/teams/"
		code, hdr, v := e.do(t, "GET", base+"?per_page=3", a.token, nil)
		if code != http.StatusOK {
			t.Fatalf("first page: %d %v", code, v)
		}
		wantLink := `<` + base + `?per_page=3&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", ` +
			`<` + base + `?per_page=3&cursor=0:3:0>; rel="next"; results="true"; cursor="0:3:0"`
		if got := hdr.Get("Link"); got != wantLink {
			t.Errorf("first page Link:\n got %s\nwant %s", got, wantLink)
		}

		var got []string
		pages := 0
		for {
			pages++
			page := slugs(t, v)
			if len(page) > 3 {
				t.Fatalf("page %d has %d items, want at most 3", pages, len(page))
			}
			got = append(got, page...)
			prev, next := links(t, hdr.Get("Link"))
			if prev.results != (pages > 1) {
				t.Errorf("page %d: previous results=%t", pages, prev.results)
			}
			if !next.results {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			code, hdr, v = e.do(t, "GET", next.url, a.token, nil)
			if code != http.StatusOK {
				t.Fatalf("page %d: %d %v", pages+1, code, v)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged slugs = %v, want %v", got, want)
		}
		if pages != 3 {
			t.Errorf("%d pages, want 3", pages)
		}

		// The previous link of the last page leads back to the second.
		prev, _ := links(t, hdr.Get("Link"))
		v = e.want(t, http.StatusOK, "GET", prev.url, a.token, nil)
		if p := slugs(t, v); !slices.Equal(p, want[3:6]) {
			t.Errorf("previous page = %v, want %v", p, want[3:6])
		}

		// Other lists paginate the same way.
		_, hdr, v = e.do(t, "GET", "/api/0/organizations/?per_page=1", a.token, nil)
		if _, next := links(t, hdr.Get("Link")); next.results || len(list(t, v)) != 1 {
			t.Errorf("single organization: Link %q, body %v", hdr.Get("Link"), v)
		}

		for _, q := range []string{"cursor=garbage", "cursor=0:-3:0", "cursor=0:3", "cursor=x:3:0", "cursor=0:3:2",
			"per_page=0", "per_page=101", "per_page=-1", "per_page=ten", "limit=0", "limit=101"} {
			code, _, v := e.do(t, "GET", base+"?"+q, a.token, nil)
			if code != http.StatusBadRequest {
				t.Errorf("?%s: %d, want 400", q, code)
				continue
			}
			wantDetail(t, v)
		}
		e.want(t, http.StatusOK, "GET", base+"?per_page=100", a.token, nil)
		e.want(t, http.StatusOK, "GET", base+"?per_page=1", a.token, nil)
	})
}
