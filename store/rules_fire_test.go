package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// RulesFire judges firings in order, even several of one rule for one
// issue in one call; each that fires gets one history row and one
// notification request per action, pointing at that row.
func TestStore_RulesFireBatch(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		res := ingest(t, s, a.project, t0,
			eventtest.PythonError(1, t0, fingerprint("one")), eventtest.PythonError(2, t0, fingerprint("two")))
		i1, i2 := res[0].IssueID, res[1].IssueID
		var ruleIDs []int64
		for n := range 2 {
			r, err := s.RuleCreate(ctx, a.org.ID, &store.Rule{ProjectID: a.project.ID, Name: fmt.Sprint("rule ", n),
				ActionMatch: "all", FilterMatch: "all", Frequency: 30, Conditions: "[]", Filters: "[]", Actions: "[]", Status: "active"})
			if err != nil {
				t.Fatal(err)
			}
			ruleIDs = append(ruleIDs, r.ID)
		}
		r1, r2 := ruleIDs[0], ruleIDs[1]
		firing := func(rule, issue int64, at time.Duration, actions ...string) *store.RuleFiring {
			return &store.RuleFiring{RuleID: rule, ProjectID: a.project.ID, IssueID: issue, EventID: eventtest.ID(int(at / time.Minute)),
				Reason: store.ActivityEvent, Frequency: 30 * time.Minute, At: t0.Add(at), Actions: actions}
		}
		fs := []*store.RuleFiring{
			firing(r1, i1, 0, `{"a":1}`, `{"a":2}`),
			firing(r2, i1, 0, `{"b":1}`),
			firing(r1, i1, time.Minute, `{"a":1}`, `{"a":2}`), // within the first's frequency
			firing(r1, i2, time.Minute, `{"a":1}`),
			firing(r1, i1, 31*time.Minute, `{"a":1}`, `{"a":2}`), // after it
		}
		fired, err := s.RulesFire(ctx, fs)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true, false, true, true}; !slices.Equal(fired, want) {
			t.Fatalf("fired %v, want %v", fired, want)
		}
		ns, err := s.NotificationList(ctx, a.project.ID, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(ns) // oldest first
		type got struct {
			rule, issue int64
			event, act  string
		}
		var gots []got
		fires := map[int64]got{} // fire id → its rule and issue
		for _, n := range ns {
			g := got{*n.RuleID, *n.IssueID, n.EventID, n.Action}
			gots = append(gots, g)
			if prev, ok := fires[n.FireID]; ok && (prev.rule != g.rule || prev.issue != g.issue || prev.event != g.event) {
				t.Errorf("fire %d holds requests of %+v and %+v", n.FireID, prev, g)
			}
			fires[n.FireID] = g
		}
		want := []got{
			{r1, i1, eventtest.ID(0), `{"a":1}`}, {r1, i1, eventtest.ID(0), `{"a":2}`},
			{r2, i1, eventtest.ID(0), `{"b":1}`},
			{r1, i2, eventtest.ID(1), `{"a":1}`},
			{r1, i1, eventtest.ID(31), `{"a":1}`}, {r1, i1, eventtest.ID(31), `{"a":2}`},
		}
		if !slices.Equal(gots, want) {
			t.Errorf("requests\n got %+v\nwant %+v", gots, want)
		}
		if len(fires) != 4 {
			t.Errorf("%d firings recorded, want 4", len(fires))
		}
		last, err := s.RuleLastFired(ctx, i1)
		if err != nil || !last[r1].Equal(t0.Add(31*time.Minute)) || !last[r2].Equal(t0) {
			t.Errorf("last fired %v (%v), want rule 1 at +31m and rule 2 at +0", last, err)
		}

		// A rule or an issue deleted since the evaluation fires nothing,
		// and does not fail the others.
		if err := s.IssuesDelete(ctx, a.org.ID, []int64{i2}); err != nil {
			t.Fatal(err)
		}
		if err := s.RuleDelete(ctx, a.org.ID, a.project.ID, r2); err != nil {
			t.Fatal(err)
		}
		fired, err = s.RulesFire(ctx, []*store.RuleFiring{
			firing(r1, i2, 2*time.Hour, `{"a":1}`), firing(r2, i1, 2*time.Hour, `{"b":1}`), firing(r1, i1, 2*time.Hour, `{"a":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{false, false, true}; !slices.Equal(fired, want) {
			t.Errorf("after the deletes: fired %v, want %v", fired, want)
		}
	})
}
