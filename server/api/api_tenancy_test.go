package api_test

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// TestHandler_Tenancy checks that one organization's token can neither see
// nor change another's objects, and learns nothing of them: every such
// request is 404, as for objects that do not exist.
func TestHandler_Tenancy(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		b := e.tenant(t, "globex")
		bKey2 := e.want(t, http.StatusCreated, "POST", "/api/0/projects/globex/globex-web/keys/", b.token, map[string]any{"name": "Second"})

		// B's state as B sees it, to compare afterwards.
		bViews := []string{
			"/api/0/organizations/globex/",
			"/api/0/organizations/globex/teams/",
			"/api/0/organizations/globex/projects/",
			"/api/0/teams/globex/globex-ops/projects/",
			"/api/0/projects/globex/globex-web/",
			"/api/0/projects/globex/globex-web/keys/",
		}
		before := map[string]any{}
		for _, p := range bViews {
			before[p] = e.want(t, http.StatusOK, "GET", p, b.token, nil)
		}

		bOrgID := strconv.FormatInt(b.org.ID, 10)
		bProjID := strconv.FormatInt(b.project.ID, 10)
		bKey := b.key.Public
		var reqs []route
		for _, org := range []string{"globex", bOrgID} {
			for _, proj := range []string{"globex-web", bProjID} {
				pp := "/api/0/projects/" + org + "/" + proj + "/"
				reqs = append(reqs,
					route{"GET", pp, nil},
					route{"PUT", pp, map[string]any{"name": "Stolen", "slug": "stolen"}},
					route{"DELETE", pp, nil},
					route{"GET", pp + "keys/", nil},
					route{"POST", pp + "keys/", map[string]any{"name": "Stolen"}},
					route{"GET", pp + "keys/" + bKey + "/", nil},
					route{"PUT", pp + "keys/" + bKey + "/", map[string]any{"isActive": false}},
					route{"DELETE", pp + "keys/" + bKey + "/", nil},
				)
			}
			reqs = append(reqs,
				route{"GET", "/api/0/organizations/" + org + "/", nil},
				route{"PUT", "/api/0/organizations/" + org + "/", map[string]any{"name": "Stolen"}},
				route{"GET", "/api/0/organizations/" + org + "/teams/", nil},
				route{"POST", "/api/0/organizations/" + org + "/teams/", map[string]any{"slug": "stolen"}},
				route{"GET", "/api/0/organizations/" + org + "/projects/", nil},
				route{"GET", "/api/0/teams/" + org + "/globex-ops/", nil},
				route{"GET", "/api/0/teams/" + org + "/globex-ops/projects/", nil},
				route{"POST", "/api/0/teams/" + org + "/globex-ops/projects/", map[string]any{"name": "Stolen"}},
			)
		}
		// B's objects named under A's organization and project.
		for _, proj := range []string{"globex-web", bProjID} {
			pp := "/api/0/projects/acme/" + proj + "/"
			reqs = append(reqs,
				route{"GET", pp, nil},
				route{"PUT", pp, map[string]any{"name": "Stolen"}},
				route{"DELETE", pp, nil},
				route{"GET", pp + "keys/", nil},
				route{"POST", pp + "keys/", nil},
			)
		}
		ak := "/api/0/projects/acme/acme-web/keys/" + bKey + "/"
		reqs = append(reqs,
			route{"GET", ak, nil},
			route{"PUT", ak, map[string]any{"isActive": false}},
			route{"DELETE", ak, nil},
			route{"GET", "/api/0/teams/acme/globex-ops/", nil},
			route{"GET", "/api/0/teams/acme/globex-ops/projects/", nil},
			route{"POST", "/api/0/teams/acme/globex-ops/projects/", map[string]any{"name": "Stolen"}},
		)

		for _, r := range reqs {
			code, _, v := e.do(t, r.method, r.path, a.token, r.body)
			if code != http.StatusNotFound {
				t.Errorf("A's %s %s: %d %v, want 404", r.method, r.path, code, v)
				continue
			}
			wantDetail(t, v)
		}

		v := e.want(t, http.StatusOK, "GET", "/api/0/organizations/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme"}) {
			t.Errorf("A's organizations = %v, want [acme]", got)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/projects/", a.token, nil)
		if got := slugs(t, v); !slices.Equal(got, []string{"acme-web"}) {
			t.Errorf("A's projects = %v, want [acme-web]", got)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/projects/acme/acme-web/keys/", a.token, nil)
		if l := list(t, v); len(l) != 1 || str(t, l[0], "id") != a.key.Public {
			t.Errorf("A's keys = %v, want only its default key", v)
		}

		for _, p := range bViews {
			after := e.want(t, http.StatusOK, "GET", p, b.token, nil)
			if !reflect.DeepEqual(before[p], after) {
				t.Errorf("B's %s changed:\nbefore %v\nafter  %v", p, before[p], after)
			}
		}
		keys := list(t, before["/api/0/projects/globex/globex-web/keys/"])
		if len(keys) != 2 || str(t, keys[1], "id") != str(t, bKey2, "id") {
			t.Errorf("B's keys = %v, want the default and the second", keys)
		}
	})
}
