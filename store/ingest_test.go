package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// t0 is when the ingest tests start; every event carries its own
// timestamp and receive time, so no test reads the clock.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// newEnvelope builds what the ingest server hands the store for payloads
// received together: each event parsed, grouped and compressed.
func newEnvelope(t *testing.T, p *store.Project, received time.Time, payloads ...string) *store.IngestEnvelope {
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
	return env
}

// ingest stores payloads received at one time in one batch and returns
// what storing each did.
func ingest(t *testing.T, s *store.Store, p *store.Project, received time.Time, payloads ...string) []store.IngestResult {
	t.Helper()
	env := newEnvelope(t, p, received, payloads...)
	if err := s.IngestBatch(context.Background(), []*store.IngestEnvelope{env}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return env.Results
}

// drainOutbox takes every pending outbox entry and marks it handled.
func drainOutbox(t *testing.T, s *store.Store) []*store.OutboxEntry {
	t.Helper()
	ctx := context.Background()
	es, err := s.OutboxClaim(ctx, 10000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	if err := s.OutboxDone(ctx, ids); err != nil {
		t.Fatal(err)
	}
	return es
}

func outboxKinds(es []*store.OutboxEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Kind
	}
	return out
}

func activityKinds(t *testing.T, s *store.Store, issueID int64) []string {
	t.Helper()
	acts, err := s.ActivityList(context.Background(), issueID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range acts {
		out = append(out, a.Kind)
	}
	return out
}

func mustIssue(t *testing.T, s *store.Store, orgID, id int64) *store.Issue {
	t.Helper()
	is, err := s.IssueGet(context.Background(), orgID, id)
	if err != nil {
		t.Fatalf("issue %d: %v", id, err)
	}
	return is
}

func fingerprint(fp string) map[string]any { return map[string]any{"fingerprint": []string{fp}} }

func TestStore_IngestNewIssue(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		api, _, err := s.ProjectCreate(ctx, a.org.ID, a.team.ID, &store.ProjectCreateParams{Slug: "api", Name: "API"})
		if err != nil {
			t.Fatal(err)
		}
		res := ingest(t, s, a.project, t0,
			eventtest.PythonError(1, t0, map[string]any{"release": "1.0", "environment": "prod"}),
			eventtest.PythonError(2, t0, map[string]any{"fingerprint": []string{"b"}, "level": "warning"}),
			eventtest.PythonError(3, t0, fingerprint("c")))
		res = append(res, ingest(t, s, api, t0, eventtest.PythonError(4, t0, nil))...)

		// Short ids count per project; the same error in another project is another issue.
		for i, want := range []int64{1, 2, 3, 1} {
			r := res[i]
			if !r.NewIssue || r.Duplicate || r.Regression || r.IssueID == 0 || r.EventRowID == 0 {
				t.Fatalf("event %d: result %+v, want a new issue", i+1, r)
			}
			if is := mustIssue(t, s, a.org.ID, r.IssueID); is.ShortID != want {
				t.Errorf("event %d: short id %d, want %d", i+1, is.ShortID, want)
			}
		}
		if res[0].IssueID == res[3].IssueID {
			t.Error("the same error in two projects shares an issue")
		}

		is := mustIssue(t, s, a.org.ID, res[0].IssueID)
		wantMD := event.Metadata{Type: "ValueError", Value: "bad value", Filename: "app/views.py", Function: "checkout"}
		if is.Title != "ValueError: bad value" || is.Culprit != "app.views in checkout" || is.Metadata != wantMD {
			t.Errorf("title %q, culprit %q, metadata %+v", is.Title, is.Culprit, is.Metadata)
		}
		if is.Level != "error" || is.Type != "error" || is.Platform != "python" || is.ProjectID != a.project.ID {
			t.Errorf("level %q, type %q, platform %q, project %d", is.Level, is.Type, is.Platform, is.ProjectID)
		}
		if is.Status != store.StatusUnresolved || is.Substatus != store.SubstatusNew {
			t.Errorf("status %s/%s, want unresolved/new", is.Status, is.Substatus)
		}
		if is.TimesSeen != 1 || is.UserCount != 0 || !is.FirstSeen.Equal(t0) || !is.LastSeen.Equal(t0) {
			t.Errorf("times seen %d, users %d, seen %s–%s", is.TimesSeen, is.UserCount, is.FirstSeen, is.LastSeen)
		}
		if is.FirstRelease != "1.0" || is.LastRelease != "1.0" || is.GroupingVersion != grouping.Version {
			t.Errorf("releases %q–%q, grouping %q", is.FirstRelease, is.LastRelease, is.GroupingVersion)
		}
		if is2 := mustIssue(t, s, a.org.ID, res[1].IssueID); is2.Level != "warning" || is2.FirstRelease != "" {
			t.Errorf("second issue: level %q, first release %q", is2.Level, is2.FirstRelease)
		}

		// Each event queues one outbox entry naming its event and issue,
		// and a new issue's history starts with first_seen.
		es := drainOutbox(t, s)
		if got := outboxKinds(es); !slices.Equal(got, []string{"new_issue", "new_issue", "new_issue", "new_issue"}) {
			t.Fatalf("outbox kinds %v", got)
		}
		for i, e := range es {
			if e.IssueID != res[i].IssueID || e.EventRowID == nil || *e.EventRowID != res[i].EventRowID || !e.DateCreated.Equal(t0) {
				t.Errorf("outbox entry %d = %+v, want issue %d event %d", i, e, res[i].IssueID, res[i].EventRowID)
			}
		}
		if got := activityKinds(t, s, res[0].IssueID); !slices.Equal(got, []string{"first_seen"}) {
			t.Errorf("activity %v, want [first_seen]", got)
		}

		// The event is stored whole.
		ev, err := s.EventGet(ctx, a.org.ID, a.project.ID, eventtest.ID(1))
		if err != nil {
			t.Fatal(err)
		}
		if ev.IssueID != res[0].IssueID || ev.Title != "ValueError: bad value" || !ev.Timestamp.Equal(t0) ||
			!strings.Contains(string(ev.JSON), `"context_line":"    raise ValueError('bad value')"`) {
			t.Errorf("stored event %+v with %s", ev, ev.JSON)
		}
	})
}

func TestStore_IngestSameHash(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "acme")
		first := ingest(t, s, a.project, t0, eventtest.PythonError(1, t0, map[string]any{"level": "warning"}))
		// An older event arriving later moves first_seen back, not last_seen.
		later := ingest(t, s, a.project, t0.Add(time.Minute), eventtest.PythonError(2, t0.Add(-time.Hour), nil))
		// Two of the same in one batch.
		batch := ingest(t, s, a.project, t0.Add(2*time.Minute),
			eventtest.PythonError(3, t0.Add(2*time.Minute), nil), eventtest.PythonError(4, t0.Add(90*time.Second), nil))
		id := first[0].IssueID
		for i, r := range append(later, batch...) {
			if r.NewIssue || r.IssueID != id {
				t.Errorf("event %d: %+v, want issue %d, not new", i+2, r, id)
			}
		}
		is := mustIssue(t, s, a.org.ID, id)
		if is.TimesSeen != 4 || !is.FirstSeen.Equal(t0.Add(-time.Hour)) || !is.LastSeen.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("times seen %d, first %s, last %s", is.TimesSeen, is.FirstSeen, is.LastSeen)
		}
		if is.Level != "error" {
			t.Errorf("level %q: want the latest event's", is.Level)
		}
		if is.ShortID != 1 {
			t.Errorf("short id %d", is.ShortID)
		}
		if got := outboxKinds(drainOutbox(t, s)); !slices.Equal(got, []string{"new_issue", "event", "event", "event"}) {
			t.Errorf("outbox kinds %v", got)
		}
		if got := activityKinds(t, s, id); !slices.Equal(got, []string{"first_seen"}) {
			t.Errorf("activity %v", got)
		}
		issues, err := s.IssueList(context.Background(), a.org.ID, &store.IssueFilter{Page: store.Page{Limit: 10}})
		if err != nil || len(issues) != 1 {
			t.Errorf("issues = %d, %v; want 1", len(issues), err)
		}
	})
}

func TestStore_IngestDuplicate(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		orig := ingest(t, s, a.project, t0, eventtest.PythonError(1, t0, map[string]any{"tags": map[string]any{"browser": "Firefox"}}))
		drainOutbox(t, s)
		for _, tc := range []struct {
			name     string
			payloads []string
		}{
			{"resent", []string{eventtest.PythonError(1, t0.Add(time.Minute), map[string]any{"tags": map[string]any{"browser": "Chrome"}})}},
			// A resent event that now groups elsewhere must not leave an empty issue behind.
			{"resent with another hash", []string{eventtest.PythonError(1, t0, fingerprint("elsewhere"))}},
			{"twice in one batch", []string{eventtest.PythonError(2, t0, nil), eventtest.PythonError(2, t0, nil)}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := ingest(t, s, a.project, t0.Add(time.Minute), tc.payloads...)
				last := res[len(res)-1]
				if !last.Duplicate || last.NewIssue || last.EventRowID != 0 {
					t.Errorf("result %+v, want a duplicate", last)
				}
			})
		}
		is := mustIssue(t, s, a.org.ID, orig[0].IssueID)
		if is.TimesSeen != 2 || !is.LastSeen.Equal(t0) { // event 1 and event 2
			t.Errorf("times seen %d, last seen %s", is.TimesSeen, is.LastSeen)
		}
		issues, err := s.IssueList(ctx, a.org.ID, &store.IssueFilter{Page: store.Page{Limit: 10}})
		if err != nil || len(issues) != 1 {
			t.Fatalf("issues = %d, %v; want 1", len(issues), err)
		}
		if got := outboxKinds(drainOutbox(t, s)); !slices.Equal(got, []string{"event"}) {
			t.Errorf("outbox kinds %v, want only event 2's", got)
		}
		tags, err := s.IssueTags(ctx, is.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags {
			if tg.Key == "browser" && (tg.TotalValues != 1 || tg.Top[0].Value != "Firefox") {
				t.Errorf("browser tag %+v: the resent event was counted", tg)
			}
		}
		ev, err := s.EventGet(ctx, a.org.ID, a.project.ID, eventtest.ID(1))
		if err != nil || !strings.Contains(string(ev.JSON), "Firefox") {
			t.Errorf("event 1 = %s, %v; want the first copy", ev.JSON, err)
		}
	})
}

func TestStore_IngestUsers(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "acme")
		var issueID int64
		for i, tc := range []struct {
			user  map[string]any
			users int64 // the issue's user count after the event
			tag   string
		}{
			{map[string]any{"id": "42"}, 1, "id:42"},
			{map[string]any{"id": "42", "email": "ann@example.com"}, 1, "id:42"}, // the id identifies
			{nil, 1, ""},
			{map[string]any{"email": "ann@example.com"}, 2, "email:ann@example.com"},
			{map[string]any{"email": "ann@example.com", "ip_address": "10.0.0.1"}, 2, "email:ann@example.com"},
			{map[string]any{"ip_address": "10.0.0.1"}, 3, "ip:10.0.0.1"},
			{map[string]any{"ip_address": "10.0.0.2"}, 4, "ip:10.0.0.2"},
			{map[string]any{"username": "bob"}, 5, "username:bob"},
			{map[string]any{"id": "42"}, 5, "id:42"},
		} {
			fields := map[string]any{}
			if tc.user != nil {
				fields["user"] = tc.user
			}
			at := t0.Add(time.Duration(i) * time.Minute)
			res := ingest(t, s, a.project, at, eventtest.PythonError(i+1, at, fields))
			issueID = res[0].IssueID
			is := mustIssue(t, s, a.org.ID, issueID)
			if is.UserCount != tc.users {
				t.Errorf("after event %d (user %v): %d users, want %d", i+1, tc.user, is.UserCount, tc.users)
			}
			ev, err := event.Parse([]byte(eventtest.PythonError(i+1, at, fields)), event.ParseOptions{Received: at})
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.User.Identity(); got != tc.tag {
				t.Errorf("event %d identity %q, want %q", i+1, got, tc.tag)
			}
		}
		tags, err := s.IssueTags(context.Background(), issueID, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tags {
			if tg.Key == "user" {
				if tg.TotalValues != 8 || len(tg.Top) != 5 || tg.Top[0].Value != "id:42" || tg.Top[0].Count != 3 {
					t.Errorf("user tag %+v", tg)
				}
				return
			}
		}
		t.Errorf("no user tag in %v", tags)
	})
}

func TestStore_IngestTagsAndCounts(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		tagged := func(id int, at time.Time, browser string) string {
			return eventtest.PythonError(id, at, map[string]any{"environment": "prod", "release": "1.0",
				"tags": map[string]any{"browser": browser}})
		}
		// Two events in the first minute, one in the second, one an hour later.
		ingest(t, s, a.project, t0, tagged(1, t0, "Firefox"))
		ingest(t, s, a.project, t0.Add(10*time.Second), tagged(2, t0.Add(10*time.Second), "Firefox"))
		ingest(t, s, a.project, t0.Add(70*time.Second), tagged(3, t0.Add(70*time.Second), "Chrome"),
			eventtest.PythonError(4, t0, fingerprint("other")))
		res := ingest(t, s, a.project, t0.Add(time.Hour), tagged(5, t0.Add(time.Hour), "Firefox"))
		id := res[0].IssueID

		tags, err := s.IssueTags(ctx, id, 1)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]*store.TagSummary{}
		var keys []string
		for _, tg := range tags {
			byKey[tg.Key] = tg
			keys = append(keys, tg.Key)
		}
		if want := []string{"browser", "environment", "handled", "level", "mechanism", "release"}; !slices.Equal(keys, want) {
			t.Errorf("tag keys %v, want %v", keys, want)
		}
		if b := byKey["browser"]; b == nil || b.TotalValues != 4 || len(b.Top) != 1 || b.Top[0].Value != "Firefox" ||
			b.Top[0].Count != 3 || !b.Top[0].FirstSeen.Equal(t0) || !b.Top[0].LastSeen.Equal(t0.Add(time.Hour)) {
			t.Errorf("browser tag %+v", b)
		}
		if e := byKey["environment"]; e == nil || e.TotalValues != 4 || e.Top[0].Value != "prod" {
			t.Errorf("environment tag %+v", e)
		}
		if h := byKey["handled"]; h == nil || h.Top[0].Value != "no" {
			t.Errorf("handled tag %+v", h)
		}
		all, err := s.IssueTags(ctx, id, 10)
		if err != nil {
			t.Fatal(err)
		}
		if b := all[0]; b.Key != "browser" || len(b.Top) != 2 || b.Top[1].Value != "Chrome" || b.Top[1].Count != 1 {
			t.Errorf("browser values %+v", b.Top)
		}

		// Per-minute counts, by the time Tocsin received the events.
		stats, err := s.IssueStats(ctx, []int64{id, res[0].IssueID + 1000}, t0, time.Minute, t0.Add(3*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var counts []int64
		for _, p := range stats[id] {
			counts = append(counts, p.Count)
		}
		if !slices.Equal(counts, []int64{2, 1, 0, 0}) || !stats[id][0].Time.Equal(t0) {
			t.Errorf("minute counts %v from %s, want [2 1 0 0] from %s", counts, stats[id][0].Time, t0)
		}
		hourly, err := s.IssueStats(ctx, []int64{id}, t0.Add(-time.Hour+time.Second), time.Hour, t0.Add(time.Hour+time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		counts = counts[:0]
		for _, p := range hourly[id] {
			counts = append(counts, p.Count)
		}
		if !slices.Equal(counts, []int64{0, 3, 1}) {
			t.Errorf("hourly counts %v, want [0 3 1]", counts)
		}
		if len(stats[res[0].IssueID+1000]) != 4 {
			t.Errorf("an issue without counts gets %d zero buckets, want 4", len(stats[res[0].IssueID+1000]))
		}
	})
}

// setStatus changes issues as a person would, at a given time.
func setStatus(t *testing.T, s *store.Store, orgID int64, ids []int64, u *store.IssueUpdate) []*store.Issue {
	t.Helper()
	out, err := s.IssuesUpdate(context.Background(), orgID, ids, u)
	if err != nil {
		t.Fatalf("update issues %v: %v", ids, err)
	}
	return out
}

func TestStore_IngestRegression(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		// Sequential: the cases share the store's outbox.
		for i, tc := range []struct {
			name       string
			resolvedIn string
			release    string // of the event after the resolution
			regression bool
			late       bool // the event happened before the resolution and arrives after it
		}{
			{"resolved", "", "", true, false},
			{"resolved, late event from before", "", "", false, true},
			{"resolved, event of a release", "", "1.0", true, false},
			{"resolved in 1.0, event of 1.0", "1.0", "1.0", false, false},
			{"resolved in 1.0, event without release", "1.0", "", false, false},
			{"resolved in 1.0, event of 1.1", "1.0", "1.1", true, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := newTenant(t, s, fmt.Sprintf("org%d", i))
				res := ingest(t, s, a.project, t0, eventtest.PythonError(1, t0, map[string]any{"release": "1.0"}))
				id := res[0].IssueID
				setStatus(t, s, a.org.ID, []int64{id}, &store.IssueUpdate{Status: ptr(store.StatusResolved),
					ResolvedInRelease: tc.resolvedIn, At: t0.Add(time.Minute)})
				drainOutbox(t, s)
				fields := map[string]any{}
				if tc.release != "" {
					fields["release"] = tc.release
				}
				at, happened := t0.Add(time.Hour), t0.Add(time.Hour)
				if tc.late {
					happened = t0.Add(30 * time.Second)
				}
				r := ingest(t, s, a.project, at, eventtest.PythonError(2, happened, fields))[0]
				if r.Regression != tc.regression || r.IssueID != id || r.NewIssue {
					t.Fatalf("result %+v, want regression %t of issue %d", r, tc.regression, id)
				}
				is := mustIssue(t, s, a.org.ID, id)
				kinds := outboxKinds(drainOutbox(t, s))
				acts, err := s.ActivityList(context.Background(), id, 10)
				if err != nil {
					t.Fatal(err)
				}
				if !tc.regression {
					if is.Status != store.StatusResolved || is.ResolvedInRelease != tc.resolvedIn || is.ResolvedAt == nil {
						t.Errorf("issue %s/%s in %q, want it still resolved in %q", is.Status, is.Substatus, is.ResolvedInRelease, tc.resolvedIn)
					}
					if !slices.Equal(kinds, []string{"event"}) || acts[0].Kind == "set_regression" {
						t.Errorf("outbox %v, latest activity %s", kinds, acts[0].Kind)
					}
					return
				}
				if is.Status != store.StatusUnresolved || is.Substatus != store.SubstatusRegressed ||
					is.ResolvedAt != nil || is.ResolvedInRelease != "" {
					t.Errorf("issue %s/%s, resolved at %v in %q; want unresolved/regressed", is.Status, is.Substatus, is.ResolvedAt, is.ResolvedInRelease)
				}
				if !slices.Equal(kinds, []string{"regression"}) {
					t.Errorf("outbox kinds %v, want [regression]", kinds)
				}
				if acts[0].Kind != "set_regression" || !acts[0].DateCreated.Equal(at) {
					t.Errorf("latest activity %+v, want set_regression at %s", acts[0], at)
				}
				if v, _ := acts[0].Data["version"].(string); v != tc.release {
					t.Errorf("regression activity data %v, want version %q", acts[0].Data, tc.release)
				}
				// Once reopened, the next event is an ordinary one.
				if r := ingest(t, s, a.project, at, eventtest.PythonError(3, at, fields))[0]; r.Regression {
					t.Error("an event on the reopened issue is a second regression")
				}
				if kinds := outboxKinds(drainOutbox(t, s)); !slices.Equal(kinds, []string{"event"}) {
					t.Errorf("outbox after reopening %v", kinds)
				}
			})
		}
	})
}

func TestStore_IngestIgnored(t *testing.T) {
	t.Parallel()
	until := t0.Add(time.Hour)
	// step is one envelope: an event per user ("" sends none), received at t0+at.
	type step struct {
		at     time.Duration
		users  []string
		status string // of the issue afterwards
		kinds  []string
	}
	ignored := []string{"event"}
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		for i, tc := range []struct {
			name      string
			ignore    store.IgnoreOptions
			substatus string // when it comes back
			steps     []step
		}{
			{"forever", store.IgnoreOptions{}, "", []step{
				{2 * time.Minute, []string{""}, "ignored", ignored},
				{24 * time.Hour, []string{"a", "b", "c"}, "ignored", []string{"event", "event", "event"}},
			}},
			{"until 2 more events", store.IgnoreOptions{Count: 2}, store.SubstatusEscalating, []step{
				{2 * time.Minute, []string{""}, "ignored", ignored},
				{3 * time.Minute, []string{""}, "unresolved", []string{"escalating"}},
			}},
			{"until 2 more events in one batch", store.IgnoreOptions{Count: 2}, store.SubstatusEscalating, []step{
				{2 * time.Minute, []string{"", ""}, "unresolved", []string{"event", "escalating"}},
			}},
			{"until 2 events in 10 minutes", store.IgnoreOptions{Count: 2, Window: 10}, store.SubstatusEscalating, []step{
				{30 * time.Minute, []string{""}, "ignored", ignored},
				{45 * time.Minute, []string{""}, "ignored", ignored},
				{54 * time.Minute, []string{""}, "unresolved", []string{"escalating"}},
			}},
			{"until 2 events in 10 minutes, in one batch", store.IgnoreOptions{Count: 2, Window: 10}, store.SubstatusEscalating, []step{
				{30 * time.Minute, []string{""}, "ignored", ignored},
				{45 * time.Minute, []string{"", ""}, "unresolved", []string{"event", "escalating"}},
			}},
			{"until 2 more users", store.IgnoreOptions{UserCount: 2}, store.SubstatusEscalating, []step{
				{2 * time.Minute, []string{"a"}, "ignored", ignored},
				{3 * time.Minute, []string{"a", ""}, "ignored", []string{"event", "event"}},
				{4 * time.Minute, []string{"b"}, "unresolved", []string{"escalating"}},
			}},
			{"until 2 users in 10 minutes", store.IgnoreOptions{UserCount: 2, UserWindow: 10}, store.SubstatusEscalating, []step{
				{30 * time.Minute, []string{"a"}, "ignored", ignored},
				{45 * time.Minute, []string{"b"}, "ignored", ignored},
				{50 * time.Minute, []string{"b"}, "ignored", ignored},
				{54 * time.Minute, []string{"c"}, "unresolved", []string{"escalating"}},
			}},
			{"until a time", store.IgnoreOptions{Until: &until}, store.SubstatusOngoing, []step{
				{59 * time.Minute, []string{"a", "b", "c"}, "ignored", []string{"event", "event", "event"}},
				{time.Hour, []string{""}, "unresolved", []string{"unignored"}},
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := newTenant(t, s, fmt.Sprintf("org%d", i))
				id := ingest(t, s, a.project, t0, eventtest.PythonError(1, t0, nil))[0].IssueID
				is := setStatus(t, s, a.org.ID, []int64{id}, &store.IssueUpdate{Status: ptr(store.StatusIgnored),
					Ignore: tc.ignore, At: t0.Add(time.Minute)})[0]
				wantSub := store.SubstatusUntil
				if tc.ignore == (store.IgnoreOptions{}) {
					wantSub = store.SubstatusForever
				}
				if is.Status != store.StatusIgnored || is.Substatus != wantSub || is.Ignore.BaseCount != 1 {
					t.Fatalf("ignored issue %s/%s, ignore %+v", is.Status, is.Substatus, is.Ignore)
				}
				drainOutbox(t, s)
				n := 1
				for j, st := range tc.steps {
					at := t0.Add(st.at)
					var payloads []string
					for _, u := range st.users {
						n++
						fields := map[string]any{}
						if u != "" {
							fields["user"] = map[string]any{"id": u}
						}
						payloads = append(payloads, eventtest.PythonError(n, at, fields))
					}
					res := ingest(t, s, a.project, at, payloads...)
					is := mustIssue(t, s, a.org.ID, id)
					kinds := outboxKinds(drainOutbox(t, s))
					if is.Status != st.status || !slices.Equal(kinds, st.kinds) {
						t.Fatalf("step %d: issue %s/%s, outbox %v; want %s, %v", j+1, is.Status, is.Substatus, kinds, st.status, st.kinds)
					}
					if st.status == store.StatusIgnored {
						continue
					}
					if !res[len(res)-1].Unignored || is.Substatus != tc.substatus {
						t.Errorf("step %d: result %+v, substatus %q; want unignored, %q", j+1, res[len(res)-1], is.Substatus, tc.substatus)
					}
					if is.Ignore.Until != nil || is.Ignore.Count != 0 || is.Ignore.UserCount != 0 {
						t.Errorf("ignore conditions left on the reopened issue: %+v", is.Ignore)
					}
					if acts := activityKinds(t, s, id); acts[0] != "set_unresolved" {
						t.Errorf("activity %v, want set_unresolved first", acts)
					}
				}
			})
		}
	})
}

func TestStore_IngestReleases(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		b := newTenant(t, s, "globex")
		rel := func(id int, at time.Time, fp, version string) string {
			return eventtest.PythonError(id, at, map[string]any{"fingerprint": []string{fp}, "release": version})
		}
		ingest(t, s, a.project, t0, rel(1, t0, "a", "1.0"))
		ingest(t, s, a.project, t0.Add(2*time.Hour), rel(2, t0.Add(time.Hour), "b", "1.0"), rel(3, t0.Add(2*time.Hour), "a", "1.0"))
		res := ingest(t, s, a.project, t0.Add(3*time.Hour), rel(4, t0.Add(3*time.Hour), "a", "2.0"), rel(5, t0.Add(-time.Hour), "a", "1.0"))
		ingest(t, s, b.project, t0, rel(1, t0, "a", "9.9"))

		for _, tc := range []struct {
			version     string
			first, last time.Time
			newGroups   int
		}{
			{"1.0", t0.Add(-time.Hour), t0.Add(2 * time.Hour), 2},
			{"2.0", t0.Add(3 * time.Hour), t0.Add(3 * time.Hour), 0},
		} {
			r, err := s.ReleaseGet(ctx, a.org.ID, tc.version)
			if err != nil {
				t.Fatalf("release %s: %v", tc.version, err)
			}
			if r.FirstEvent == nil || !r.FirstEvent.Equal(tc.first) || r.LastEvent == nil || !r.LastEvent.Equal(tc.last) ||
				r.NewGroups != tc.newGroups || len(r.Projects) != 1 || r.Projects[0].Slug != "web" {
				t.Errorf("release %s: events %v–%v, new groups %d, projects %v; want %s–%s, %d, [web]",
					tc.version, r.FirstEvent, r.LastEvent, r.NewGroups, r.Projects, tc.first, tc.last, tc.newGroups)
			}
		}
		// The last release is that of the latest event, not of the last one
		// received: event 5 happened before event 4.
		is := mustIssue(t, s, a.org.ID, res[0].IssueID)
		if is.FirstRelease != "1.0" || is.LastRelease != "2.0" {
			t.Errorf("issue releases %q–%q, want 1.0–2.0", is.FirstRelease, is.LastRelease)
		}
		rels, err := s.ReleaseList(ctx, a.org.ID, 0, "", store.Page{Limit: 10})
		if err != nil || len(rels) != 2 {
			t.Errorf("releases of acme = %d, %v; want 2", len(rels), err)
		}
		if _, err := s.ReleaseGet(ctx, a.org.ID, "9.9"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("globex's release seen from acme: %v", err)
		}
		if latest, err := s.LatestRelease(ctx, a.project.ID); err != nil || latest == "" {
			t.Errorf("latest release %q, %v", latest, err)
		}
	})
}

// forEachEngineRaw is storetest.ForEachEngine with a second, plain
// connection to the same database, for checking rows no store method reads.
func forEachEngineRaw(t *testing.T, fn func(t *testing.T, s *store.Store, db *sql.DB)) {
	t.Helper()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			url := storetest.DatabaseURL(t, e)
			s := storetest.OpenURL(t, url)
			driver, dsn := "pgx", url
			if e == store.SQLite {
				driver, dsn = "sqlite", "file:"+strings.TrimPrefix(url, "sqlite:")+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)"
			}
			db, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			fn(t, s, db)
		})
	}
}

// rawCount runs a COUNT or SUM query on the plain connection.
func rawCount(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestStore_IngestItems(t *testing.T) {
	t.Parallel()
	forEachEngineRaw(t, func(t *testing.T, s *store.Store, db *sql.DB) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		p := a.project.ID
		env := newEnvelope(t, a.project, t0, eventtest.PythonError(1, t0, nil))
		env.Transactions = 2
		env.Sessions = []store.SessionUpdate{
			{Release: "1.0", Environment: "prod", Started: t0, Sessions: 1, Errored: 1},
			{Release: "1.0", Environment: "prod", Started: t0.Add(10 * time.Minute), Sessions: 2, Crashed: 1, Abnormal: 1},
			{Release: "1.0", Environment: "dev", Started: t0, Sessions: 4},
		}
		env.Attachments = []store.Attachment{{EventID: eventtest.ID(1), Name: "log.txt", ContentType: "text/plain", Data: []byte("hello")}}
		env.UserReports = []store.UserReport{{EventID: eventtest.ID(1), Name: "Ann", Email: "ann@example.com", Comments: "It broke"}}
		env.Discards = []store.Discard{{Category: "error", Reason: "ratelimit_backoff", Quantity: 3},
			{Category: "error", Reason: "sample_rate", Quantity: 2}, {Category: "transaction", Reason: "sample_rate"}}
		if err := s.IngestBatch(ctx, []*store.IngestEnvelope{env}); err != nil {
			t.Fatal(err)
		}

		hour := t0.Unix() / 3600
		for _, tc := range []struct {
			what  string
			query string
			args  []any
			want  int64
		}{
			{"prod sessions", `SELECT started FROM session_counts WHERE project_id = $1 AND release = '1.0' AND environment = 'prod' AND hour = $2`, []any{p, hour}, 3},
			{"errored sessions", `SELECT errored FROM session_counts WHERE project_id = $1 AND environment = 'prod'`, []any{p}, 1},
			{"crashed sessions", `SELECT crashed + abnormal FROM session_counts WHERE project_id = $1 AND environment = 'prod'`, []any{p}, 2},
			{"dev sessions", `SELECT started FROM session_counts WHERE project_id = $1 AND environment = 'dev'`, []any{p}, 4},
			{"attachments", `SELECT COUNT(*) FROM attachments WHERE project_id = $1 AND event_id = $2 AND name = 'log.txt' AND size = 5`, []any{p, eventtest.ID(1)}, 1},
			{"user reports", `SELECT COUNT(*) FROM user_reports WHERE project_id = $1 AND event_id = $2 AND email = 'ann@example.com' AND comments = 'It broke'`, []any{p, eventtest.ID(1)}, 1},
			{"discarded errors", `SELECT SUM(count) FROM project_counts WHERE project_id = $1 AND category = 'error' AND outcome = 'client_discard'`, []any{p}, 5},
			{"zero discards", `SELECT COUNT(*) FROM project_counts WHERE project_id = $1 AND category = 'transaction' AND outcome = 'client_discard'`, []any{p}, 0},
			{"accepted sessions", `SELECT SUM(count) FROM project_counts WHERE project_id = $1 AND category = 'session' AND outcome = 'accepted'`, []any{p}, 7},
			{"accepted attachments", `SELECT SUM(count) FROM project_counts WHERE project_id = $1 AND category = 'attachment' AND outcome = 'accepted'`, []any{p}, 1},
		} {
			if got := rawCount(t, db, tc.query, tc.args...); got != tc.want {
				t.Errorf("%s = %d, want %d", tc.what, got, tc.want)
			}
		}
		for cat, want := range map[string]int64{"transaction": 2, "error": 1} {
			if n, err := s.ProjectAcceptedSince(ctx, p, cat, t0.Unix()/60); err != nil || n != want {
				t.Errorf("accepted %s = %d, %v; want %d", cat, n, err, want)
			}
		}

		// Cron check-ins: the first creates the monitor from its config; the
		// end of a job updates the check-in its start created.
		checkIn := func(at time.Time, c store.CheckIn) {
			t.Helper()
			env := &store.IngestEnvelope{ProjectID: p, OrganizationID: a.org.ID, Received: at, CheckIns: []store.CheckIn{c}}
			if err := s.IngestBatch(ctx, []*store.IngestEnvelope{env}); err != nil {
				t.Fatal(err)
			}
		}
		next := t0.Add(24 * time.Hour)
		checkIn(t0, store.CheckIn{CheckInID: "c1", MonitorSlug: "nightly", Status: "in_progress", Environment: "prod",
			Config:       &store.MonitorConfig{ScheduleType: "crontab", Schedule: "0 10 * * *", CheckinMargin: 5, MaxRuntime: 30},
			NextExpected: &next})
		running, err := s.CheckInsRunning(ctx, t0.Add(time.Minute), 10)
		if err != nil || len(running) != 1 || running[0].CheckInID != "c1" || running[0].Environment != "prod" ||
			running[0].Monitor.Slug != "nightly" || !running[0].Started.Equal(t0) {
			t.Fatalf("running check-ins = %v, %v", running, err)
		}
		monitor := func() *store.Monitor {
			t.Helper()
			ms, err := s.MonitorsOverdue(ctx, t0.Add(365*24*time.Hour), 10)
			if err != nil || len(ms) != 1 {
				t.Fatalf("monitors = %v, %v; want one", ms, err)
			}
			return ms[0]
		}
		m := monitor()
		if m.Schedule != "0 10 * * *" || m.ScheduleType != "crontab" || m.CheckinMargin != 5 || m.MaxRuntime != 30 ||
			m.Timezone != "UTC" || m.NextCheckIn == nil || !m.NextCheckIn.Equal(next) || m.OrganizationID != a.org.ID {
			t.Errorf("monitor %+v", m)
		}
		if m.Status != "ok" || m.LastCheckIn == nil || !m.LastCheckIn.Equal(t0) {
			t.Errorf("monitor status %q, last check-in %v", m.Status, m.LastCheckIn)
		}
		dur := int64(1200)
		checkIn(t0.Add(20*time.Minute), store.CheckIn{CheckInID: "c1", MonitorSlug: "nightly", Status: "ok", DurationMS: &dur})
		if running, err := s.CheckInsRunning(ctx, t0.Add(time.Hour), 10); err != nil || len(running) != 0 {
			t.Errorf("running check-ins after the end = %v, %v", running, err)
		}
		if n := rawCount(t, db, `SELECT COUNT(*) FROM monitor_checkins WHERE checkin_id = 'c1' AND status = 'ok' AND duration_ms = 1200 AND environment = 'prod'`); n != 1 {
			t.Errorf("check-in c1 rows with the end's status = %d, want 1", n)
		}
		// A later check-in with another config moves the schedule; an error marks the monitor.
		checkIn(t0.Add(time.Hour), store.CheckIn{CheckInID: "c2", MonitorSlug: "nightly", Status: "error",
			Config: &store.MonitorConfig{ScheduleType: "interval", Schedule: "2 hour", Timezone: "Europe/Paris", CheckinMargin: 10}})
		m = monitor()
		if m.ScheduleType != "interval" || m.Schedule != "2 hour" || m.Timezone != "Europe/Paris" || m.CheckinMargin != 10 || m.MaxRuntime != 1 {
			t.Errorf("monitor after config change %+v", m)
		}
		if m.Status != "error" || !m.NextCheckIn.Equal(next) {
			t.Errorf("monitor status %q, next %v", m.Status, m.NextCheckIn)
		}
		if n := rawCount(t, db, `SELECT COUNT(*) FROM monitor_checkins`); n != 2 {
			t.Errorf("%d check-ins, want 2", n)
		}
		if n := rawCount(t, db, `SELECT COUNT(*) FROM monitors`); n != 1 {
			t.Errorf("%d monitors, want 1", n)
		}
	})
}

func TestStore_IngestBatchAtomic(t *testing.T) {
	t.Parallel()
	forEachEngineRaw(t, func(t *testing.T, s *store.Store, db *sql.DB) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		good := func() *store.IngestEnvelope {
			env := newEnvelope(t, a.project, t0, eventtest.PythonError(1, t0, map[string]any{"release": "1.0"}),
				eventtest.PythonError(2, t0, fingerprint("b")))
			env.Transactions = 1
			env.Sessions = []store.SessionUpdate{{Release: "1.0", Started: t0, Sessions: 1}}
			env.Attachments = []store.Attachment{{EventID: eventtest.ID(1), Name: "a.txt", Data: []byte("x")}}
			env.CheckIns = []store.CheckIn{{CheckInID: "c1", MonitorSlug: "nightly", Status: "ok"}}
			return env
		}
		gone := *a.project
		gone.ID = a.project.ID + 1_000_000
		for _, tc := range []struct {
			name string
			envs func() []*store.IngestEnvelope
		}{
			{"bad envelope after a good one", func() []*store.IngestEnvelope {
				return []*store.IngestEnvelope{good(), newEnvelope(t, &gone, t0, eventtest.PythonError(3, t0, nil))}
			}},
			{"bad event between good ones", func() []*store.IngestEnvelope {
				env := good()
				bad := newEnvelope(t, &gone, t0, eventtest.PythonError(3, t0, fingerprint("c")))
				env.Events = []*store.IngestEvent{env.Events[0], bad.Events[0], env.Events[1]}
				return []*store.IngestEnvelope{env}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := s.IngestBatch(ctx, tc.envs()); err == nil {
					t.Fatal("a batch with an event of a missing project was stored")
				}
				issues, err := s.IssueList(ctx, a.org.ID, &store.IssueFilter{Page: store.Page{Limit: 10}})
				if err != nil || len(issues) != 0 {
					t.Errorf("issues after the failed batch: %d, %v", len(issues), err)
				}
				if _, err := s.EventGet(ctx, a.org.ID, a.project.ID, eventtest.ID(1)); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("event 1 after the failed batch: %v", err)
				}
				if n, _ := s.OutboxPending(ctx); n != 0 {
					t.Errorf("%d outbox entries after the failed batch", n)
				}
				if rels, _ := s.ReleaseList(ctx, a.org.ID, 0, "", store.Page{Limit: 10}); len(rels) != 0 {
					t.Errorf("releases after the failed batch: %v", rels)
				}
				for _, table := range []string{"events", "issues", "issue_hashes", "issue_counts", "issue_tags", "project_counts",
					"session_counts", "attachments", "monitors", "monitor_checkins", "activities"} {
					if n := rawCount(t, db, `SELECT COUNT(*) FROM `+table); n != 0 {
						t.Errorf("%d rows in %s after the failed batch", n, table)
					}
				}
			})
		}
		// The same batch without the bad event is stored, with short ids from 1.
		env := good()
		if err := s.IngestBatch(ctx, []*store.IngestEnvelope{env}); err != nil {
			t.Fatal(err)
		}
		for i, r := range env.Results {
			if is := mustIssue(t, s, a.org.ID, r.IssueID); is.ShortID != int64(i+1) {
				t.Errorf("issue %d has short id %d", i+1, is.ShortID)
			}
		}
	})
}

func TestStore_Outbox(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		payloads := func(from, n int) []string {
			var out []string
			for i := range n {
				out = append(out, eventtest.PythonError(from+i, t0, nil))
			}
			return out
		}
		ingest(t, s, a.project, t0, payloads(1, 12)...)
		claim := func(limit int, lease time.Duration) []int64 {
			t.Helper()
			es, err := s.OutboxClaim(ctx, limit, lease)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			return ids
		}

		first := claim(5, time.Hour)
		rest := claim(100, time.Hour)
		if len(first) != 5 || len(rest) != 7 || !slices.IsSorted(append(slices.Clone(first), rest...)) {
			t.Fatalf("claims %v then %v, want 5 then the other 7 in order", first, rest)
		}
		if again := claim(100, time.Hour); len(again) != 0 {
			t.Errorf("leased entries claimed again: %v", again)
		}
		if err := s.OutboxDone(ctx, first); err != nil {
			t.Fatal(err)
		}
		if n, err := s.OutboxPending(ctx); err != nil || n != 7 {
			t.Errorf("pending after done = %d, %v; want 7", n, err)
		}
		if err := s.OutboxDone(ctx, first); err != nil {
			t.Errorf("done twice: %v", err)
		}

		// An entry whose lease ran out (its worker died) is claimed again.
		// The store reads its own clock, so the lease here ends before the
		// next claim instead of the test waiting for it.
		ingest(t, s, a.project, t0, payloads(100, 3)...)
		lapsed := claim(100, -time.Minute)
		if len(lapsed) != 3 {
			t.Fatalf("claimed %v, want the 3 new entries", lapsed)
		}
		if again := claim(100, time.Hour); !slices.Equal(again, lapsed) {
			t.Errorf("after the lease ran out: claimed %v, want %v", again, lapsed)
		}
		if again := claim(100, time.Hour); len(again) != 0 {
			t.Errorf("claimed %v while leased", again)
		}
		if err := s.OutboxDone(ctx, append(rest, lapsed...)); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.OutboxPending(ctx); n != 0 {
			t.Errorf("pending = %d, want 0", n)
		}
	})
}

func TestStore_OutboxConcurrentClaims(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		const events = 60
		var payloads []string
		for i := range events {
			payloads = append(payloads, eventtest.PythonError(i+1, t0, fingerprint(fmt.Sprint(i%7))))
		}
		ingest(t, s, a.project, t0, payloads...)

		const workers = 4
		claimed := make([][]int64, workers)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for {
					es, err := s.OutboxClaim(ctx, 7, time.Hour)
					if err != nil {
						errs[w] = err
						return
					}
					if len(es) == 0 {
						return
					}
					for _, e := range es {
						claimed[w] = append(claimed[w], e.ID)
					}
				}
			})
		}
		wg.Wait()
		seen := map[int64]int{}
		for w := range workers {
			if errs[w] != nil {
				t.Fatalf("worker %d: %v", w, errs[w])
			}
			for _, id := range claimed[w] {
				if prev, dup := seen[id]; dup {
					t.Errorf("entry %d claimed by workers %d and %d", id, prev, w)
				}
				seen[id] = w
			}
		}
		if len(seen) != events {
			t.Errorf("%d entries claimed, want %d", len(seen), events)
		}
	})
}

func TestStore_Purge(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		old := t0.Add(-100 * 24 * time.Hour)
		recent := t0.Add(-24 * time.Hour)
		gone := ingest(t, s, a.project, old, eventtest.PythonError(1, old, fingerprint("old")))[0].IssueID
		kept := ingest(t, s, a.project, old, eventtest.PythonError(2, old, fingerprint("both")))[0].IssueID
		ingest(t, s, a.project, recent, eventtest.PythonError(3, recent, fingerprint("both")))

		n, err := s.Purge(ctx, t0.Add(-90*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("purged %d events, want 2", n)
		}
		if _, err := s.IssueGet(ctx, a.org.ID, gone); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("issue last seen 100 days ago: %v, want it purged", err)
		}
		if _, err := s.IssueGet(ctx, a.org.ID, kept); err != nil {
			t.Errorf("issue seen yesterday: %v", err)
		}
		for id, want := range map[int]bool{1: false, 2: false, 3: true} {
			_, err := s.EventGet(ctx, a.org.ID, a.project.ID, eventtest.ID(id))
			if got := err == nil; got != want {
				t.Errorf("event %d kept = %t (%v), want %t", id, got, err, want)
			}
		}
		stats, err := s.IssueStats(ctx, []int64{kept}, old.Add(-time.Hour), 24*time.Hour, t0)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, p := range stats[kept] {
			total += p.Count
		}
		if total != 1 {
			t.Errorf("counts of the kept issue sum to %d, want 1 (yesterday's)", total)
		}
		if n, err := s.Purge(ctx, t0.Add(-90*24*time.Hour)); err != nil || n != 0 {
			t.Errorf("second purge: %d, %v", n, err)
		}
	})
}

func TestStore_MonitorMissed(t *testing.T) {
	t.Parallel()
	forEachEngineRaw(t, func(t *testing.T, s *store.Store, db *sql.DB) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		deadline := t0.Add(time.Hour + 5*time.Minute)
		env := &store.IngestEnvelope{ProjectID: a.project.ID, OrganizationID: a.org.ID, Received: t0,
			CheckIns: []store.CheckIn{{CheckInID: "c1", MonitorSlug: "hourly", Status: "ok", NextExpected: &deadline,
				Config: &store.MonitorConfig{ScheduleType: "crontab", Schedule: "0 * * * *", CheckinMargin: 5}}}}
		if err := s.IngestBatch(ctx, []*store.IngestEnvelope{env}); err != nil {
			t.Fatal(err)
		}
		if ms, err := s.MonitorsOverdue(ctx, deadline, 10); err != nil || len(ms) != 0 {
			t.Fatalf("overdue at the deadline: %v, %v", ms, err)
		}
		sweep := deadline.Add(time.Second)
		ms, err := s.MonitorsOverdue(ctx, sweep, 10)
		if err != nil || len(ms) != 1 || ms[0].Slug != "hourly" {
			t.Fatalf("overdue after the deadline: %v, %v", ms, err)
		}
		m := ms[0]

		// Two sweeps saw the same deadline; only one records the miss.
		failure := func(n int) *store.MonitorFailure {
			next := t0.Add(2*time.Hour + 5*time.Minute)
			env := newEnvelope(t, a.project, sweep, eventtest.PythonError(n, sweep, map[string]any{
				"logger": "monitor", "fingerprint": []string{"monitor", "hourly"}}))
			env.Events[0].Kind = store.ActivityCheckIn
			return &store.MonitorFailure{Monitor: m, Status: "missed", CheckInID: fmt.Sprintf("missed-%d", n),
				Expected: m.NextCheckIn, Next: &next, Envelope: env}
		}
		fs := []*store.MonitorFailure{failure(1), failure(2)}
		done := make([]bool, len(fs))
		errs := make([]error, len(fs))
		var wg sync.WaitGroup
		for i, f := range fs {
			wg.Go(func() { done[i], errs[i] = s.MonitorRecordFailure(ctx, f) })
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || done[0] == done[1] {
			t.Fatalf("recorded %v, errors %v; want exactly one", done, errs)
		}
		if again, err := s.MonitorRecordFailure(ctx, failure(3)); err != nil || again {
			t.Errorf("a third sweep with the old deadline: %t, %v", again, err)
		}
		if n := rawCount(t, db, `SELECT COUNT(*) FROM monitor_checkins WHERE status = 'missed'`); n != 1 {
			t.Errorf("%d missed check-ins, want 1", n)
		}
		if ms, err := s.MonitorsOverdue(ctx, sweep, 10); err != nil || len(ms) != 0 {
			t.Errorf("still overdue after the miss: %v, %v", ms, err)
		}
		ms, err = s.MonitorsOverdue(ctx, t0.Add(3*time.Hour), 10)
		if err != nil || len(ms) != 1 || ms[0].Status != "error" || !ms[0].NextCheckIn.Equal(t0.Add(2*time.Hour+5*time.Minute)) {
			t.Errorf("monitor after the miss: %v, %v", ms, err)
		}
		issues, err := s.IssueList(ctx, a.org.ID, &store.IssueFilter{Page: store.Page{Limit: 10}})
		if err != nil || len(issues) != 1 || issues[0].TimesSeen != 1 || issues[0].Logger != "monitor" {
			t.Fatalf("issues after the miss: %v, %v", issues, err)
		}
		if kinds := outboxKinds(drainOutbox(t, s)); !slices.Equal(kinds, []string{store.ActivityCheckIn}) {
			t.Errorf("outbox kinds %v", kinds)
		}

		// A job running past its max runtime times out once.
		env = &store.IngestEnvelope{ProjectID: a.project.ID, OrganizationID: a.org.ID, Received: t0.Add(3 * time.Hour),
			CheckIns: []store.CheckIn{{CheckInID: "c9", MonitorSlug: "hourly", Status: "in_progress"}}}
		if err := s.IngestBatch(ctx, []*store.IngestEnvelope{env}); err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{true, false} {
			f := failure(10 + i)
			f.Status, f.CheckInID, f.Expected, f.Next = "timeout", "c9", nil, nil
			if got, err := s.MonitorRecordFailure(ctx, f); err != nil || got != want {
				t.Errorf("timeout %d: %t, %v; want %t", i+1, got, err, want)
			}
		}
		if n := rawCount(t, db, `SELECT COUNT(*) FROM monitor_checkins WHERE checkin_id = 'c9' AND status = 'timeout'`); n != 1 {
			t.Errorf("%d timed-out check-ins, want 1", n)
		}
		if issues, _ := s.IssueList(ctx, a.org.ID, &store.IssueFilter{Page: store.Page{Limit: 10}}); len(issues) != 1 || issues[0].TimesSeen != 2 {
			t.Errorf("issues after the timeout: %v", issues)
		}
	})
}

// An event stored with ClaimUntil queues its outbox entry leased: no
// worker's claim takes it until the lease has run out (its process died
// before handling it), and the result names the entry and its kind for
// the process that hands it over.
func TestStore_IngestLeasedOutbox(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		now := time.Now()
		env := newEnvelope(t, a.project, now,
			eventtest.PythonError(1, now, fingerprint("held")),
			eventtest.PythonError(2, now, fingerprint("expired")),
			eventtest.PythonError(3, now, fingerprint("free")))
		env.Events[0].ClaimUntil = now.Add(time.Hour)
		env.Events[1].ClaimUntil = now.Add(-time.Second)
		if err := s.IngestBatch(ctx, []*store.IngestEnvelope{env}); err != nil {
			t.Fatal(err)
		}
		for i, r := range env.Results {
			if r.OutboxID == 0 || r.Kind != store.ActivityNewIssue || r.IssueID == 0 {
				t.Fatalf("result %d = %+v, want its outbox entry, kind new_issue and issue", i, r)
			}
		}
		es, err := s.OutboxClaim(ctx, 100, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range es {
			got = append(got, e.ID)
		}
		if want := []int64{env.Results[1].OutboxID, env.Results[2].OutboxID}; !slices.Equal(got, want) {
			t.Fatalf("claimed entries %v, want the expired and the unleased %v (not the leased %d)", got, want, env.Results[0].OutboxID)
		}
		if err := s.OutboxDone(ctx, []int64{env.Results[0].OutboxID}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.OutboxPending(ctx); err != nil || n != 2 {
			t.Fatalf("pending %d (%v), want the 2 claimed", n, err)
		}
	})
}

// The issue an ingest result carries (what the rules engine of the same
// process evaluates the event on) is the issue as stored after the event:
// counts, first and last seen, level, releases, status and ignore state.
func TestStore_IngestIssueAfter(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		set := func(id int64, u *store.IssueUpdate) {
			t.Helper()
			u.At = t0
			if _, err := s.IssuesUpdate(ctx, a.org.ID, []int64{id}, u); err != nil {
				t.Fatal(err)
			}
		}
		status := func(st string) *string { return &st }
		fp := fingerprint("after")
		with := func(fields map[string]any) map[string]any {
			out := map[string]any{"fingerprint": fp["fingerprint"]}
			for k, v := range fields {
				out[k] = v
			}
			return out
		}
		steps := []struct {
			name   string
			at     time.Duration
			fields map[string]any
			before func(id int64)
		}{
			{name: "new issue", fields: with(map[string]any{"release": "1.0"})},
			{name: "a user and a release", at: time.Minute, fields: with(map[string]any{"release": "1.1", "level": "warning",
				"user": map[string]any{"id": "ada"}})},
			{name: "an older timestamp", at: -time.Hour, fields: with(map[string]any{"release": "0.9",
				"user": map[string]any{"id": "bo"}})},
			{name: "the same user again", at: 2 * time.Minute, fields: with(map[string]any{"user": map[string]any{"id": "ada"}})},
			{name: "a regression", at: 3 * time.Minute, fields: with(nil), before: func(id int64) {
				set(id, &store.IssueUpdate{Status: status(store.StatusResolved)})
			}},
			{name: "an ignored issue", at: 4 * time.Minute, fields: with(nil), before: func(id int64) {
				set(id, &store.IssueUpdate{Status: status(store.StatusIgnored), Ignore: store.IgnoreOptions{Count: 5}})
			}},
			{name: "an ignore that runs out", at: 5 * time.Minute, fields: with(nil), before: func(id int64) {
				set(id, &store.IssueUpdate{Status: status(store.StatusIgnored), Ignore: store.IgnoreOptions{Count: 1}})
			}},
			{name: "no longer new", at: 4 * 24 * time.Hour, fields: with(nil)},
		}
		var id int64
		for i, st := range steps {
			if st.before != nil {
				st.before(id)
			}
			at := t0.Add(st.at)
			if st.at < 0 {
				at = t0.Add(10 * time.Minute) // received later, happened earlier
			}
			res := ingest(t, s, a.project, at, eventtest.PythonError(100+i, t0.Add(st.at), st.fields))
			id = res[0].IssueID
			got := res[0].Issue
			want := mustIssue(t, s, a.org.ID, id)
			if got == nil {
				t.Fatalf("%s: no issue in the result", st.name)
			}
			// Times as the store keeps them (microseconds), and the fields
			// the store's read adds to an issue's row.
			g := *got
			g.FirstSeen, g.LastSeen = g.FirstSeen.Truncate(time.Microsecond), g.LastSeen.Truncate(time.Microsecond)
			w := *want
			w.FirstSeen, w.LastSeen = w.FirstSeen.UTC(), w.LastSeen.UTC()
			g.FirstSeen, g.LastSeen = g.FirstSeen.UTC(), g.LastSeen.UTC()
			if (g.ResolvedAt == nil) != (w.ResolvedAt == nil) {
				t.Errorf("%s: resolved at %v, stored %v", st.name, g.ResolvedAt, w.ResolvedAt)
			}
			g.ResolvedAt, w.ResolvedAt = nil, nil
			if (g.Ignore.Until == nil) != (w.Ignore.Until == nil) {
				t.Errorf("%s: ignored until %v, stored %v", st.name, g.Ignore.Until, w.Ignore.Until)
			}
			g.Ignore.Until, w.Ignore.Until = nil, nil
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s: result's issue\n%+v\nstored\n%+v", st.name, g, w)
			}
		}
	})
}
