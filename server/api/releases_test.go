package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event/eventtest"
)

// versions returns the "version" of each release in a list.
func versions(t *testing.T, v any) []string {
	t.Helper()
	out := []string{}
	for _, it := range list(t, v) {
		out = append(out, str(t, it, "version"))
	}
	return out
}

func TestHandler_Releases(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		b := e.tenant(t, "globex")
		api, _ := e.project(t, a.org, a.team, "acme-api")
		const base = "/api/0/organizations/acme/releases/"
		tok := a.token

		// sentry-cli "releases new": 201 for a new release, 208 with the
		// release when it exists, projects added either way.
		v := e.want(t, http.StatusCreated, "POST", base, tok, map[string]any{"version": "1.0", "projects": []string{"acme-web"},
			"ref": "6ba09a7c53235ee8a8fa5ee4c1ca8ca886e7fdbb"})
		id := wantID(t, v)
		if get(v, "version") != "1.0" || get(v, "shortVersion") != "1.0" || get(v, "dateReleased") != nil ||
			get(v, "ref") != "6ba09a7c53235ee8a8fa5ee4c1ca8ca886e7fdbb" || get(v, "newGroups") != 0.0 ||
			get(v, "firstEvent") != nil || get(v, "status") != "open" {
			t.Errorf("created release %v", v)
		}
		if got := slugs(t, get(v, "projects")); !slices.Equal(got, []string{"acme-web"}) {
			t.Errorf("projects %v", got)
		}
		created := timeAt(t, v, "dateCreated")
		v = e.want(t, http.StatusAlreadyReported, "POST", base, tok, map[string]any{"version": "1.0", "projects": []string{"acme-web"}})
		if wantID(t, v) != id || !timeAt(t, v, "dateCreated").Equal(created) || get(v, "ref") != "6ba09a7c53235ee8a8fa5ee4c1ca8ca886e7fdbb" {
			t.Errorf("second create %v", v)
		}
		v = e.want(t, http.StatusAlreadyReported, "POST", base, tok, map[string]any{"version": "1.0", "projects": []string{"acme-api"}})
		if got := slugs(t, get(v, "projects")); !slices.Equal(got, []string{"acme-api", "acme-web"}) {
			t.Errorf("projects after adding acme-api: %v", got)
		}
		e.want(t, http.StatusCreated, "POST", base, tok, map[string]any{"version": "2.0-beta+build.7", "projects": []string{"acme-api"}})

		for _, body := range []any{
			map[string]any{"version": "", "projects": []string{"acme-web"}},
			map[string]any{"version": "latest", "projects": []string{"acme-web"}},
			map[string]any{"version": "Latest", "projects": []string{"acme-web"}},
			map[string]any{"version": ".", "projects": []string{"acme-web"}},
			map[string]any{"version": "..", "projects": []string{"acme-web"}},
			map[string]any{"version": "1.0\n2.0", "projects": []string{"acme-web"}},
			map[string]any{"version": "tab\there", "projects": []string{"acme-web"}},
			map[string]any{"version": strings.Repeat("v", 201), "projects": []string{"acme-web"}},
			map[string]any{"projects": []string{"acme-web"}},
			map[string]any{"version": 3, "projects": []string{"acme-web"}},
		} {
			code, _, v := e.do(t, "POST", base, tok, body)
			if code != http.StatusBadRequest {
				t.Errorf("%v: %d %v, want 400", body, code, v)
				continue
			}
			wantDetail(t, v, "version")
		}
		for _, projects := range []any{nil, []string{}, []string{"nope"}, []string{"acme-web", "globex-web"}, "acme-web"} {
			code, _, v := e.do(t, "POST", base, tok, map[string]any{"version": "3.0", "projects": projects})
			if code != http.StatusBadRequest {
				t.Errorf("projects %v: %d %v, want 400", projects, code, v)
				continue
			}
			wantDetail(t, v, "projects")
		}
		e.want(t, http.StatusNotFound, "GET", base+"3.0/", tok, nil)

		// Releases also come from events.
		seen := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		e.ingestEvents(t, a.project, seen, eventtest.PythonError(1, seen, map[string]any{"release": "0.9"}))
		v = e.want(t, http.StatusOK, "GET", base+"0.9/", tok, nil)
		if !timeAt(t, v, "firstEvent").Equal(seen) || !timeAt(t, v, "lastEvent").Equal(seen) || get(v, "newGroups") != 1.0 {
			t.Errorf("release from an event %v", v)
		}
		if got := slugs(t, get(v, "projects")); !slices.Equal(got, []string{"acme-web"}) {
			t.Errorf("projects of 0.9: %v", got)
		}

		// Lists, newest first, by project and by version substring.
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"2.0-beta+build.7", "1.0", "0.9"}},
			{"?query=1.", []string{"1.0"}},
			{"?query=beta%2B", []string{"2.0-beta+build.7"}},
			{"?query=%25", []string{}},
			{fmt.Sprintf("?project=%d", api.ID), []string{"2.0-beta+build.7", "1.0"}},
			{fmt.Sprintf("?project=%d", a.project.ID), []string{"1.0", "0.9"}},
			{"?project=-1", []string{"2.0-beta+build.7", "1.0", "0.9"}},
			{fmt.Sprintf("?project=%d", b.project.ID), []string{}},
		} {
			v := e.want(t, http.StatusOK, "GET", base+tc.query, tok, nil)
			if got := versions(t, v); !slices.Equal(got, tc.want) {
				t.Errorf("%q: %v, want %v", tc.query, got, tc.want)
			}
		}
		_, hdr, v := e.do(t, "GET", base+"?per_page=2", tok, nil)
		if _, next := links(t, hdr.Get("Link")); !next.results || len(list(t, v)) != 2 {
			t.Errorf("first page of 2: %v, Link %q", versions(t, v), hdr.Get("Link"))
		}
		wantDetail(t, e.want(t, http.StatusBadRequest, "GET", base+"?project=web", tok, nil), "project")

		// Detail, by version in the path.
		v = e.want(t, http.StatusOK, "GET", base+url.PathEscape("2.0-beta+build.7")+"/", tok, nil)
		if get(v, "version") != "2.0-beta+build.7" {
			t.Errorf("release %v", v)
		}
		for _, p := range []string{"nope/", "3.0/"} {
			wantDetail(t, e.want(t, http.StatusNotFound, "GET", base+p, tok, nil))
		}

		// sentry-cli "releases finalize" sets dateReleased; other fields stay.
		released := "2026-03-02T10:00:00Z"
		v = e.want(t, http.StatusOK, "PUT", base+"1.0/", tok, map[string]any{"dateReleased": released})
		if get(v, "dateReleased") != released || get(v, "ref") != "6ba09a7c53235ee8a8fa5ee4c1ca8ca886e7fdbb" {
			t.Errorf("finalized release %v", v)
		}
		v = e.want(t, http.StatusOK, "PUT", base+"1.0/", tok, map[string]any{"url": "https://example.com/1.0"})
		if get(v, "dateReleased") != released || get(v, "url") != "https://example.com/1.0" {
			t.Errorf("release after setting url %v", v)
		}
		v = e.want(t, http.StatusOK, "GET", base+"1.0/", tok, nil)
		if get(v, "dateReleased") != released || wantID(t, v) != id {
			t.Errorf("release 1.0 %v", v)
		}
		wantDetail(t, e.want(t, http.StatusBadRequest, "PUT", base+"1.0/", tok, map[string]any{"projects": []string{"nope"}}), "projects")
		wantDetail(t, e.want(t, http.StatusBadRequest, "PUT", base+"1.0/", tok, map[string]any{"dateReleased": "yesterday"}), "yesterday")
		wantDetail(t, e.want(t, http.StatusNotFound, "PUT", base+"9.9/", tok, map[string]any{"dateReleased": released}))

		// Another organization neither sees nor changes acme's releases,
		// and has its own release 1.0.
		for _, r := range []route{
			{"GET", base, nil},
			{"POST", base, map[string]any{"version": "1.0", "projects": []string{"globex-web"}}},
			{"GET", base + "1.0/", nil},
			{"PUT", base + "1.0/", map[string]any{"dateReleased": "2030-01-01T00:00:00Z"}},
		} {
			code, _, v := e.do(t, r.method, r.path, b.token, r.body)
			if code != http.StatusNotFound {
				t.Errorf("globex %s %s: %d %v, want 404", r.method, r.path, code, v)
			}
		}
		v = e.want(t, http.StatusCreated, "POST", "/api/0/organizations/globex/releases/", b.token,
			map[string]any{"version": "1.0", "projects": []string{"globex-web"}})
		if wantID(t, v) == id || get(v, "dateReleased") != nil {
			t.Errorf("globex's release 1.0 %v", v)
		}
		v = e.want(t, http.StatusOK, "GET", base+"1.0/", tok, nil)
		if got := slugs(t, get(v, "projects")); get(v, "dateReleased") != released || !slices.Equal(got, []string{"acme-api", "acme-web"}) {
			t.Errorf("acme's release 1.0 after globex's: %v", v)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/globex/releases/", b.token, nil)
		if got := versions(t, v); !slices.Equal(got, []string{"1.0"}) {
			t.Errorf("globex's releases %v", got)
		}
	})
}

func TestHandler_ReleaseScopes(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		const base = "/api/0/organizations/acme/releases/"
		e.want(t, http.StatusCreated, "POST", base, a.token, map[string]any{"version": "1.0", "projects": []string{"acme-web"}})
		read := e.token(t, a.user, "project:read")
		releases := e.token(t, a.user, "project:releases")
		events := e.token(t, a.user, "event:admin")
		for _, tc := range []struct {
			token, method, path string
			body                any
			code                int
		}{
			{read, "GET", base, nil, http.StatusOK},
			{read, "GET", base + "1.0/", nil, http.StatusOK},
			{read, "POST", base, map[string]any{"version": "2.0", "projects": []string{"acme-web"}}, http.StatusForbidden},
			{read, "PUT", base + "1.0/", map[string]any{"dateReleased": "2026-03-02T10:00:00Z"}, http.StatusForbidden},
			{events, "GET", base, nil, http.StatusForbidden},
			{events, "POST", base, map[string]any{"version": "2.0", "projects": []string{"acme-web"}}, http.StatusForbidden},
			{releases, "POST", base, map[string]any{"version": "2.0", "projects": []string{"acme-web"}}, http.StatusCreated},
			{releases, "PUT", base + "1.0/", map[string]any{"dateReleased": "2026-03-02T10:00:00Z"}, http.StatusOK},
		} {
			code, _, v := e.do(t, tc.method, tc.path, tc.token, tc.body)
			if code != tc.code {
				t.Errorf("%s %s: %d %v, want %d", tc.method, tc.path, code, v, tc.code)
			}
		}
		v := e.want(t, http.StatusOK, "GET", base, a.token, nil)
		if got := versions(t, v); !slices.Equal(got, []string{"2.0", "1.0"}) {
			t.Errorf("releases %v", got)
		}
	})
}
