package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// exception replaces the fixture's exception with another type and value,
// raised in the same frame.
func exception(typ, value string) map[string]any {
	return map[string]any{"values": []any{map[string]any{"type": typ, "value": value,
		"stacktrace": map[string]any{"frames": []any{map[string]any{"filename": "app/views.py",
			"module": "app.views", "function": "checkout", "lineno": 7, "in_app": true}}}}}}
}

// issueSet is a few issues of two organizations with known order by every
// sort: a1, a2, a3 in acme's project web, a4 in its project api, b1 in globex.
type issueSet struct {
	a, b               *tenant
	api                *store.Project
	a1, a2, a3, a4, b1 int64
}

func newIssueSet(t *testing.T, s *store.Store) *issueSet {
	t.Helper()
	ctx := context.Background()
	is := &issueSet{a: newTenant(t, s, "acme"), b: newTenant(t, s, "globex")}
	var err error
	if is.api, _, err = s.ProjectCreate(ctx, is.a.org.ID, is.a.team.ID, &store.ProjectCreateParams{Slug: "api", Name: "API"}); err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	web := is.a.project
	// a1: seen 0h–3h, 3 events, 1 user; a Firefox error in prod.
	is.a1 = ingest(t, s, web, at(0), eventtest.PythonError(1, at(0), map[string]any{"environment": "prod",
		"user": map[string]any{"id": "u1"}, "tags": map[string]any{"browser": "Firefox"}}))[0].IssueID
	// a2: a warning message at 1h, no user; a Chrome one in staging.
	is.a2 = ingest(t, s, web, at(time.Hour), eventtest.PythonError(2, at(time.Hour), map[string]any{"exception": nil,
		"message": "Database timeout", "level": "warning", "transaction": "/api/orders", "environment": "staging",
		"tags": map[string]any{"browser": "Chrome"}}))[0].IssueID
	ingest(t, s, web, at(time.Hour), eventtest.PythonError(3, at(time.Hour), map[string]any{"environment": "prod", "user": map[string]any{"id": "u1"}}))
	// a3: 2 events at 2h, 2 users.
	is.a3 = ingest(t, s, web, at(2*time.Hour),
		eventtest.PythonError(4, at(2*time.Hour), map[string]any{"exception": exception("KeyError", "'user_id'"), "user": map[string]any{"id": "u2"}}),
		eventtest.PythonError(5, at(2*time.Hour), map[string]any{"exception": exception("KeyError", "'user_id'"), "user": map[string]any{"id": "u3"}}),
	)[0].IssueID
	ingest(t, s, web, at(3*time.Hour), eventtest.PythonError(6, at(3*time.Hour), map[string]any{"environment": "prod"}))
	// a4: the same error as a1 in another project, at 30m.
	is.a4 = ingest(t, s, is.api, at(30*time.Minute), eventtest.PythonError(7, at(30*time.Minute), nil))[0].IssueID
	is.b1 = ingest(t, s, is.b.project, at(4*time.Hour), eventtest.PythonError(1, at(4*time.Hour), map[string]any{"environment": "prod"}))[0].IssueID
	return is
}

// names maps issues back to the fixture names, for readable failures.
func (is *issueSet) names(issues []*store.Issue) []string {
	byID := map[int64]string{is.a1: "a1", is.a2: "a2", is.a3: "a3", is.a4: "a4", is.b1: "b1"}
	out := []string{}
	for _, i := range issues {
		n, ok := byID[i.ID]
		if !ok {
			n = fmt.Sprint(i.ID)
		}
		out = append(out, n)
	}
	return out
}

func TestStore_IssueList(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		is := newIssueSet(t, s)
		a := is.a
		if a1 := mustIssue(t, s, a.org.ID, is.a1); a1.TimesSeen != 3 || a1.UserCount != 1 {
			t.Fatalf("a1 seen %d times by %d users", a1.TimesSeen, a1.UserCount)
		}
		u := a.user.ID
		setStatus(t, s, a.org.ID, []int64{is.a2}, &store.IssueUpdate{Status: ptr(store.StatusResolved), At: t0})
		setStatus(t, s, a.org.ID, []int64{is.a4}, &store.IssueUpdate{Status: ptr(store.StatusIgnored), At: t0})
		setStatus(t, s, a.org.ID, []int64{is.a3}, &store.IssueUpdate{Assign: true, AssigneeUserID: &u, At: t0})
		setStatus(t, s, a.org.ID, []int64{is.a1}, &store.IssueUpdate{Assign: true, AssigneeTeamID: &a.team.ID, At: t0})

		page := store.Page{Limit: 100}
		for _, tc := range []struct {
			name string
			f    store.IssueFilter
			want []string
		}{
			{"all, by last seen", store.IssueFilter{}, []string{"a1", "a3", "a2", "a4"}},
			{"sort date", store.IssueFilter{Sort: "date"}, []string{"a1", "a3", "a2", "a4"}},
			{"sort new", store.IssueFilter{Sort: "new"}, []string{"a3", "a2", "a4", "a1"}},
			{"sort freq", store.IssueFilter{Sort: "freq"}, []string{"a1", "a3", "a4", "a2"}},
			{"sort user", store.IssueFilter{Sort: "user"}, []string{"a3", "a1", "a4", "a2"}},
			{"unresolved", store.IssueFilter{Statuses: []string{"unresolved"}}, []string{"a1", "a3"}},
			{"resolved", store.IssueFilter{Statuses: []string{"resolved"}}, []string{"a2"}},
			{"ignored", store.IssueFilter{Statuses: []string{"ignored"}}, []string{"a4"}},
			{"unresolved or ignored", store.IssueFilter{Statuses: []string{"unresolved", "ignored"}}, []string{"a1", "a3", "a4"}},
			{"level warning", store.IssueFilter{Levels: []string{"warning"}}, []string{"a2"}},
			{"level error or fatal", store.IssueFilter{Levels: []string{"error", "fatal"}}, []string{"a1", "a3", "a4"}},
			{"assigned", store.IssueFilter{Assignment: "assigned"}, []string{"a1", "a3"}},
			{"unassigned", store.IssueFilter{Assignment: "unassigned"}, []string{"a2", "a4"}},
			{"assigned to the user", store.IssueFilter{AssigneeUserID: u}, []string{"a3"}},
			{"assigned to the team", store.IssueFilter{AssigneeTeamIDs: []int64{a.team.ID}}, []string{"a1"}},
			{"assigned to me or my teams", store.IssueFilter{AssigneeUserID: u, AssigneeTeamIDs: []int64{a.team.ID}}, []string{"a1", "a3"}},
			{"assigned to another", store.IssueFilter{AssigneeUserID: is.b.user.ID}, []string{}},
			{"tag", store.IssueFilter{Tags: []store.TagMatch{{Key: "browser", Value: "Firefox"}}}, []string{"a1"}},
			{"negated tag", store.IssueFilter{Tags: []store.TagMatch{{Key: "browser", Value: "Firefox", Negate: true}}}, []string{"a3", "a2", "a4"}},
			{"two tags", store.IssueFilter{Tags: []store.TagMatch{{Key: "environment", Value: "prod"}, {Key: "browser", Value: "Chrome"}}}, []string{}},
			{"environment", store.IssueFilter{Tags: []store.TagMatch{{Key: "environment", Value: "prod"}}}, []string{"a1"}},
			{"tag value is exact", store.IssueFilter{Tags: []store.TagMatch{{Key: "browser", Value: "firefox"}}}, []string{}},
			{"text in title, any case", store.IssueFilter{Text: "VALUEERROR: Bad"}, []string{"a1", "a4"}},
			{"text in culprit", store.IssueFilter{Text: "/API/orders"}, []string{"a2"}},
			{"text in both", store.IssueFilter{Text: "checkout"}, []string{"a1", "a3", "a4"}},
			{"underscore is literal", store.IssueFilter{Text: "_"}, []string{"a3"}},
			{"percent is literal", store.IssueFilter{Text: "%"}, []string{}},
			{"seen since", store.IssueFilter{SeenSince: t0.Add(90 * time.Minute)}, []string{"a1", "a3"}},
			{"project", store.IssueFilter{ProjectIDs: []int64{is.api.ID}}, []string{"a4"}},
			{"ids", store.IssueFilter{IDs: []int64{is.a2, is.a4}}, []string{"a2", "a4"}},
			{"another organization's ids", store.IssueFilter{IDs: []int64{is.a2, is.b1}}, []string{"a2"}},
			{"another organization's project", store.IssueFilter{ProjectIDs: []int64{is.b.project.ID}}, []string{}},
			{"all conditions", store.IssueFilter{Statuses: []string{"unresolved", "ignored"}, Levels: []string{"error"},
				Text: "value", Assignment: "unassigned", ProjectIDs: []int64{a.project.ID, is.api.ID}}, []string{"a4"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := tc.f
				f.Page = page
				issues, err := s.IssueList(ctx, a.org.ID, &f)
				if err != nil {
					t.Fatal(err)
				}
				if got := is.names(issues); !slices.Equal(got, tc.want) {
					t.Errorf("issues %v, want %v", got, tc.want)
				}
			})
		}

		var paged []string
		for off := 0; off < 10; off += 3 {
			issues, err := s.IssueList(ctx, a.org.ID, &store.IssueFilter{Sort: "new", Page: store.Page{Limit: 3, Offset: off}})
			if err != nil {
				t.Fatal(err)
			}
			paged = append(paged, is.names(issues)...)
			if len(issues) < 3 {
				break
			}
		}
		if want := []string{"a3", "a2", "a4", "a1"}; !slices.Equal(paged, want) {
			t.Errorf("pages %v, want %v", paged, want)
		}

		if issues, err := s.IssueList(ctx, is.b.org.ID, &store.IssueFilter{Page: page}); err != nil || !slices.Equal(is.names(issues), []string{"b1"}) {
			t.Errorf("globex's issues %v, %v", is.names(issues), err)
		}
	})
}

func TestStore_IssueTenancy(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		is := newIssueSet(t, s)
		a, b := is.a, is.b
		resolve := &store.IssueUpdate{Status: ptr(store.StatusResolved), At: t0}
		u := a.user.ID
		for _, tc := range []struct {
			name string
			call func() error
		}{
			{"get", func() error { _, err := s.IssueGet(ctx, a.org.ID, is.b1); return err }},
			{"get by short id", func() error { _, err := s.IssueGetByShortID(ctx, a.org.ID, b.project.ID, 1); return err }},
			{"resolve", func() error { _, err := s.IssuesUpdate(ctx, a.org.ID, []int64{is.b1}, resolve); return err }},
			{"resolve with one of mine", func() error { _, err := s.IssuesUpdate(ctx, a.org.ID, []int64{is.a1, is.b1}, resolve); return err }},
			{"assign", func() error {
				_, err := s.IssuesUpdate(ctx, a.org.ID, []int64{is.b1}, &store.IssueUpdate{Assign: true, AssigneeUserID: &u})
				return err
			}},
			{"delete", func() error { return s.IssuesDelete(ctx, a.org.ID, []int64{is.b1}) }},
			{"delete with one of mine", func() error { return s.IssuesDelete(ctx, a.org.ID, []int64{is.a2, is.b1}) }},
			{"latest event", func() error { _, err := s.EventEdge(ctx, a.org.ID, is.b1, true); return err }},
			{"event", func() error { _, err := s.EventGet(ctx, a.org.ID, b.project.ID, eventtest.ID(1)); return err }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.call(); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%v, want ErrNotFound", err)
				}
			})
		}
		// Both organizations have an event 1; each project sees its own.
		if e, err := s.EventGet(ctx, a.org.ID, a.project.ID, eventtest.ID(1)); err != nil || e.IssueID != is.a1 {
			t.Errorf("acme's event 1: %v, %v", e, err)
		}
		if evs, err := s.EventList(ctx, a.org.ID, is.b1, store.Page{Limit: 10}); err != nil || len(evs) != 0 {
			t.Errorf("acme lists globex's events: %d, %v", len(evs), err)
		}
		// Nothing changed: globex's issue, and acme's issues named with it.
		b1 := mustIssue(t, s, b.org.ID, is.b1)
		if b1.Status != store.StatusUnresolved || b1.AssigneeUserID != nil || b1.TimesSeen != 1 {
			t.Errorf("globex's issue after acme's attempts: %+v", b1)
		}
		if got := activityKinds(t, s, is.b1); !slices.Equal(got, []string{"first_seen"}) {
			t.Errorf("globex's issue activity %v", got)
		}
		if a1 := mustIssue(t, s, a.org.ID, is.a1); a1.Status != store.StatusUnresolved {
			t.Errorf("a1 is %s after a refused bulk update", a1.Status)
		}
		mustIssue(t, s, a.org.ID, is.a2)
		if slug, err := s.IssueOrganization(ctx, is.b1); err != nil || slug != "globex" {
			t.Errorf("organization of b1: %q, %v", slug, err)
		}

		// Deleting acme's own issue takes its events along, and nothing else.
		if err := s.IssuesDelete(ctx, a.org.ID, []int64{is.a4}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.IssueGet(ctx, a.org.ID, is.a4); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted issue: %v", err)
		}
		if _, err := s.EventGet(ctx, a.org.ID, is.api.ID, eventtest.ID(7)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("event of the deleted issue: %v", err)
		}
		if err := s.IssuesDelete(ctx, a.org.ID, nil); err != nil {
			t.Errorf("delete nothing: %v", err)
		}
		issues, err := s.IssueList(ctx, a.org.ID, &store.IssueFilter{Page: store.Page{Limit: 10}})
		if err != nil || !slices.Equal(is.names(issues), []string{"a1", "a3", "a2"}) {
			t.Errorf("acme's issues after delete: %v, %v", is.names(issues), err)
		}
		if evs, err := s.EventList(ctx, a.org.ID, is.a1, store.Page{Limit: 10}); err != nil || len(evs) != 3 {
			t.Errorf("a1's events: %d, %v", len(evs), err)
		}
	})
}

func TestStore_IssuesUpdate(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		res := ingest(t, s, a.project, t0, eventtest.PythonError(1, t0, nil), eventtest.PythonError(2, t0, fingerprint("other")))
		id, other := res[0].IssueID, res[1].IssueID
		drainOutbox(t, s)
		until := t0.Add(48 * time.Hour)
		actor := a.user.ID
		// Sequential steps on one issue; each says what it leaves and records.
		for i, tc := range []struct {
			name      string
			status    string
			release   string
			ignore    store.IgnoreOptions
			want      string // status afterwards
			substatus string
			activity  string // "" when nothing is recorded
			data      map[string]any
		}{
			{"resolve", "resolved", "", store.IgnoreOptions{}, "resolved", "", "set_resolved", map[string]any{}},
			{"resolve again", "resolved", "", store.IgnoreOptions{}, "resolved", "", "", nil},
			{"resolve in a release", "resolved", "1.0", store.IgnoreOptions{}, "resolved", "", "set_resolved_in_release", map[string]any{"version": "1.0"}},
			{"ignore until 10 events an hour", "ignored", "", store.IgnoreOptions{Count: 10, Window: 60}, "ignored", store.SubstatusUntil,
				"set_ignored", map[string]any{"ignoreCount": 10.0, "ignoreWindow": 60.0}},
			{"ignore until a time", "ignored", "", store.IgnoreOptions{Until: &until}, "ignored", store.SubstatusUntil,
				"set_ignored", map[string]any{"ignoreUntil": until.Format(time.RFC3339)}},
			{"ignore until 5 users", "ignored", "", store.IgnoreOptions{UserCount: 5}, "ignored", store.SubstatusUntil,
				"set_ignored", map[string]any{"ignoreUserCount": 5.0, "ignoreUserWindow": 0.0}},
			{"ignore forever", "ignored", "", store.IgnoreOptions{}, "ignored", store.SubstatusForever, "set_ignored", map[string]any{}},
			{"unresolve", "unresolved", "", store.IgnoreOptions{}, "unresolved", store.SubstatusOngoing, "set_unresolved", map[string]any{}},
			{"unresolve again", "unresolved", "", store.IgnoreOptions{}, "unresolved", store.SubstatusOngoing, "", nil},
		} {
			at := t0.Add(time.Duration(i+1) * time.Hour)
			out := setStatus(t, s, a.org.ID, []int64{id}, &store.IssueUpdate{Status: ptr(tc.status), ResolvedInRelease: tc.release,
				Ignore: tc.ignore, ActorID: &actor, At: at})
			is := out[0]
			if is.Status != tc.want || is.Substatus != tc.substatus {
				t.Errorf("%s: %s/%s, want %s/%s", tc.name, is.Status, is.Substatus, tc.want, tc.substatus)
			}
			if (is.Status == store.StatusResolved) != (is.ResolvedAt != nil) || is.ResolvedInRelease != tc.release {
				t.Errorf("%s: resolved at %v in %q", tc.name, is.ResolvedAt, is.ResolvedInRelease)
			}
			if tc.status == "ignored" && (is.Ignore.Count != tc.ignore.Count || is.Ignore.Window != tc.ignore.Window ||
				is.Ignore.UserCount != tc.ignore.UserCount || (is.Ignore.Until == nil) != (tc.ignore.Until == nil) || is.Ignore.BaseCount != 1) {
				t.Errorf("%s: ignore %+v, want %+v", tc.name, is.Ignore, tc.ignore)
			}
			if tc.status == "unresolved" && is.Ignore.Count+is.Ignore.UserCount != 0 {
				t.Errorf("%s: ignore conditions left: %+v", tc.name, is.Ignore)
			}
			acts, err := s.ActivityList(ctx, id, 1)
			if err != nil {
				t.Fatal(err)
			}
			kinds := outboxKinds(drainOutbox(t, s))
			if tc.activity == "" {
				if len(kinds) != 0 || acts[0].DateCreated.Equal(at) {
					t.Errorf("%s: recorded %s and queued %v for no change", tc.name, acts[0].Kind, kinds)
				}
				continue
			}
			got := acts[0]
			if got.Kind != tc.activity || !got.DateCreated.Equal(at) || got.UserID == nil || *got.UserID != actor ||
				fmt.Sprint(got.Data) != fmt.Sprint(tc.data) {
				t.Errorf("%s: activity %s %v by %v at %s; want %s %v by %d at %s", tc.name, got.Kind, got.Data, got.UserID,
					got.DateCreated, tc.activity, tc.data, actor, at)
			}
			if !slices.Equal(kinds, []string{store.ActivityStatus}) {
				t.Errorf("%s: outbox %v", tc.name, kinds)
			}
		}

		// An unknown status changes nothing, not even the other issues of the request.
		if _, err := s.IssuesUpdate(ctx, a.org.ID, []int64{other, id}, &store.IssueUpdate{Status: ptr("deleted")}); err == nil {
			t.Error("status deleted accepted")
		}
		if is := mustIssue(t, s, a.org.ID, other); is.Status != store.StatusUnresolved {
			t.Errorf("other issue %s after a refused update", is.Status)
		}
		// A bulk change records an activity and a status change per issue.
		out := setStatus(t, s, a.org.ID, []int64{id, other}, &store.IssueUpdate{Status: ptr(store.StatusResolved), At: t0})
		if len(out) != 2 || out[0].ID != id || out[1].ID != other || out[1].Status != store.StatusResolved {
			t.Errorf("bulk resolve returned %v", out)
		}
		if kinds := outboxKinds(drainOutbox(t, s)); !slices.Equal(kinds, []string{store.ActivityStatus, store.ActivityStatus}) {
			t.Errorf("bulk outbox %v", kinds)
		}
		if got := activityKinds(t, s, other); !slices.Equal(got, []string{"set_resolved", "first_seen"}) {
			t.Errorf("other issue's activity %v", got)
		}
	})
}

func TestStore_IssueAssignment(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "acme")
		id := ingest(t, s, a.project, t0, eventtest.PythonError(1, t0, nil))[0].IssueID
		drainOutbox(t, s)
		user, team := a.user.ID, a.team.ID
		for i, tc := range []struct {
			name       string
			user, team *int64
			activity   string
			data       map[string]any
		}{
			{"to a user", &user, nil, "assigned", map[string]any{"assignee": fmt.Sprint(user), "assigneeType": "user"}},
			{"to a team", nil, &team, "assigned", map[string]any{"assignee": fmt.Sprint(team), "assigneeType": "team"}},
			{"to nobody", nil, nil, "unassigned", nil},
			{"to nobody again", nil, nil, "", nil},
			{"to the user again", &user, nil, "assigned", map[string]any{"assignee": fmt.Sprint(user), "assigneeType": "user"}},
		} {
			at := t0.Add(time.Duration(i+1) * time.Minute)
			is := setStatus(t, s, a.org.ID, []int64{id}, &store.IssueUpdate{Assign: true, AssigneeUserID: tc.user,
				AssigneeTeamID: tc.team, ActorID: &user, At: at})[0]
			if !slices.Equal(ptrSlice(is.AssigneeUserID), ptrSlice(tc.user)) || !slices.Equal(ptrSlice(is.AssigneeTeamID), ptrSlice(tc.team)) {
				t.Errorf("%s: assigned to user %v team %v", tc.name, is.AssigneeUserID, is.AssigneeTeamID)
			}
			if is.Status != store.StatusUnresolved {
				t.Errorf("%s: status %s", tc.name, is.Status)
			}
			acts, err := s.ActivityList(context.Background(), id, 1)
			if err != nil {
				t.Fatal(err)
			}
			kinds := outboxKinds(drainOutbox(t, s))
			if tc.activity == "" {
				if acts[0].DateCreated.Equal(at) || len(kinds) != 0 {
					t.Errorf("%s: recorded %s, queued %v", tc.name, acts[0].Kind, kinds)
				}
				continue
			}
			if acts[0].Kind != tc.activity || fmt.Sprint(acts[0].Data) != fmt.Sprint(orEmpty(tc.data)) || !slices.Equal(kinds, []string{store.ActivityStatus}) {
				t.Errorf("%s: activity %s %v, outbox %v; want %s %v", tc.name, acts[0].Kind, acts[0].Data, kinds, tc.activity, tc.data)
			}
		}
		// A status change and an assignment in one update record both.
		is := setStatus(t, s, a.org.ID, []int64{id}, &store.IssueUpdate{Status: ptr(store.StatusResolved), Assign: true,
			AssigneeTeamID: &team, At: t0.Add(time.Hour)})[0]
		if is.Status != store.StatusResolved || is.AssigneeTeamID == nil || is.AssigneeUserID != nil {
			t.Errorf("resolved and assigned: %+v", is)
		}
		if got := activityKinds(t, s, id)[:2]; !slices.Equal(got, []string{"assigned", "set_resolved"}) {
			t.Errorf("activity %v", got)
		}
	})
}

func ptrSlice(p *int64) []int64 {
	if p == nil {
		return nil
	}
	return []int64{*p}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
