package api_test

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestHandler_BadInput(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		const (
			orgs     = "/api/0/organizations/"
			teams    = "/api/0/organizations/acme/teams/"
			projects = "/api/0/teams/acme/acme-ops/projects/"
			project  = "/api/0/projects/acme/acme-web/"
			keys     = "/api/0/projects/acme/acme-web/keys/"
		)
		key := keys + a.key.Public + "/"
		// Valid but for its size: without the limit it would be accepted.
		big := `{"name": "Big", "padding": "` + strings.Repeat("a", 2<<20) + `"}`
		long := strings.Repeat("a", 51)

		// What the lists and objects show; no bad request may change it.
		views := []string{orgs, teams, "/api/0/organizations/acme/projects/", project, keys, key, "/api/0/organizations/acme/"}
		snapshot := func() map[string]any {
			s := map[string]any{}
			for _, p := range views {
				s[p] = e.want(t, http.StatusOK, "GET", p, a.token, nil)
			}
			return s
		}
		before := snapshot()

		for _, tc := range []struct {
			name, method, path string
			body               string
			field              string // the detail must name it, when set
		}{
			{"malformed JSON", "POST", orgs, `{"name":`, ""},
			{"trailing comma", "POST", orgs, `{"name": "x",}`, ""},
			{"JSON array", "POST", orgs, `[{"name": "x"}]`, ""},
			{"JSON string", "POST", orgs, `"x"`, ""},
			{"empty body", "POST", orgs, ``, "body"},
			{"two objects", "POST", orgs, `{"name": "x"} {"name": "y"}`, ""},
			{"no name", "POST", orgs, `{"slug": "fine"}`, "name"},
			{"name is a number", "POST", orgs, `{"name": 5}`, "name"},
			{"slug is a list", "POST", orgs, `{"name": "x", "slug": ["x"]}`, "slug"},
			{"slug with a space", "POST", orgs, `{"name": "x", "slug": "Bad Slug"}`, "slug"},
			{"all-digit slug", "POST", orgs, `{"name": "x", "slug": "12345"}`, "slug"},
			{"51-char slug", "POST", orgs, `{"name": "x", "slug": "` + long + `"}`, "slug"},
			{"65-char name", "POST", orgs, `{"name": "` + strings.Repeat("n", 65) + `"}`, "name"},
			{"blank name", "POST", orgs, `{"name": "   "}`, "name"},
			{"control character in name", "POST", orgs, `{"name": "a\u0001b"}`, "name"},
			{"newline in name", "POST", orgs, `{"name": "a\nb"}`, "name"},
			{"name without slug material", "POST", orgs, `{"name": "!!!"}`, "slug"},
			{"2 MB body", "POST", orgs, big, "body"},

			{"team: name is a number", "POST", teams, `{"name": 5}`, "name"},
			{"team: bad slug", "POST", teams, `{"slug": "Bad Slug"}`, "slug"},
			{"team: neither name nor slug", "POST", teams, `{}`, "name"},
			{"team: JSON array", "POST", teams, `[]`, ""},
			{"team: 2 MB body", "POST", teams, big, "body"},

			{"project: no name", "POST", projects, `{"slug": "fine"}`, "name"},
			{"project: bad platform", "POST", projects, `{"name": "x", "platform": "Not A Platform"}`, "platform"},
			{"project: all-digit slug", "POST", projects, `{"name": "x", "slug": "42"}`, "slug"},
			{"project: malformed JSON", "POST", projects, `{`, ""},
			{"project update: bad slug", "PUT", project, `{"slug": "Bad Slug"}`, "slug"},
			{"project update: 51-char slug", "PUT", project, `{"slug": "` + long + `"}`, "slug"},
			{"project update: blank name", "PUT", project, `{"name": ""}`, "name"},
			{"project update: name is a number", "PUT", project, `{"name": 5}`, "name"},
			{"project update: empty body", "PUT", project, ``, "body"},
			{"project update: 2 MB body", "PUT", project, big, "body"},

			{"key: name is a number", "POST", keys, `{"name": 5}`, "name"},
			{"key: JSON array", "POST", keys, `[]`, ""},
			{"key update: isActive is a string", "PUT", key, `{"isActive": "yes"}`, "isActive"},
			{"key update: window 0", "PUT", key, `{"rateLimit": {"window": 0, "count": 100}}`, "rateLimit"},
			{"key update: count 0", "PUT", key, `{"rateLimit": {"window": 60, "count": 0}}`, "rateLimit"},
			{"key update: window over a day", "PUT", key, `{"rateLimit": {"window": 86401, "count": 1}}`, "rateLimit"},
			{"key update: rateLimit is a string", "PUT", key, `{"rateLimit": "60/100"}`, "rateLimit"},
			{"key update: control character in name", "PUT", key, `{"name": "a\u0000b"}`, "name"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, _, v := e.do(t, tc.method, tc.path, a.token, tc.body)
				if code != http.StatusBadRequest {
					t.Fatalf("%d %v, want 400", code, v)
				}
				if tc.field != "" {
					wantDetail(t, v, tc.field)
				} else {
					wantDetail(t, v)
				}
				after := snapshot()
				for _, p := range views {
					if !reflect.DeepEqual(before[p], after[p]) {
						t.Errorf("%s changed:\nbefore %v\nafter  %v", p, before[p], after[p])
					}
				}
			})
		}
	})
}

func TestHandler_Conflicts(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		b := e.tenant(t, "globex")

		e.want(t, http.StatusCreated, "POST", "/api/0/organizations/", a.token, map[string]any{"name": "Dup", "slug": "dup"})
		wantDetail(t, e.want(t, http.StatusConflict, "POST", "/api/0/organizations/", a.token, map[string]any{"name": "Dup again", "slug": "dup"}))
		// Organization slugs are global: another tenant cannot take it either.
		wantDetail(t, e.want(t, http.StatusConflict, "POST", "/api/0/organizations/", b.token, map[string]any{"name": "Dup"}))
		wantDetail(t, e.want(t, http.StatusConflict, "PUT", "/api/0/organizations/globex/", b.token, map[string]any{"slug": "acme"}))

		// Team and project slugs are per organization.
		e.want(t, http.StatusCreated, "POST", "/api/0/organizations/globex/teams/", b.token, map[string]any{"slug": "acme-ops"})
		wantDetail(t, e.want(t, http.StatusConflict, "POST", "/api/0/organizations/acme/teams/", a.token, map[string]any{"slug": "acme-ops"}))
		e.want(t, http.StatusCreated, "POST", "/api/0/teams/acme/acme-ops/projects/", a.token, map[string]any{"name": "Second"})
		wantDetail(t, e.want(t, http.StatusConflict, "POST", "/api/0/teams/acme/acme-ops/projects/", a.token, map[string]any{"name": "Web", "slug": "acme-web"}))
		wantDetail(t, e.want(t, http.StatusConflict, "PUT", "/api/0/projects/acme/second/", a.token, map[string]any{"slug": "acme-web"}))
		e.want(t, http.StatusOK, "GET", "/api/0/projects/acme/second/", a.token, nil)

		const n = 10
		codes := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				// Not e.do: t.Fatal must not be called off the test's goroutine.
				req, err := http.NewRequest("POST", e.url+"/api/0/organizations/acme/teams/", strings.NewReader(`{"name": "Race", "slug": "race"}`))
				if err != nil {
					errs[i] = err
					return
				}
				req.Header.Set("Authorization", "Bearer "+a.token)
				resp, err := e.client.Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				_, errs[i] = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		count := map[int]int{}
		for _, c := range codes {
			count[c]++
		}
		if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
			t.Errorf("%d concurrent creates of one slug: %v, want one 201 and %d 409", n, count, n-1)
		}
		v := e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/teams/", a.token, nil)
		if got := slugs(t, v); !reflect.DeepEqual(got, []string{"acme-ops", "race"}) {
			t.Errorf("teams = %v, want [acme-ops race]", got)
		}
	})
}
