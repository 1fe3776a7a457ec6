package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
	"github.com/tocsin/tocsin/worker"
)

// The rules end-to-end tests run `tocsin run`'s shape: the server, and a
// worker handing activities to the rules engine (with its sweep), from
// ingest in memory and from the outbox, over a real store on each engine. Events come from the official Sentry Go SDK;
// what the tests read is the notification requests fired rules made.

// alerting is a running server and worker with rules.
type alerting struct {
	*tocsinServer
	sdk *sdk
	reg *prometheus.Registry // the worker's metrics
}

// newAlerting starts a server, stores the rules made by mk (before the
// worker starts, so that the engine reads them on its first evaluation),
// then starts the worker.
func newAlerting(t *testing.T, st *store.Store, mk func(a *alerting)) *alerting {
	t.Helper()
	return newAlertingVia(t, st, "local", mk)
}

// newAlertingVia is newAlerting with activities reaching the engine from
// ingest in memory ("local", as `tocsin run`), or only through the
// store's outbox ("outbox", as a `tocsin run web` and a `tocsin run
// worker` process).
func newAlertingVia(t *testing.T, st *store.Store, via string, mk func(a *alerting)) *alerting {
	t.Helper()
	f := newFixture(t, st)
	if via == "local" {
		f.local = worker.NewLocal(worker.DefaultLocalCapacity)
	}
	a := &alerting{tocsinServer: f.serve(t)}
	a.sdk = newSDK(t, a.dsn(a.boot.Key), sentry.ClientOptions{Environment: "production", Release: "shop@1.0"})
	mk(a)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg := prometheus.NewRegistry()
	a.reg = reg
	engine, err := rules.NewEngine(st, log, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	wk, err := worker.New(worker.Config{Role: "all", Version: "test", Local: f.local,
		Handlers: []worker.ActivityHandler{engine},
		Periodic: []worker.Periodic{{Name: "rules sweep", Interval: time.Minute, Run: engine.Sweep}},
	}, st, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := wk.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		wk.Stop(ctx)
	})
	return a
}

// activities is how many activities the worker handled from a source.
func (a *alerting) activities(t *testing.T, source string) float64 {
	t.Helper()
	mfs, err := a.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "tocsin_worker_activities_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == source {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// waitActivities waits until the worker counted n activities from source
// (it counts them just after clearing them from the outbox).
func (a *alerting) waitActivities(t *testing.T, source string, n float64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%v activities from %s", n, source), func() bool { return a.activities(t, source) == n })
}

// rule validates a rule and stores it in the default project.
func (a *alerting) rule(t *testing.T, r rules.Rule) *store.Rule {
	t.Helper()
	r.ProjectID = a.boot.Project.ID
	r.Actions = []rules.Node{{ID: rules.SlackNotify, Fields: map[string]any{"workspace": "1", "channel": "#ops"}}}
	if err := rules.Validate(&r); err != nil {
		t.Fatalf("rule %q: %v", r.Name, err)
	}
	sr, err := a.st.RuleCreate(context.Background(), a.boot.Organization.ID, r.ToStore())
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

func node(id string, fields map[string]any) []rules.Node {
	return []rules.Node{{ID: id, Fields: fields}}
}

// capture sends a message event through the SDK; events of one message
// make one issue. It returns the event id once Tocsin stored the event.
func (a *alerting) capture(t *testing.T, message string, tags map[string]string) string {
	t.Helper()
	hub := a.sdk.hub()
	hub.Scope().SetLevel(sentry.LevelError)
	hub.Scope().SetTags(tags)
	return a.sdk.accepted(t, hub.CaptureMessage(message))
}

// waitFor polls until ok holds, failing the test at the deadline.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// notified lists the notification requests of a rule, oldest first.
func (a *alerting) notified(t *testing.T, ruleID int64) []*store.Notification {
	t.Helper()
	all, err := a.st.NotificationList(context.Background(), a.boot.Project.ID, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []*store.Notification
	for i := len(all) - 1; i >= 0; i-- {
		if n := all[i]; n.RuleID != nil && *n.RuleID == ruleID {
			out = append(out, n)
		}
	}
	return out
}

// waitNotified waits until a rule has made n notification requests.
func (a *alerting) waitNotified(t *testing.T, r *store.Rule, n int) []*store.Notification {
	t.Helper()
	var got []*store.Notification
	waitFor(t, "rule "+r.Name+" to fire", func() bool {
		got = a.notified(t, r.ID)
		return len(got) >= n
	})
	return got
}

func TestRules_SentryGoSDK(t *testing.T) {
	t.Parallel()

	t.Run("first seen fires once", func(t *testing.T) {
		t.Parallel()
		storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
			var first *store.Rule
			a := newAlerting(t, st, func(a *alerting) {
				first = a.rule(t, rules.Rule{Name: "new issue", Conditions: node(rules.FirstSeen, nil)})
			})
			id1 := a.capture(t, "payment provider timed out", nil)
			id2 := a.capture(t, "payment provider timed out", nil)
			ns := a.waitNotified(t, first, 1)
			a.evaluated(t)
			if ns = a.notified(t, first.ID); len(ns) != 1 || ns[0].EventID != id1 || ns[0].Reason != store.ActivityNewIssue {
				t.Fatalf("notifications %s, want one for the first event %s (not %s), reason new_issue", describe(ns), id1, id2)
			}
			if e1, e2 := a.event(t, id1), a.event(t, id2); e1.GroupID != e2.GroupID {
				t.Fatalf("the two events made issues %s and %s", e1.GroupID, e2.GroupID)
			}
			// Both came from ingest in memory, not back from the store.
			a.waitActivities(t, "local", 2)
			// The project's default rule (a new issue emails its owners)
			// fired once too.
			rs, err := st.RuleList(context.Background(), a.boot.Organization.ID, a.boot.Project.ID, store.Page{Limit: 10})
			if err != nil || len(rs) != 2 {
				t.Fatalf("rules %d (%v), want the default rule and the test's", len(rs), err)
			}
			if def := a.notified(t, rs[0].ID); len(def) != 1 {
				t.Errorf("the default rule made %d notification requests, want 1", len(def))
			}
		})
	})

	for _, via := range []string{"local", "outbox"} {
		t.Run("frequency fires on the 4th event and not again, via "+via, func(t *testing.T) {
			t.Parallel()
			storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
				var spike *store.Rule
				a := newAlertingVia(t, st, via, func(a *alerting) {
					spike = a.rule(t, rules.Rule{Name: "spike", Frequency: 30, Conditions: node(rules.EventFrequency,
						map[string]any{"value": json.Number("3"), "interval": "1h", "comparisonType": "count"})})
				})
				for i := range 3 {
					a.capture(t, "inventory sync failed", nil)
					a.evaluated(t) // each event is evaluated before the next comes
					if ns := a.notified(t, spike.ID); len(ns) != 0 {
						t.Fatalf("fired after %d events: %s", i+1, describe(ns))
					}
				}
				fourth := a.capture(t, "inventory sync failed", nil)
				ns := a.waitNotified(t, spike, 1)
				if ns[0].EventID != fourth {
					t.Errorf("fired for event %s, want the 4th, %s", ns[0].EventID, fourth)
				}
				a.capture(t, "inventory sync failed", nil)
				a.capture(t, "inventory sync failed", nil)
				a.evaluated(t)
				if ns := a.notified(t, spike.ID); len(ns) != 1 {
					t.Errorf("within the rule's frequency: %s, want the one firing", describe(ns))
				}
				a.waitActivities(t, via, 6)
			})
		})
	}

	t.Run("regression fires after resolve", func(t *testing.T) {
		t.Parallel()
		storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
			var reg *store.Rule
			a := newAlerting(t, st, func(a *alerting) {
				reg = a.rule(t, rules.Rule{Name: "regression", Conditions: node(rules.Regression, nil)})
			})
			first := a.capture(t, "cache stampede on product page", nil)
			a.evaluated(t)
			issueID := a.event(t, first).GroupID
			var resolved apiIssue
			if code := a.api(t, http.MethodPut, "/api/0/issues/"+issueID+"/", map[string]any{"status": "resolved"}, &resolved); code != http.StatusOK {
				t.Fatalf("resolve issue %s: %d", issueID, code)
			}
			a.evaluated(t) // the status change
			if ns := a.notified(t, reg.ID); len(ns) != 0 {
				t.Fatalf("fired before the regression: %s", describe(ns))
			}
			again := a.capture(t, "cache stampede on product page", nil)
			ns := a.waitNotified(t, reg, 1)
			if ns[0].EventID != again || ns[0].Reason != store.ActivityRegression || ns[0].IssueID == nil {
				t.Errorf("notification %s, want one for event %s, reason regression", describe(ns), again)
			}
			if is := a.issue(t, issueID); is.Status != "unresolved" {
				t.Errorf("issue status %q after the regression, want unresolved", is.Status)
			}
		})
	})

	t.Run("snoozed rule does not fire", func(t *testing.T) {
		t.Parallel()
		storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
			var snoozed, canary *store.Rule
			a := newAlerting(t, st, func(a *alerting) {
				snoozed = a.rule(t, rules.Rule{Name: "every event, snoozed", Frequency: 1, Conditions: node(rules.EveryEvent, nil)})
				canary = a.rule(t, rules.Rule{Name: "canary", Conditions: node(rules.FirstSeen, nil),
					Filters: node(rules.TaggedEvent, map[string]any{"key": "canary", "match": "eq", "value": "yes"})})
				if err := st.RuleSnooze(context.Background(), &store.Snooze{RuleID: snoozed.ID, CreatedBy: &a.boot.User.ID}); err != nil {
					t.Fatal(err)
				}
			})
			a.capture(t, "search index is stale", nil)
			a.capture(t, "search index is stale", nil)
			// A later event that fires another rule: once it fired, the
			// worker has evaluated the earlier ones.
			later := a.capture(t, "canary: checkout is slow", map[string]string{"canary": "yes"})
			if ns := a.waitNotified(t, canary, 1); ns[0].EventID != later {
				t.Fatalf("canary fired for %s, want %s", ns[0].EventID, later)
			}
			if ns := a.notified(t, snoozed.ID); len(ns) != 0 {
				t.Errorf("the snoozed rule fired: %s", describe(ns))
			}
		})
	})
}

func describe(ns []*store.Notification) string {
	if len(ns) == 0 {
		return "none"
	}
	s := ""
	for _, n := range ns {
		s += "[event " + n.EventID + " reason " + n.Reason + "]"
	}
	return s
}
