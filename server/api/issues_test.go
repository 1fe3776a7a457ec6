package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/store"
)

// ingestEvents stores payloads received together into a project the way
// the ingest server does (parsed, grouped, compressed, one batch), without
// going through HTTP.
func (e *env) ingestEvents(t *testing.T, p *store.Project, received time.Time, payloads ...string) []store.IngestResult {
	t.Helper()
	env := &store.IngestEnvelope{ProjectID: p.ID, OrganizationID: p.OrganizationID, Received: received}
	for _, js := range payloads {
		ev, err := event.Parse([]byte(js), event.ParseOptions{Received: received})
		if err != nil {
			t.Fatalf("parse %s: %v", js, err)
		}
		g := grouping.Group(ev)
		data, err := json.Marshal(ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		env.Events = append(env.Events, &store.IngestEvent{ProjectID: p.ID, OrganizationID: p.OrganizationID,
			Event: ev, Hash: g.Hash, GroupingVersion: g.Version, Data: store.CompressEventData(data), Size: len(data)})
	}
	if err := e.st.IngestBatch(context.Background(), []*store.IngestEnvelope{env}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return env.Results
}

// issueFixture is four issues in acme's project and one in globex's,
// with times relative to now (the API reads the clock for stats):
//
//	i1  ValueError, release 1.0, prod, Firefox; 2 events at -3h and -2h, user u1; assigned to acme's owner
//	i2  "Database timeout" warning, staging, Mobile Safari; 1 event at -1h; assigned to team acme-ops
//	i3  KeyError, release 2.0; 3 events at -72h, users u1 u2 u3
//	i4  ValueError (another fingerprint); 1 event at -30m; resolved
//	b1  globex's, 1 event at -1h
type issueFixture struct {
	a, b  *tenant
	now   time.Time
	id    map[string]string // fixture name → API id
	name  map[string]string // API id → fixture name
	event map[string]string // fixture name → the hex id of its first event
}

func (e *env) issueFixture(t *testing.T) *issueFixture {
	t.Helper()
	f := &issueFixture{a: e.tenant(t, "acme"), b: e.tenant(t, "globex"), now: time.Now().UTC().Truncate(time.Second),
		id: map[string]string{}, name: map[string]string{}, event: map[string]string{}}
	ago := func(d time.Duration) time.Time { return f.now.Add(-d) }
	add := func(name string, p *store.Project, at time.Time, first int, payloads ...string) int64 {
		res := e.ingestEvents(t, p, at, payloads...)
		id := strconv.FormatInt(res[0].IssueID, 10)
		if _, ok := f.id[name]; !ok {
			f.id[name], f.name[id], f.event[name] = id, name, eventtest.ID(first)
		}
		return res[0].IssueID
	}
	web := f.a.project
	i1 := map[string]any{"fingerprint": []string{"i1"}, "release": "1.0", "environment": "prod",
		"tags": map[string]any{"browser": "Firefox"}, "user": map[string]any{"id": "u1"}}
	a1 := add("i1", web, ago(3*time.Hour), 1, eventtest.PythonError(1, ago(3*time.Hour), i1))
	add("i1", web, ago(2*time.Hour), 2, eventtest.PythonError(2, ago(2*time.Hour), i1))
	a2 := add("i2", web, ago(time.Hour), 3, eventtest.PythonError(3, ago(time.Hour), map[string]any{"exception": nil,
		"message": "Database timeout", "level": "warning", "environment": "staging", "fingerprint": []string{"i2"},
		"tags": map[string]any{"browser": "Mobile Safari"}}))
	var i3 []string
	for n, u := range []string{"u1", "u2", "u3"} {
		i3 = append(i3, eventtest.PythonError(4+n, ago(72*time.Hour), map[string]any{
			"fingerprint": []string{"i3"},
			"release":     "2.0",
			"user":        map[string]any{"id": u},
			"exception":   map[string]any{"values": []any{map[string]any{"type": "KeyError", "value": "'user_id'"}}},
		}))
	}
	add("i3", web, ago(72*time.Hour), 4, i3...)
	a4 := add("i4", web, ago(30*time.Minute), 7, eventtest.PythonError(7, ago(30*time.Minute), map[string]any{"fingerprint": []string{"i4"}}))
	add("b1", f.b.project, ago(time.Hour), 100, eventtest.PythonError(100, ago(time.Hour), map[string]any{"release": "1.0"}))

	ctx := context.Background()
	uid, tid := f.a.user.ID, f.a.team.ID
	for _, u := range []struct {
		id int64
		u  *store.IssueUpdate
	}{
		{a4, &store.IssueUpdate{Status: ptrTo(store.StatusResolved)}},
		{a1, &store.IssueUpdate{Assign: true, AssigneeUserID: &uid}},
		{a2, &store.IssueUpdate{Assign: true, AssigneeTeamID: &tid}},
	} {
		if _, err := e.st.IssuesUpdate(ctx, f.a.org.ID, []int64{u.id}, u.u); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// names maps a list of issues to fixture names.
func (f *issueFixture) names(t *testing.T, v any) []string {
	t.Helper()
	out := []string{}
	for _, it := range list(t, v) {
		id := str(t, it, "id")
		n, ok := f.name[id]
		if !ok {
			n = id
		}
		out = append(out, n)
	}
	return out
}

// find returns the issue of a list with the fixture's name.
func (f *issueFixture) find(t *testing.T, v any, name string) any {
	t.Helper()
	for _, it := range list(t, v) {
		if str(t, it, "id") == f.id[name] {
			return it
		}
	}
	t.Fatalf("%s not in %v", name, f.names(t, v))
	return nil
}

func ptrTo[T any](v T) *T { return &v }

// timeAt parses an RFC 3339 time of a response.
func timeAt(t *testing.T, v any, path ...any) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, str(t, v, path...))
	if err != nil {
		t.Fatalf("%v: %v", path, err)
	}
	return tm
}

func TestHandler_IssueList(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		f := e.issueFixture(t)
		tok := f.a.token
		base := "/api/0/projects/acme/acme-web/issues/"
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", []string{"i2", "i1", "i3"}}, // no query: unresolved only
			{"?query=", []string{"i4", "i2", "i1", "i3"}},
			{"?query=is:unresolved", []string{"i2", "i1", "i3"}},
			{"?query=is:resolved", []string{"i4"}},
			{"?query=is:ignored", []string{}},
			{"?query=level:warning", []string{"i2"}},
			{"?query=level:error", []string{"i4", "i1", "i3"}},
			{"?query=assigned:me", []string{"i2", "i1"}}, // i2 is assigned to a team of mine
			{"?query=assigned:acme@example.com", []string{"i1"}},
			{"?query=assigned:%23acme-ops", []string{"i2"}},
			{"?query=is:assigned", []string{"i2", "i1"}},
			{"?query=is:unassigned", []string{"i4", "i3"}},
			{"?query=release:1.0", []string{"i1"}},
			{"?query=release:2.0", []string{"i3"}},
			{"?query=environment:prod", []string{"i1"}},
			{"?query=&environment=staging", []string{"i2"}},
			{"?query=database", []string{"i2"}},
			{"?query=keyerror", []string{"i3"}},
			{"?query=" + url.QueryEscape(`"Database timeout"`), []string{"i2"}},
			{"?query=" + url.QueryEscape(`"timeout Database"`), []string{}},
			{"?query=browser:Firefox", []string{"i1"}},
			{"?query=" + url.QueryEscape(`browser:"Mobile Safari"`), []string{"i2"}},
			{"?query=" + url.QueryEscape(`!browser:Firefox`), []string{"i4", "i2", "i3"}},
			{"?query=" + url.QueryEscape(`is:unresolved level:error`), []string{"i1", "i3"}},
			{"?query=" + url.QueryEscape(`is:unresolved release:1.0 value`), []string{"i1"}},
			{"?query=&sort=date", []string{"i4", "i2", "i1", "i3"}},
			{"?query=&sort=new", []string{"i4", "i2", "i1", "i3"}},
			{"?query=&sort=freq", []string{"i3", "i1", "i4", "i2"}},
			{"?query=&sort=user", []string{"i3", "i1", "i4", "i2"}},
			{"?query=&statsPeriod=24h", []string{"i4", "i2", "i1"}},
			{"?query=&statsPeriod=14d", []string{"i4", "i2", "i1", "i3"}},
		} {
			t.Run(tc.query, func(t *testing.T) {
				v := e.want(t, http.StatusOK, "GET", base+tc.query, tok, nil)
				if got := f.names(t, v); !slices.Equal(got, tc.want) {
					t.Errorf("issues %v, want %v", got, tc.want)
				}
			})
		}
		// The organization's list takes ?project=.
		v := e.want(t, http.StatusOK, "GET", fmt.Sprintf("/api/0/organizations/acme/issues/?query=&project=%d", f.a.project.ID), tok, nil)
		if got := f.names(t, v); !slices.Equal(got, []string{"i4", "i2", "i1", "i3"}) {
			t.Errorf("organization issues %v", got)
		}

		for _, q := range []string{"?query=is:bogus", "?sort=oldest", "?statsPeriod=1y", "?statsPeriod=0h", "?cursor=nope",
			"?limit=101", "?limit=0", "?per_page=101"} {
			code, _, v := e.do(t, "GET", base+q, tok, nil)
			if code != http.StatusBadRequest {
				t.Errorf("%s: %d %v, want 400", q, code, v)
				continue
			}
			wantDetail(t, v)
		}
		e.want(t, http.StatusOK, "GET", base+"?limit=100", tok, nil)
	})
}

func TestHandler_IssueListFields(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		f := e.issueFixture(t)
		base := "/api/0/projects/acme/acme-web/issues/?query="
		v := e.want(t, http.StatusOK, "GET", base, f.a.token, nil)
		i1 := f.find(t, v, "i1")
		for path, want := range map[string]any{
			"shortId": "ACME-WEB-1", "title": "ValueError: bad value", "culprit": "app.views in checkout",
			"level": "error", "status": "unresolved", "substatus": "new", "count": "2", "userCount": 1.0,
			"type": "error", "platform": "python", "permalink": e.url + "/organizations/acme/issues/" + f.id["i1"] + "/",
		} {
			if got := get(i1, path); got != want {
				t.Errorf("i1 %s = %#v, want %#v", path, got, want)
			}
		}
		if get(i1, "project", "slug") != "acme-web" || get(i1, "metadata", "type") != "ValueError" ||
			get(i1, "metadata", "function") != "checkout" {
			t.Errorf("i1 project %v, metadata %v", get(i1, "project"), get(i1, "metadata"))
		}
		if !timeAt(t, i1, "firstSeen").Equal(f.now.Add(-3*time.Hour)) || !timeAt(t, i1, "lastSeen").Equal(f.now.Add(-2*time.Hour)) {
			t.Errorf("i1 seen %v–%v", get(i1, "firstSeen"), get(i1, "lastSeen"))
		}
		if a := get(i1, "assignedTo"); get(a, "type") != "user" || get(a, "id") != fmt.Sprint(f.a.user.ID) || get(a, "email") != "acme@example.com" {
			t.Errorf("i1 assigned to %v", a)
		}
		if a := get(f.find(t, v, "i2"), "assignedTo"); get(a, "type") != "team" || get(a, "id") != fmt.Sprint(f.a.team.ID) || get(a, "name") != "acme-ops" {
			t.Errorf("i2 assigned to %v", a)
		}
		if get(f.find(t, v, "i3"), "assignedTo") != nil || get(f.find(t, v, "i4"), "status") != "resolved" {
			t.Errorf("i3 %v, i4 %v", f.find(t, v, "i3"), f.find(t, v, "i4"))
		}

		// Stats: one series per issue, as Sentry's: 24 hourly buckets for
		// 24h (the default), 14 daily ones for 14d, the last holding now.
		for _, tc := range []struct {
			period, key string
			buckets     int
			step        int64
			sums        map[string]int64
		}{
			{"", "24h", 24, 3600, map[string]int64{"i1": 2, "i2": 1, "i4": 1, "i3": 0}},
			{"&statsPeriod=24h", "24h", 24, 3600, map[string]int64{"i1": 2, "i2": 1, "i4": 1}},
			{"&statsPeriod=14d", "14d", 14, 86400, map[string]int64{"i1": 2, "i2": 1, "i4": 1, "i3": 3}},
		} {
			before := time.Now()
			v := e.want(t, http.StatusOK, "GET", base+tc.period, f.a.token, nil)
			after := time.Now()
			for name, sum := range tc.sums {
				series, ok := get(f.find(t, v, name), "stats", tc.key).([]any)
				if !ok || len(series) != tc.buckets {
					t.Errorf("%s %s stats: %d buckets, want %d", tc.key, name, len(series), tc.buckets)
					continue
				}
				var total int64
				var prev int64
				for i, p := range series {
					ts, n := int64(get(p, 0).(float64)), int64(get(p, 1).(float64))
					if i > 0 && ts-prev != tc.step {
						t.Errorf("%s %s: bucket %d at %d, %d after the previous", tc.key, name, i, ts, ts-prev)
					}
					prev = ts
					total += n
				}
				if last := time.Unix(prev, 0); after.Before(last) || before.Sub(last) >= time.Duration(tc.step)*time.Second {
					t.Errorf("%s %s: last bucket starts %s, want the one holding now (%s)", tc.key, name, last, before)
				}
				if total != sum {
					t.Errorf("%s %s: %d events in the series, want %d", tc.key, name, total, sum)
				}
			}
		}

		// Cursor pagination.
		code, hdr, v := e.do(t, "GET", base+"&sort=new&limit=3", f.a.token, nil)
		if code != http.StatusOK {
			t.Fatalf("first page: %d %v", code, v)
		}
		page1 := f.names(t, v)
		prev, next := links(t, hdr.Get("Link"))
		if prev.results || !next.results || next.cursor != "0:3:0" {
			t.Errorf("first page Link %q", hdr.Get("Link"))
		}
		code, hdr, v = e.do(t, "GET", next.url, f.a.token, nil)
		if code != http.StatusOK {
			t.Fatalf("second page: %d %v", code, v)
		}
		prev, next = links(t, hdr.Get("Link"))
		if !prev.results || next.results {
			t.Errorf("second page Link %q", hdr.Get("Link"))
		}
		if all := append(page1, f.names(t, v)...); !slices.Equal(all, []string{"i4", "i2", "i1", "i3"}) {
			t.Errorf("pages %v", all)
		}
		if !strings.Contains(next.url, "sort=new") || !strings.Contains(next.url, "limit=3") || !strings.HasPrefix(next.url, e.url+"/api/0/projects/acme/acme-web/issues/?") {
			t.Errorf("next link %q loses the query", next.url)
		}
	})
}

func TestHandler_IssueBulkUpdate(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		f := e.issueFixture(t)
		tok := f.a.token
		base := "/api/0/projects/acme/acme-web/issues/"
		ids := func(names ...string) string {
			q := url.Values{}
			for _, n := range names {
				q.Add("id", f.id[n])
			}
			return base + "?" + q.Encode()
		}
		issue := func(name string) any {
			t.Helper()
			return e.want(t, http.StatusOK, "GET", "/api/0/issues/"+f.id[name]+"/", tok, nil)
		}

		v := e.want(t, http.StatusOK, "PUT", ids("i1", "i2"), tok, map[string]any{"status": "resolved"})
		if get(v, "status") != "resolved" || get(v, "substatus") != nil {
			t.Errorf("resolve answer %v", v)
		}
		for _, n := range []string{"i1", "i2"} {
			if is := issue(n); get(is, "status") != "resolved" || get(is, "activity", 0, "type") != "set_resolved" ||
				get(is, "activity", 0, "user", "email") != "acme@example.com" {
				t.Errorf("%s after resolve: status %v, activity %v", n, get(is, "status"), get(is, "activity", 0))
			}
		}
		if get(issue("i3"), "status") != "unresolved" {
			t.Error("an issue not named was resolved")
		}

		before := time.Now()
		for _, tc := range []struct {
			name    string
			body    map[string]any
			status  string
			details map[string]any // nil: not checked
		}{
			{"unresolve", map[string]any{"status": "unresolved"}, "unresolved", map[string]any{}},
			{"ignore until 10 events an hour", map[string]any{"status": "ignored",
				"statusDetails": map[string]any{"ignoreCount": 10, "ignoreWindow": 60}}, "ignored",
				map[string]any{"ignoreCount": 10.0, "ignoreWindow": 60.0}},
			{"ignore until 5 users", map[string]any{"status": "ignored",
				"statusDetails": map[string]any{"ignoreUserCount": 5}}, "ignored", map[string]any{"ignoreUserCount": 5.0}},
			{"ignore, options at the top level", map[string]any{"status": "ignored", "ignoreCount": 3}, "ignored",
				map[string]any{"ignoreCount": 3.0}},
			{"ignore for 30 minutes", map[string]any{"status": "ignored", "statusDetails": map[string]any{"ignoreDuration": 30}}, "ignored", nil},
			{"ignore forever", map[string]any{"status": "ignored"}, "ignored", map[string]any{}},
			{"resolve in a release", map[string]any{"status": "resolved", "statusDetails": map[string]any{"inRelease": "1.0"}},
				"resolved", map[string]any{"inRelease": "1.0"}},
			// acme-web's latest release is 1.0: its first event is the newest.
			{"resolve in the next release", map[string]any{"status": "resolvedInNextRelease"}, "resolved",
				map[string]any{"inRelease": "1.0"}},
			{"resolve in the next release, as details", map[string]any{"status": "resolved",
				"statusDetails": map[string]any{"inNextRelease": true}}, "resolved", map[string]any{"inRelease": "1.0"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v := e.want(t, http.StatusOK, "PUT", ids("i1", "i2"), tok, tc.body)
				if get(v, "status") != tc.status {
					t.Errorf("answer %v, want status %s", v, tc.status)
				}
				for _, n := range []string{"i1", "i2"} {
					is := issue(n)
					if get(is, "status") != tc.status {
						t.Errorf("%s: status %v", n, get(is, "status"))
					}
					if tc.details != nil && !reflect.DeepEqual(get(is, "statusDetails"), tc.details) {
						t.Errorf("%s: statusDetails %v, want %v", n, get(is, "statusDetails"), tc.details)
					}
				}
				if tc.details == nil {
					until := timeAt(t, v, "statusDetails", "ignoreUntil")
					if until.Before(before.Add(30*time.Minute-time.Second)) || until.After(time.Now().Add(30*time.Minute)) {
						t.Errorf("ignoreUntil %s, want 30 minutes from now", until)
					}
					if get(v, "substatus") != "archived_until_condition_met" {
						t.Errorf("substatus %v", get(v, "substatus"))
					}
				}
			})
		}

		// resolvedInNextRelease needs a release of the project.
		api, _ := e.project(t, f.a.org, f.a.team, "acme-api")
		res := e.ingestEvents(t, api, f.now, eventtest.PythonError(50, f.now, nil))
		apiIssue := fmt.Sprintf("/api/0/projects/acme/acme-api/issues/?id=%d", res[0].IssueID)
		for _, body := range []map[string]any{{"status": "resolvedInNextRelease"},
			{"status": "resolved", "statusDetails": map[string]any{"inNextRelease": true}}} {
			wantDetail(t, e.want(t, http.StatusBadRequest, "PUT", apiIssue, tok, body), "release")
		}
		e.want(t, http.StatusCreated, "POST", "/api/0/organizations/acme/releases/", tok,
			map[string]any{"version": "api@3.1", "projects": []string{"acme-api"}})
		v = e.want(t, http.StatusOK, "PUT", apiIssue, tok, map[string]any{"status": "resolvedInNextRelease"})
		if get(v, "statusDetails", "inRelease") != "api@3.1" {
			t.Errorf("resolved in next release of acme-api: %v", v)
		}

		for _, body := range []any{
			map[string]any{"status": "bogus"},
			map[string]any{"status": "ignored", "statusDetails": map[string]any{"ignoreCount": 0}},
			map[string]any{"status": "ignored", "statusDetails": map[string]any{"ignoreWindow": 100000, "ignoreCount": 1}},
			map[string]any{"status": "ignored", "statusDetails": map[string]any{"ignoreDuration": -5}},
			map[string]any{"status": "ignored", "statusDetails": map[string]any{"ignoreUntil": "2001-01-01T00:00:00Z"}},
			map[string]any{"status": "resolved", "statusDetails": map[string]any{"inRelease": "latest"}},
			map[string]any{"status": 1},
			"not json",
		} {
			code, _, v := e.do(t, "PUT", ids("i3"), tok, body)
			if code != http.StatusBadRequest {
				t.Errorf("%v: %d %v, want 400", body, code, v)
				continue
			}
			wantDetail(t, v)
		}
		if is := issue("i3"); get(is, "status") != "unresolved" {
			t.Errorf("i3 changed by refused requests: %v", get(is, "status"))
		}

		// Assignment.
		g := e.tenantMember(t, f)
		for _, tc := range []struct {
			name string
			to   any
			kind string // "" for unassigned
			id   string
		}{
			{"user:ID", "user:" + fmt.Sprint(f.a.user.ID), "user", fmt.Sprint(f.a.user.ID)},
			{"team:ID", "team:" + fmt.Sprint(f.a.team.ID), "team", fmt.Sprint(f.a.team.ID)},
			{"email", "dev@example.com", "user", fmt.Sprint(g.ID)},
			{"empty string", "", "", ""},
			{"user id", fmt.Sprint(g.ID), "user", fmt.Sprint(g.ID)},
			{"null", nil, "", ""},
		} {
			t.Run("assign "+tc.name, func(t *testing.T) {
				v := e.want(t, http.StatusOK, "PUT", ids("i3", "i4"), tok, map[string]any{"assignedTo": tc.to})
				for _, got := range []any{get(v, "assignedTo"), get(issue("i3"), "assignedTo"), get(issue("i4"), "assignedTo")} {
					if tc.kind == "" {
						if got != nil {
							t.Errorf("assigned to %v, want nobody", got)
						}
						continue
					}
					if get(got, "type") != tc.kind || get(got, "id") != tc.id {
						t.Errorf("assigned to %v, want %s %s", got, tc.kind, tc.id)
					}
				}
			})
		}
		for _, to := range []any{"user:999999", "team:" + fmt.Sprint(f.b.team.ID), "globex@example.com",
			"user:" + fmt.Sprint(f.b.user.ID), "team:ops", "robot:1", 42, "nobody@example.com"} {
			code, _, v := e.do(t, "PUT", ids("i3"), tok, map[string]any{"assignedTo": to})
			if code != http.StatusBadRequest {
				t.Errorf("assignedTo %v: %d %v, want 400", to, code, v)
				continue
			}
			wantDetail(t, v, "assignedTo")
		}
		if is := issue("i3"); get(is, "assignedTo") != nil {
			t.Errorf("i3 assigned by refused requests: %v", get(is, "assignedTo"))
		}

		// Ids of another organization, or of nothing, change nothing.
		b1 := "/api/0/projects/acme/acme-web/issues/?id=" + f.id["b1"]
		if code, _, v := e.do(t, "PUT", b1, tok, map[string]any{"status": "resolved"}); code != http.StatusNoContent {
			t.Errorf("resolve globex's issue: %d %v", code, v)
		}
		if code, _, _ := e.do(t, "PUT", base+"?id=999999", tok, map[string]any{"status": "resolved"}); code != http.StatusNoContent {
			t.Errorf("resolve a missing issue: %d", code)
		}
		if code, _, _ := e.do(t, "DELETE", b1, tok, nil); code != http.StatusNoContent {
			t.Errorf("delete globex's issue: %d", code)
		}
		v = e.want(t, http.StatusOK, "GET", "/api/0/issues/"+f.id["b1"]+"/", f.b.token, nil)
		if get(v, "status") != "unresolved" {
			t.Errorf("globex's issue after acme's requests: %v", get(v, "status"))
		}

		// Bulk delete.
		wantDetail(t, e.want(t, http.StatusBadRequest, "DELETE", base, tok, nil), "id")
		if code, _, v := e.do(t, "DELETE", ids("i3", "i4"), tok, nil); code != http.StatusNoContent {
			t.Fatalf("delete: %d %v", code, v)
		}
		for _, n := range []string{"i3", "i4"} {
			e.want(t, http.StatusNotFound, "GET", "/api/0/issues/"+f.id[n]+"/", tok, nil)
		}
		v = e.want(t, http.StatusOK, "GET", base+"?query=", tok, nil)
		if got := f.names(t, v); !slices.Equal(got, []string{"i2", "i1"}) {
			t.Errorf("issues after delete %v", got)
		}
	})
}

// tenantMember adds dev@example.com to acme as a member.
func (e *env) tenantMember(t *testing.T, f *issueFixture) *store.User {
	t.Helper()
	u := e.user(t, "dev@example.com")
	e.member(t, f.a.org, u, store.RoleMember)
	return u
}

func TestHandler_IssueDetail(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		f := e.issueFixture(t)
		tok := f.a.token
		path := "/api/0/issues/" + f.id["i1"] + "/"
		v := e.want(t, http.StatusOK, "GET", path, tok, nil)
		if get(v, "id") != f.id["i1"] || get(v, "shortId") != "ACME-WEB-1" || get(v, "count") != "2" {
			t.Errorf("issue %v", v)
		}
		if get(v, "firstRelease", "version") != "1.0" || get(v, "lastRelease", "version") != "1.0" {
			t.Errorf("releases %v – %v", get(v, "firstRelease"), get(v, "lastRelease"))
		}
		var acts []string
		for _, a := range list(t, get(v, "activity")) {
			acts = append(acts, str(t, a, "type"))
		}
		if !slices.Equal(acts, []string{"assigned", "first_seen"}) {
			t.Errorf("activity %v", acts)
		}
		for key, n := range map[string]int{"24h": 25, "30d": 31} {
			if s, _ := get(v, "stats", key).([]any); len(s) != n {
				t.Errorf("stats %s has %d buckets, want %d", key, len(s), n)
			}
		}
		var keys []string
		for _, tg := range list(t, get(v, "tags")) {
			keys = append(keys, str(t, tg, "key"))
		}
		if !slices.Contains(keys, "browser") || !slices.Contains(keys, "release") {
			t.Errorf("tags %v", keys)
		}

		// The same issue by its short id, under its organization.
		for _, ref := range []string{"ACME-WEB-1", "acme-web-1"} {
			v := e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/issues/"+ref+"/", tok, nil)
			if get(v, "id") != f.id["i1"] {
				t.Errorf("%s is %v", ref, get(v, "id"))
			}
		}
		def, _ := e.project(t, f.a.org, f.a.team, "default")
		res := e.ingestEvents(t, def, f.now, eventtest.PythonError(60, f.now, nil))
		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/acme/issues/DEFAULT-1/", tok, nil)
		if get(v, "id") != fmt.Sprint(res[0].IssueID) || get(v, "shortId") != "DEFAULT-1" {
			t.Errorf("DEFAULT-1 is %v", v)
		}
		for _, p := range []string{"/api/0/issues/DEFAULT-1/", "/api/0/organizations/acme/issues/DEFAULT-2/",
			"/api/0/organizations/acme/issues/NOPE-1/", "/api/0/organizations/acme/issues/DEFAULT-!/",
			"/api/0/issues/999999/", "/api/0/organizations/acme/issues/999999/"} {
			wantDetail(t, e.want(t, http.StatusNotFound, "GET", p, tok, nil))
		}

		// PUT answers the updated issue, by id or short id.
		v = e.want(t, http.StatusOK, "PUT", path, tok, map[string]any{"status": "ignored", "statusDetails": map[string]any{"ignoreCount": 5}})
		if get(v, "status") != "ignored" || get(v, "statusDetails", "ignoreCount") != 5.0 || get(v, "activity", 0, "type") != "set_ignored" {
			t.Errorf("ignored issue %v", v)
		}
		v = e.want(t, http.StatusOK, "PUT", "/api/0/organizations/acme/issues/ACME-WEB-1/", tok, map[string]any{"status": "unresolved", "assignedTo": nil})
		if get(v, "status") != "unresolved" || get(v, "assignedTo") != nil || get(v, "activity", 0, "type") != "unassigned" {
			t.Errorf("reopened issue %v", v)
		}
		wantDetail(t, e.want(t, http.StatusBadRequest, "PUT", path, tok, map[string]any{"status": "done"}), "status")

		// Events of the issue, newest first.
		evs := e.want(t, http.StatusOK, "GET", path+"events/", tok, nil)
		var got []string
		for _, ev := range list(t, evs) {
			got = append(got, str(t, ev, "eventID"))
			if get(ev, "groupID") != f.id["i1"] || get(ev, "entries") != nil {
				t.Errorf("event %v", ev)
			}
		}
		if !slices.Equal(got, []string{eventtest.ID(2), eventtest.ID(1)}) {
			t.Errorf("events %v", got)
		}
		if full := e.want(t, http.StatusOK, "GET", path+"events/?full=true", tok, nil); get(full, 0, "entries") == nil {
			t.Errorf("full events have no entries: %v", get(full, 0))
		}
		_, hdr, evs := e.do(t, "GET", path+"events/?per_page=1", tok, nil)
		if _, next := links(t, hdr.Get("Link")); !next.results || len(list(t, evs)) != 1 {
			t.Errorf("first page of 1: Link %q", hdr.Get("Link"))
		}
		uuid := eventtest.ID(1)[:8] + "-" + eventtest.ID(1)[8:12] + "-" + eventtest.ID(1)[12:16] + "-" + eventtest.ID(1)[16:20] + "-" + eventtest.ID(1)[20:]
		for which, want := range map[string]string{"latest": eventtest.ID(2), "oldest": eventtest.ID(1), "recommended": eventtest.ID(2),
			eventtest.ID(1): eventtest.ID(1), uuid: eventtest.ID(1)} {
			v := e.want(t, http.StatusOK, "GET", path+"events/"+which+"/", tok, nil)
			if get(v, "eventID") != want || get(v, "id") != want {
				t.Errorf("events/%s/ is %v, want %s", which, get(v, "eventID"), want)
			}
		}
		// An event of another issue is not this issue's.
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", path+"events/"+eventtest.ID(3)+"/", tok, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", path+"events/"+eventtest.ID(99)+"/", tok, nil))

		// Tags with their top values.
		tags := e.want(t, http.StatusOK, "GET", path+"tags/", tok, nil)
		byKey := map[string]any{}
		for _, tg := range list(t, tags) {
			byKey[str(t, tg, "key")] = tg
		}
		if b := byKey["browser"]; get(b, "name") != "Browser" || get(b, "totalValues") != 2.0 ||
			get(b, "topValues", 0, "value") != "Firefox" || get(b, "topValues", 0, "count") != 2.0 {
			t.Errorf("browser tag %v", b)
		}
		if u := byKey["user"]; get(u, "topValues", 0, "value") != "id:u1" {
			t.Errorf("user tag %v", u)
		}

		// DELETE answers 202; then the issue and its events are gone.
		if code, _, v := e.do(t, "DELETE", path, tok, nil); code != http.StatusAccepted {
			t.Fatalf("delete: %d %v", code, v)
		}
		for _, p := range []string{path, path + "events/latest/", path + "tags/",
			"/api/0/projects/acme/acme-web/events/" + eventtest.ID(1) + "/"} {
			wantDetail(t, e.want(t, http.StatusNotFound, "GET", p, tok, nil))
		}
		e.want(t, http.StatusAccepted, "DELETE", "/api/0/organizations/acme/issues/DEFAULT-1/", tok, nil)
		e.want(t, http.StatusNotFound, "GET", "/api/0/issues/"+fmt.Sprint(res[0].IssueID)+"/", tok, nil)
	})
}

func TestHandler_EventDetail(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		f := e.issueFixture(t)
		v := e.want(t, http.StatusOK, "GET", "/api/0/projects/acme/acme-web/events/"+eventtest.ID(1)+"/", f.a.token, nil)
		for path, want := range map[string]any{
			"eventID": eventtest.ID(1), "groupID": f.id["i1"], "projectSlug": "acme-web", "title": "ValueError: bad value",
			"culprit": "app.views in checkout", "platform": "python", "type": "error",
		} {
			if got := get(v, path); got != want {
				t.Errorf("%s = %#v, want %#v", path, got, want)
			}
		}
		if get(v, "release", "version") != "1.0" || get(v, "user", "id") != "u1" || get(v, "metadata", "type") != "ValueError" {
			t.Errorf("release %v, user %v, metadata %v", get(v, "release"), get(v, "user"), get(v, "metadata"))
		}
		if !timeAt(t, v, "dateCreated").Equal(f.now.Add(-3 * time.Hour)) {
			t.Errorf("dateCreated %v", get(v, "dateCreated"))
		}
		tags := map[string]string{}
		for _, tg := range list(t, get(v, "tags")) {
			tags[str(t, tg, "key")] = str(t, tg, "value")
		}
		if tags["browser"] != "Firefox" || tags["environment"] != "prod" || tags["level"] != "error" {
			t.Errorf("tags %v", tags)
		}

		entries := list(t, get(v, "entries"))
		if len(entries) == 0 || get(entries[0], "type") != "exception" {
			t.Fatalf("entries %v", entries)
		}
		exc := get(entries[0], "data", "values", 0)
		if get(exc, "type") != "ValueError" || get(exc, "value") != "bad value" {
			t.Errorf("exception %v", exc)
		}
		if get(entries[0], "data", "hasSystemFrames") != true {
			t.Errorf("hasSystemFrames %v", get(entries[0], "data", "hasSystemFrames"))
		}
		frame, ok := get(exc, "stacktrace", "frames", 1).(map[string]any)
		if !ok {
			t.Fatalf("frames %v", get(exc, "stacktrace", "frames"))
		}
		for key, want := range map[string]any{"absPath": "/srv/app/views.py", "lineNo": 42.0, "colNo": 5.0, "inApp": true,
			"filename": "app/views.py", "function": "checkout", "module": "app.views"} {
			if frame[key] != want {
				t.Errorf("frame %s = %#v, want %#v", key, frame[key], want)
			}
		}
		for _, key := range []string{"abs_path", "lineno", "colno", "in_app", "pre_context", "context_line", "post_context"} {
			if _, ok := frame[key]; ok {
				t.Errorf("frame keeps the protocol's %s", key)
			}
		}
		wantCtx := []any{
			[]any{40.0, "def checkout(request):"}, []any{41.0, "    cart = request.cart"},
			[]any{42.0, "    raise ValueError('bad value')"}, []any{43.0, ""}, []any{44.0, "def refund(request):"},
		}
		if !reflect.DeepEqual(frame["context"], wantCtx) {
			t.Errorf("context %v, want %v", frame["context"], wantCtx)
		}
		if lib := get(exc, "stacktrace", "frames", 0); get(lib, "inApp") != false || get(lib, "lineNo") != 181.0 ||
			!reflect.DeepEqual(get(lib, "context"), []any{}) {
			t.Errorf("library frame %v", lib)
		}

		// A message event has a message entry.
		v = e.want(t, http.StatusOK, "GET", "/api/0/projects/acme/acme-web/events/"+eventtest.ID(3)+"/", f.a.token, nil)
		if get(v, "entries", 0, "type") != "message" || get(v, "entries", 0, "data", "formatted") != "Database timeout" ||
			get(v, "message") != "Database timeout" {
			t.Errorf("message event entries %v", get(v, "entries"))
		}
		for _, p := range []string{
			"/api/0/projects/acme/acme-web/events/" + eventtest.ID(99) + "/",
			"/api/0/projects/acme/acme-web/events/not-an-id/",
			"/api/0/projects/acme/nope/events/" + eventtest.ID(1) + "/",
		} {
			wantDetail(t, e.want(t, http.StatusNotFound, "GET", p, f.a.token, nil))
		}
	})
}

// issueRoutes are the issue and event routes of the fixture's issue i1,
// named every way the API accepts.
func issueRoutes(f *issueFixture) []route {
	id := f.id["i1"]
	var out []route
	for _, p := range []string{"/api/0/issues/" + id + "/", "/api/0/organizations/acme/issues/" + id + "/",
		"/api/0/organizations/acme/issues/ACME-WEB-1/", "/api/0/organizations/" + fmt.Sprint(f.a.org.ID) + "/issues/" + id + "/"} {
		out = append(out,
			route{"GET", p, nil},
			route{"PUT", p, map[string]any{"status": "resolved"}},
			route{"DELETE", p, nil},
			route{"GET", p + "events/", nil},
			route{"GET", p + "events/latest/", nil},
			route{"GET", p + "events/oldest/", nil},
			route{"GET", p + "events/" + f.event["i1"] + "/", nil},
			route{"GET", p + "tags/", nil},
		)
	}
	bulk := "?id=" + id
	for _, p := range []string{"/api/0/projects/acme/acme-web/issues/", "/api/0/organizations/acme/issues/"} {
		out = append(out,
			route{"GET", p, nil},
			route{"GET", p + "?query=", nil},
			route{"PUT", p + bulk, map[string]any{"status": "resolved"}},
			route{"DELETE", p + bulk, nil},
		)
	}
	return append(out, route{"GET", "/api/0/projects/acme/acme-web/events/" + f.event["i1"] + "/", nil})
}

func TestHandler_IssueTenancy(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		f := e.issueFixture(t)
		before := e.want(t, http.StatusOK, "GET", "/api/0/issues/"+f.id["i1"]+"/", f.a.token, nil)
		reqs := issueRoutes(f)
		// acme's issue and event named under globex's own organization and project.
		for _, p := range []string{"/api/0/organizations/globex/issues/" + f.id["i1"] + "/",
			"/api/0/organizations/globex/issues/ACME-WEB-1/"} {
			reqs = append(reqs, route{"GET", p, nil}, route{"PUT", p, map[string]any{"status": "resolved"}},
				route{"DELETE", p, nil}, route{"GET", p + "events/", nil}, route{"GET", p + "tags/", nil})
		}
		reqs = append(reqs, route{"GET", "/api/0/projects/globex/globex-web/events/" + f.event["i1"] + "/", nil})
		for _, r := range reqs {
			code, _, v := e.do(t, r.method, r.path, f.b.token, r.body)
			if code != http.StatusNotFound {
				t.Errorf("globex %s %s: %d %v, want 404", r.method, r.path, code, v)
				continue
			}
			wantDetail(t, v)
		}
		// In globex's own lists acme's ids match nothing, and change nothing.
		for _, p := range []string{"/api/0/projects/globex/globex-web/issues/", "/api/0/organizations/globex/issues/"} {
			if code, _, v := e.do(t, "PUT", p+"?id="+f.id["i1"], f.b.token, map[string]any{"status": "resolved"}); code != http.StatusNoContent {
				t.Errorf("globex PUT %s: %d %v", p, code, v)
			}
			if code, _, _ := e.do(t, "DELETE", p+"?id="+f.id["i1"], f.b.token, nil); code != http.StatusNoContent {
				t.Errorf("globex DELETE %s: %d", p, code)
			}
			v := e.want(t, http.StatusOK, "GET", p+"?query=&id="+f.id["i1"], f.b.token, nil)
			if len(list(t, v)) != 0 {
				t.Errorf("globex lists acme's issue: %v", v)
			}
		}
		v := e.want(t, http.StatusOK, "GET", "/api/0/projects/globex/globex-web/issues/?query=", f.b.token, nil)
		if got := f.names(t, v); !slices.Equal(got, []string{"b1"}) {
			t.Errorf("globex's issues %v", got)
		}
		after := e.want(t, http.StatusOK, "GET", "/api/0/issues/"+f.id["i1"]+"/", f.a.token, nil)
		if !reflect.DeepEqual(get(before, "activity"), get(after, "activity")) || get(after, "status") != "unresolved" ||
			get(after, "count") != "2" {
			t.Errorf("acme's issue changed by globex: %v", after)
		}
		e.want(t, http.StatusOK, "GET", "/api/0/projects/acme/acme-web/events/"+f.event["i1"]+"/", f.a.token, nil)
	})
}

func TestHandler_IssueScopes(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		f := e.issueFixture(t)
		read := e.token(t, f.a.user, "event:read")
		write := e.token(t, f.a.user, "event:write")
		none := e.token(t, f.a.user, "org:read", "project:read")
		for _, r := range issueRoutes(f) {
			for _, tc := range []struct {
				name, token string
				allowed     bool
			}{
				{"event:read", read, r.method == "GET"},
				{"event:write", write, r.method != "DELETE"},
				{"org:read project:read", none, false},
			} {
				code, _, v := e.do(t, r.method, r.path, tc.token, r.body)
				if tc.allowed && (code == http.StatusForbidden || code >= 500) || !tc.allowed && code != http.StatusForbidden {
					t.Errorf("%s: %s %s: %d %v", tc.name, r.method, r.path, code, v)
					continue
				}
				if !tc.allowed {
					wantDetail(t, v, "permission")
				}
			}
		}
		// Every PUT with event:write resolved the issue; nothing deleted it.
		v := e.want(t, http.StatusOK, "GET", "/api/0/issues/"+f.id["i1"]+"/", f.a.token, nil)
		if get(v, "status") != "resolved" {
			t.Errorf("i1 status %v", get(v, "status"))
		}
	})
}
