package rules

import (
	"testing"

	"github.com/tocsin/tocsin/store"
)

func TestRuleMayFire(t *testing.T) {
	cond := func(ids ...string) []Node {
		var ns []Node
		for _, id := range ids {
			ns = append(ns, Node{ID: id})
		}
		return ns
	}
	for _, tc := range []struct {
		name  string
		match string
		conds []Node
		kind  string
		want  bool
	}{
		{"first seen on a new issue", MatchAll, cond(FirstSeen), store.ActivityNewIssue, true},
		{"first seen on a plain event", MatchAll, cond(FirstSeen), store.ActivityEvent, false},
		{"any of first seen, regression on a regression", MatchAny, cond(FirstSeen, Regression), store.ActivityRegression, true},
		{"any of first seen, regression on a plain event", MatchAny, cond(FirstSeen, Regression), store.ActivityEvent, false},
		{"all of first seen and frequency on a plain event", MatchAll, cond(FirstSeen, EventFrequency), store.ActivityEvent, false},
		{"frequency on a plain event", MatchAll, cond(EventFrequency), store.ActivityEvent, true},
		{"every event", MatchAny, cond(EveryEvent), store.ActivityEvent, true},
		{"reappeared on unignored", MatchAny, cond(Reappeared), store.ActivityUnignored, true},
		{"monitor failure on a check-in", MatchAny, cond(MonitorFailure), store.ActivityCheckIn, true},
		{"monitor failure on a plain event", MatchAny, cond(MonitorFailure), store.ActivityEvent, false},
		{"none of first seen on a plain event", MatchNone, cond(FirstSeen), store.ActivityEvent, true},
		{"no conditions", MatchAll, nil, store.ActivityEvent, true},
	} {
		r := &Rule{ActionMatch: tc.match, Conditions: tc.conds}
		if got := r.mayFire(tc.kind); got != tc.want {
			t.Errorf("%s: mayFire = %v, want %v", tc.name, got, tc.want)
		}
	}
}
