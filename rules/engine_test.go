package rules_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

func TestEngine_Snooze(t *testing.T) {
	t.Parallel()
	m := time.Minute
	for _, tc := range []struct {
		name string
		// snooze is the rule's snooze; UserID -1 stands for the test's user.
		snooze store.Snooze
		at     time.Duration // when the event comes
		fires  int64
		muted  bool // the firing lists the user as muted
	}{
		{name: "for everyone", snooze: store.Snooze{}, fires: 0},
		{name: "for everyone until later", snooze: store.Snooze{Until: ptr(t0.Add(10 * m))}, at: 5 * m, fires: 0},
		{name: "for everyone until a past time", snooze: store.Snooze{Until: ptr(t0.Add(-time.Hour))}, fires: 1},
		{name: "for everyone, run out", snooze: store.Snooze{Until: ptr(t0.Add(10 * m))}, at: 10 * m, fires: 1},
		{name: "for a user", snooze: store.Snooze{UserID: -1}, fires: 1, muted: true},
		{name: "for a user until later", snooze: store.Snooze{UserID: -1, Until: ptr(t0.Add(time.Hour))}, fires: 1, muted: true},
		{name: "for a user until a past time", snooze: store.Snooze{UserID: -1, Until: ptr(t0.Add(-m))}, fires: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				b := setup(t, s)
				snoozed := b.rule(t, rules.Rule{Name: "snoozed", Conditions: mustNodes("[" + firstSeen + "]")})
				other := b.rule(t, rules.Rule{Name: "other", Conditions: mustNodes("[" + firstSeen + "]")})
				sn := tc.snooze
				sn.RuleID = snoozed.ID
				if sn.UserID == -1 {
					sn.UserID = b.user.ID
				}
				if err := s.RuleSnooze(ctx, &sn); err != nil {
					t.Fatal(err)
				}
				b.send(t, t0.Add(tc.at))
				b.checkFires(t, snoozed, tc.fires, "snoozed rule")
				b.checkFires(t, other, 1, "the other rule") // the engine ran
				wantMuted := ""
				if tc.muted {
					wantMuted = fmt.Sprint(b.user.ID)
				}
				for _, n := range b.notifications(t, snoozed.ID) {
					if n.MutedUsers != wantMuted {
						t.Errorf("notification %d: muted users %q, want %q", n.ID, n.MutedUsers, wantMuted)
					}
				}
				for _, n := range b.notifications(t, other.ID) {
					if n.MutedUsers != "" {
						t.Errorf("the other rule's notification %d mutes %q", n.ID, n.MutedUsers)
					}
				}
			})
		})
	}

	t.Run("unsnoozed fires again", func(t *testing.T) {
		t.Parallel()
		storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
			ctx := context.Background()
			b := setup(t, s)
			r := b.rule(t, rules.Rule{Conditions: mustNodes("[" + everyEvent + "]"), Frequency: 1})
			if err := s.RuleSnooze(ctx, &store.Snooze{RuleID: r.ID}); err != nil {
				t.Fatal(err)
			}
			b.send(t, t0)
			b.checkFires(t, r, 0, "snoozed")
			if err := s.RuleUnsnooze(ctx, r.ID, 0); err != nil {
				t.Fatal(err)
			}
			b.send(t, t0.Add(time.Minute))
			b.checkFires(t, r, 1, "unsnoozed")
		})
	})
}

func TestEngine_FailingRule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		conditions string
		filters    string
		wantErr    string
	}{
		{name: "invalid regular expression", conditions: "[" + everyEvent + "]",
			filters: "[" + tagged("browser", "re", "(unclosed") + "]", wantErr: "regular expression"},
		{name: "unknown condition", conditions: `[{"id": "sentry.rules.conditions.nope.NopeCondition"}]`,
			filters: "[]", wantErr: "unknown condition"},
		{name: "unknown filter", conditions: "[" + everyEvent + "]",
			filters: `[{"id": "sentry.rules.filters.nope.NopeFilter"}]`, wantErr: "unknown filter"},
		{name: "unknown match operator", conditions: "[" + everyEvent + "]",
			filters: "[" + tagged("browser", "like", "fire%") + "]", wantErr: "unknown match"},
		{name: "conditions that are not JSON", conditions: `[{"id": `, filters: "[]", wantErr: "rule"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				b := setup(t, s)
				// Stored directly, as a bug or an older version might have
				// left it: Validate would refuse it.
				bad, err := s.RuleCreate(ctx, b.org.ID, &store.Rule{ProjectID: b.project.ID, Name: "broken",
					ActionMatch: "all", FilterMatch: "all", Frequency: 1, Status: "active",
					Conditions: tc.conditions, Filters: tc.filters, Actions: strings.Join(strings.Fields(twoActions), " ")})
				if err != nil {
					t.Fatal(err)
				}
				good := b.rule(t, rules.Rule{Name: "good", Conditions: mustNodes("[" + everyEvent + "]"), Frequency: 1})

				b.send(t, t0, map[string]any{"tags": map[string]any{"browser": "Firefox 120"}})
				b.checkFires(t, good, 1, "the good rule")
				b.checkFires(t, bad, 0, "the broken rule")
				got, err := s.RuleGet(ctx, b.org.ID, b.project.ID, bad.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(got.LastError, tc.wantErr) || got.LastErrorAt == nil {
					t.Errorf("broken rule: last error %q at %v, want one about %q", got.LastError, got.LastErrorAt, tc.wantErr)
				}
				if g, err := s.RuleGet(ctx, b.org.ID, b.project.ID, good.ID); err != nil || g.LastError != "" {
					t.Errorf("good rule: last error %q (%v), want none", g.LastError, err)
				}
			})
		})
	}
}

func TestEngine_FiresOnceConcurrently(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := setup(t, s)
		r := b.rule(t, rules.Rule{Conditions: mustNodes("[" + firstSeen + "]")})
		b.store(t, b.envelope(t, t0, b.payload(t0, nil)))
		entries, err := s.OutboxClaim(ctx, 10, time.Hour)
		if err != nil || len(entries) != 1 {
			t.Fatalf("outbox: %d entries (%v), want 1", len(entries), err)
		}
		is, err := s.IssueByID(ctx, entries[0].IssueID)
		if err != nil {
			t.Fatal(err)
		}
		// Two workers, each with several goroutines, hand the same
		// activity to the engine at once, as after a lease ran out.
		engines := []*rules.Engine{b.engine, b.newEngine(t)}
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			e := engines[i%2]
			wg.Go(func() {
				errs <- e.Evaluate(ctx, &rules.Activity{Kind: entries[0].Kind, Issue: is, EventRowID: *entries[0].EventRowID, Now: t0})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		b.checkFires(t, r, 1, "16 concurrent evaluations of one activity")
		// At least once: the same activity again, later, still fires once.
		if err := b.engine.Evaluate(ctx, &rules.Activity{Kind: entries[0].Kind, Issue: is, EventRowID: *entries[0].EventRowID, Now: t0}); err != nil {
			t.Fatal(err)
		}
		b.checkFires(t, r, 1, "the activity handed out again")
		ns := b.notifications(t, r.ID)
		if ns[0].EventID != b.lastEvent || ns[0].Reason != store.ActivityNewIssue || *ns[0].IssueID != is.ID {
			t.Errorf("notification = %+v, want event %s of issue %d, reason %s", ns[0], b.lastEvent, is.ID, store.ActivityNewIssue)
		}
	})
}

func TestEngine_Sweep(t *testing.T) {
	t.Parallel()
	m := time.Minute
	// Validate normalizes a rule's nodes in place: each rule gets its own.
	frequency := func() []rules.Node {
		return mustNodes(`[{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 3, "interval": "1h"}]`)
	}
	for _, tc := range []struct {
		name string
		// prepare stores events and rules; the sweep runs at sweepAt.
		prepare func(t *testing.T, b *bundle) *store.Rule
		sweepAt time.Duration
		fires   int64
	}{
		{name: "crossed while the rule was snoozed", sweepAt: 11 * m, fires: 1,
			prepare: func(t *testing.T, b *bundle) *store.Rule {
				r := b.rule(t, rules.Rule{Conditions: frequency()})
				if err := b.st.RuleSnooze(context.Background(), &store.Snooze{RuleID: r.ID, Until: ptr(t0.Add(10 * m))}); err != nil {
					t.Fatal(err)
				}
				for i := range 5 {
					b.send(t, t0.Add(time.Duration(i)*m))
				}
				b.checkFires(t, r, 0, "snoozed")
				return r
			}},
		{name: "crossed before the rule existed", sweepAt: 6 * m, fires: 1,
			prepare: func(t *testing.T, b *bundle) *store.Rule {
				for i := range 4 {
					b.send(t, t0.Add(time.Duration(i)*m))
				}
				return b.rule(t, rules.Rule{Conditions: frequency()})
			}},
		{name: "not crossed", sweepAt: 6 * m, fires: 0,
			prepare: func(t *testing.T, b *bundle) *store.Rule {
				for i := range 3 {
					b.send(t, t0.Add(time.Duration(i)*m))
				}
				return b.rule(t, rules.Rule{Conditions: frequency()})
			}},
		{name: "the events are older than the interval", sweepAt: 2 * time.Hour, fires: 0,
			prepare: func(t *testing.T, b *bundle) *store.Rule {
				for i := range 4 {
					b.send(t, t0.Add(time.Duration(i)*m))
				}
				return b.rule(t, rules.Rule{Conditions: frequency()})
			}},
		{name: "resolved issue", sweepAt: 6 * m, fires: 0,
			prepare: func(t *testing.T, b *bundle) *store.Rule {
				for i := range 4 {
					b.send(t, t0.Add(time.Duration(i)*m))
				}
				resolve(t, b, t0.Add(5*m))
				return b.rule(t, rules.Rule{Conditions: frequency()})
			}},
		{name: "in the rule's environment", sweepAt: 6 * m, fires: 1,
			prepare: func(t *testing.T, b *bundle) *store.Rule {
				for i := range 4 {
					b.send(t, t0.Add(time.Duration(i)*m))
				}
				return b.rule(t, rules.Rule{Conditions: frequency(), Environment: "production"})
			}},
		{name: "in another environment", sweepAt: 6 * m, fires: 0,
			prepare: func(t *testing.T, b *bundle) *store.Rule {
				for i := range 4 {
					b.send(t, t0.Add(time.Duration(i)*m))
				}
				return b.rule(t, rules.Rule{Conditions: frequency(), Environment: "staging"})
			}},
		{name: "a rule without frequency conditions", sweepAt: 6 * m, fires: 0,
			prepare: func(t *testing.T, b *bundle) *store.Rule {
				// The sweep is for volume; "none of first seen or
				// regression" is about events, and fires on them only.
				r := b.rule(t, rules.Rule{ActionMatch: "none", Conditions: mustNodes("[" + firstSeen + "," + regression + "]")})
				b.send(t, t0)
				// A frequency rule makes the project's issues swept.
				b.rule(t, rules.Rule{Conditions: frequency()})
				return r
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
				b := setup(t, s)
				r := tc.prepare(t, b)
				// A new engine, as rules just created would be read
				// after the cache's time.
				e := b.newEngine(t)
				b.clock.Set(t0.Add(tc.sweepAt))
				if err := e.Sweep(context.Background()); err != nil {
					t.Fatal(err)
				}
				b.checkFires(t, r, tc.fires, "after the sweep")
				if tc.fires > 0 {
					if n := b.notifications(t, r.ID)[0]; n.Reason != "sweep" || !n.DateCreated.Equal(t0.Add(tc.sweepAt)) {
						t.Errorf("notification = %+v, want reason sweep at t0+%v", n, tc.sweepAt)
					}
				}
				// The next sweep, within the rule's frequency, does not
				// fire again.
				b.clock.Set(t0.Add(tc.sweepAt + time.Minute))
				if err := e.Sweep(context.Background()); err != nil {
					t.Fatal(err)
				}
				b.checkFires(t, r, tc.fires, "after the next sweep")
			})
		})
	}
}

func TestEngine_HandleActivities(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := setup(t, s)
		every := b.rule(t, rules.Rule{Name: "every", Conditions: mustNodes("[" + everyEvent + "]"), Frequency: 1})
		first := b.rule(t, rules.Rule{Name: "first", Conditions: mustNodes("[" + firstSeen + "]")})
		// Two events of one issue and one of another; a status change;
		// then the other issue is deleted before the worker gets to it.
		b.store(t, b.envelope(t, t0, b.payload(t0, nil)))
		kept := b.lastIssue
		b.store(t, b.envelope(t, t0.Add(time.Minute), b.payload(t0.Add(time.Minute), nil)))
		resolve(t, b, t0.Add(2*time.Minute))
		b.store(t, b.envelope(t, t0.Add(3*time.Minute), b.payload(t0.Add(3*time.Minute), issue("refund"))))
		entries, err := s.OutboxClaim(ctx, 100, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, en := range entries {
			kinds = append(kinds, en.Kind)
		}
		if want := []string{store.ActivityNewIssue, store.ActivityEvent, store.ActivityStatus, store.ActivityNewIssue}; fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Fatalf("outbox kinds %v, want %v", kinds, want)
		}
		if err := s.IssuesDelete(ctx, b.org.ID, []int64{b.lastIssue}); err != nil {
			t.Fatal(err)
		}
		if err := b.engine.HandleActivities(ctx, entries); err != nil {
			t.Fatal(err)
		}
		// Each activity is evaluated at its own time: the every-event rule
		// (frequency one minute) fires for both events of the kept issue.
		b.checkFires(t, every, 2, "every event")
		b.checkFires(t, first, 1, "first seen")
		for _, n := range b.notifications(t, 0) {
			if *n.IssueID != kept {
				t.Errorf("notification %d for issue %d, want only the kept issue %d", n.ID, *n.IssueID, kept)
			}
		}
	})
}

// Rules are cached, but a rule created (or snoozed) a moment ago applies to
// the very next activity: the engine compares the project's rules version.
func TestEngine_RuleChangesApplyAtOnce(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := setup(t, s)
		first := b.rule(t, rules.Rule{Name: "first", Conditions: mustNodes("[" + everyEvent + "]"), Frequency: 5})
		b.send(t, t0)
		b.checkFires(t, first, 1, "before the second rule existed")
		second := b.rule(t, rules.Rule{Name: "second", Conditions: mustNodes("[" + everyEvent + "]"), Frequency: 5})
		b.send(t, t0.Add(time.Second))
		b.checkFires(t, second, 1, "a second after it was created")
		if err := s.RuleSnooze(ctx, &store.Snooze{RuleID: first.ID}); err != nil {
			t.Fatal(err)
		}
		b.send(t, t0.Add(6*time.Minute)) // past the frequency of both
		b.checkFires(t, first, 1, "snoozed a moment before")
		b.checkFires(t, second, 2, "not snoozed")
	})
}
