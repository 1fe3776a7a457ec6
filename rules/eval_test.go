package rules_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// step is one thing that happens to the project at a time after t0: an
// event arrives (and its activity is evaluated then), or something else
// happens (do). fires is the rule's firings after the step.
type step struct {
	at    time.Duration
	event map[string]any
	do    func(t *testing.T, b *bundle, at time.Time)
	fires int64
}

// scenario is a rule and what happens to the project, checked on each
// engine with a fresh store.
type scenario struct {
	name  string
	rule  func(b *bundle) rules.Rule
	steps []step
}

func runScenarios(t *testing.T, cases []scenario) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
				b := setup(t, s)
				sr := b.rule(t, tc.rule(b))
				for i, st := range tc.steps {
					at := t0.Add(st.at)
					if st.do != nil {
						st.do(t, b, at)
					} else {
						b.send(t, at, st.event)
					}
					b.checkFires(t, sr, st.fires, fmt.Sprintf("after step %d (t0%+v)", i, st.at))
				}
			})
		})
	}
}

// The things that happen besides events.

func resolve(t *testing.T, b *bundle, at time.Time) {
	b.update(t, at, store.IssueUpdate{Status: status(store.StatusResolved)})
}

func ignore(ig store.IgnoreOptions) func(t *testing.T, b *bundle, at time.Time) {
	return func(t *testing.T, b *bundle, at time.Time) {
		b.update(t, at, store.IssueUpdate{Status: status(store.StatusIgnored), Ignore: ig})
	}
}

func assignTeam(t *testing.T, b *bundle, at time.Time) {
	b.update(t, at, store.IssueUpdate{Assign: true, AssigneeTeamID: &b.team.ID})
}

func assignUser(t *testing.T, b *bundle, at time.Time) {
	b.update(t, at, store.IssueUpdate{Assign: true, AssigneeUserID: &b.user.ID})
}

// sessions records n sessions started in the hour of the time.
func sessions(n int64) func(t *testing.T, b *bundle, at time.Time) {
	return func(t *testing.T, b *bundle, at time.Time) {
		env := &store.IngestEnvelope{ProjectID: b.project.ID, OrganizationID: b.org.ID, Received: at,
			Sessions: []store.SessionUpdate{{Release: "shop@1.0", Environment: "production", Started: at.Truncate(time.Hour), Sessions: n}}}
		b.store(t, env)
	}
}

// monitorFails stores an "error" check-in's failure event and evaluates it.
func monitorFails(slug string) func(t *testing.T, b *bundle, at time.Time) {
	return func(t *testing.T, b *bundle, at time.Time) {
		b.store(t, b.monitorFailure(t, at, slug))
		b.evaluate(t, b.engine, at)
	}
}

func issue(fp string) map[string]any { return map[string]any{"fingerprint": []string{fp}} }

func user(id string) map[string]any {
	return map[string]any{"user": map[string]any{"id": id, "email": id + "@example.com"}}
}

func condition(js string, frequency int) func(b *bundle) rules.Rule {
	return func(b *bundle) rules.Rule {
		return rules.Rule{Conditions: mustNodes("[" + js + "]"), Frequency: frequency}
	}
}

const (
	firstSeen  = `{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}`
	regression = `{"id": "sentry.rules.conditions.regression_event.RegressionEventCondition"}`
	reappeared = `{"id": "sentry.rules.conditions.reappeared_event.ReappearedEventCondition"}`
	everyEvent = `{"id": "sentry.rules.conditions.every_event.EveryEventCondition"}`
	monitorCon = `{"id": "tocsin.rules.conditions.monitor.MonitorFailureCondition"}`
)

// countSteps sends n events of the issue, every apart, starting at start;
// the rule must not have fired more than fires times during them.
func countSteps(start time.Duration, n int, every time.Duration, fields map[string]any, fires int64) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = step{at: start + time.Duration(i)*every, event: fields, fires: fires}
	}
	return out
}

func TestEngine_Conditions(t *testing.T) {
	t.Parallel()
	m := time.Minute
	week := 7 * 24 * time.Hour
	cases := []scenario{
		{name: "first seen fires once per issue", rule: condition(firstSeen, 30), steps: []step{
			{at: 0, fires: 1},
			{at: 1 * m, fires: 1},  // a second event of the same issue
			{at: 45 * m, fires: 1}, // after the rule's frequency: still not new
			{at: 46 * m, event: issue("refund"), fires: 2},
		}},
		{name: "regression after resolve", rule: condition(regression, 30), steps: []step{
			{at: 0, fires: 0},
			{at: 1 * m, do: resolve},
			{at: 2 * m, fires: 1},
			{at: 3 * m, fires: 1}, // unresolved now: no regression
			{at: 4 * m, do: resolve, fires: 1},
			// An event from before the resolution is old news.
			{at: 5 * m, event: map[string]any{"timestamp": t0.Add(3 * m).Format(time.RFC3339)}, fires: 1},
			{at: 40 * m, do: resolve, fires: 1},
			{at: 41 * m, fires: 2},
		}},
		{name: "reappeared when an ignore runs out", rule: condition(reappeared, 30), steps: []step{
			{at: 0, fires: 0},
			{at: 1 * m, do: ignore(store.IgnoreOptions{Until: ptr(t0.Add(10 * m))})},
			{at: 5 * m, fires: 0}, // still ignored
			{at: 11 * m, fires: 1},
			{at: 12 * m, fires: 1},
		}},
		{name: "reappeared when an ignored issue escalates", rule: condition(reappeared, 30), steps: []step{
			{at: 0, fires: 0},
			{at: 1 * m, do: ignore(store.IgnoreOptions{Count: 2})},
			{at: 2 * m, fires: 0},
			{at: 3 * m, fires: 1},
		}},
		{name: "reappeared is not a regression", rule: condition(reappeared, 30), steps: []step{
			{at: 0, fires: 0},
			{at: 1 * m, do: resolve},
			{at: 2 * m, fires: 0},
		}},
		{name: "every event, at most once per frequency", rule: condition(everyEvent, 1), steps: []step{
			{at: 0, fires: 1},
			{at: 30 * time.Second, fires: 1},
			{at: 1 * m, fires: 2},
			{at: 1 * m, event: issue("refund"), fires: 3}, // per issue
		}},
		{name: "event frequency: more than 100 in 1h fires on the 101st event", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 100, "interval": "1h", "comparisonType": "count"}`, 30),
			steps: concat(
				countSteps(0, 100, 10*time.Second, nil, 0), // the 100th at t0+16m30s: not more than 100
				[]step{
					{at: 16*m + 40*time.Second, fires: 1},          // the 101st
					{at: 17 * m, fires: 1},                         // the 102nd, within the rule's frequency
					{at: 17 * m, event: issue("refund"), fires: 1}, // another issue's single event
					{at: 45*m + 40*time.Second, fires: 1},          // 29 minutes after firing
					{at: 47 * m, fires: 2},                         // frequency passed, still over 100 in the hour
					{at: 47*m + 30*time.Second, fires: 2},          // within the new frequency
					{at: 3 * time.Hour, fires: 2},                  // an hour later: one event in the hour
					{at: 3*time.Hour + 30*time.Second, fires: 2},
				})},
		{name: "event frequency: events outside the interval do not count", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": "2", "interval": "5m"}`, 30),
			steps: []step{
				{at: 0, fires: 0}, {at: 1 * m, fires: 0},
				{at: 10 * m, fires: 0}, {at: 11 * m, fires: 0}, // 2 in [6m, 11m]
				{at: 12 * m, fires: 1},
			}},
		{name: "event frequency 1m", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 2, "interval": "1m"}`, 30),
			steps: []step{{at: 0}, {at: 10 * time.Second}, {at: 20 * time.Second, fires: 1}}},
		{name: "event frequency percent against a week earlier", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 50, "interval": "1h",
				"comparisonType": "percent", "comparisonInterval": "1w"}`, 30),
			steps: []step{
				{at: -week - 30*m}, {at: -week - 29*m}, // the baseline: 2
				{at: 0}, {at: 1 * m}, // 2 now: 0% more
				{at: 2 * m}, // 3: 50% more, not more than 50
				{at: 3 * m, fires: 1},
			}},
		{name: "event frequency percent with no baseline does not fire", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 10, "interval": "1h",
				"comparisonType": "percent", "comparisonInterval": "1d"}`, 30),
			steps: countSteps(0, 10, time.Minute, nil, 0)},
		{name: "event frequency percent against a day earlier", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 100, "interval": "15m",
				"comparisonType": "percent", "comparisonInterval": "1d"}`, 30),
			steps: []step{
				{at: -24*time.Hour + m}, // baseline 1
				{at: 0}, {at: 1 * m},    // 100% more
				{at: 2 * m, fires: 1}, // 200% more
			}},
		{name: "unique users", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition", "value": 2, "interval": "1h"}`, 30),
			steps: []step{
				{at: -2 * time.Hour, event: user("old")}, // out of the interval
				{at: 0, event: user("ana")}, {at: 1 * m, event: user("ana")},
				{at: 2 * m, event: user("bo")}, {at: 3 * m, event: user("bo")},
				{at: 4 * m, event: map[string]any{"user": nil}}, // no user
				{at: 5 * m, event: user("cy"), fires: 1},
			}},
		{name: "percent of sessions", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyPercentCondition", "value": 10, "interval": "1h"}`, 30),
			steps: []step{
				{at: 0, do: sessions(20)},
				{at: 1 * m}, {at: 2 * m}, // 10%: not more than 10
				{at: 3 * m, fires: 1},
			}},
		{name: "percent of sessions without sessions does not fire", rule: condition(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyPercentCondition", "value": 10, "interval": "5m"}`, 30),
			steps: countSteps(0, 5, time.Second, nil, 0)},
		{name: "monitor failure", rule: condition(monitorCon, 30), steps: []step{
			{at: 0, fires: 0}, // an error event
			{at: 1 * m, do: monitorFails("nightly-backup"), fires: 1},
			{at: 2 * m, do: monitorFails("nightly-backup"), fires: 1}, // within the frequency
			{at: 3 * m, do: monitorFails("hourly-report"), fires: 2},
		}},
	}
	runScenarios(t, cases)
}

func filterRule(js string) func(b *bundle) rules.Rule {
	return func(b *bundle) rules.Rule {
		return rules.Rule{Conditions: mustNodes("[" + everyEvent + "]"), Filters: mustNodes("[" + js + "]"), Frequency: 1}
	}
}

// filterCase is a filter on an "every event" rule and one event it passes
// or not.
func filterCase(name, filter string, fields map[string]any, pass bool) scenario {
	return scenario{name: name, rule: filterRule(filter), steps: []step{{event: fields, fires: b2i(pass)}}}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func tagged(key, match, value string) string {
	return fmt.Sprintf(`{"id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "key": %q, "match": %q, "value": %q}`, key, match, value)
}

func attribute(attr, match, value string) string {
	return fmt.Sprintf(`{"id": "sentry.rules.filters.event_attribute.EventAttributeFilter", "attribute": %q, "match": %q, "value": %q}`, attr, match, value)
}

func TestEngine_Filters(t *testing.T) {
	t.Parallel()
	m := time.Minute
	level := func(match, lvl string) string {
		return fmt.Sprintf(`{"id": "sentry.rules.filters.level.LevelFilter", "match": %q, "level": %s}`, match, lvl)
	}
	lvl := func(l string) map[string]any { return map[string]any{"level": l} }
	tags := map[string]any{"tags": map[string]any{"browser": "Firefox 120", "region": "eu-west-1"}}
	cases := []scenario{
		// Level, numeric as Sentry's form sends it (a number or a string).
		filterCase("level eq", level("eq", "40"), nil, true),
		filterCase("level eq string", level("eq", `"40"`), nil, true),
		filterCase("level eq other", level("eq", "30"), nil, false),
		filterCase("level gte lower", level("gte", "30"), nil, true),
		filterCase("level gte same", level("gte", "40"), nil, true),
		filterCase("level gte higher", level("gte", "50"), nil, false),
		filterCase("level gte fatal", level("gte", "50"), lvl("fatal"), true),
		filterCase("level lte higher", level("lte", `"50"`), nil, true),
		filterCase("level lte lower", level("lte", "30"), nil, false),
		filterCase("level lte warning", level("lte", "30"), lvl("warning"), true),
		filterCase("level lte debug", level("lte", "10"), lvl("debug"), true),
		filterCase("level eq info", level("eq", "20"), lvl("info"), true),

		// Tagged event, every operator both ways.
		filterCase("tag eq", tagged("browser", "eq", "firefox 120"), tags, true),
		filterCase("tag eq other", tagged("browser", "eq", "Chrome"), tags, false),
		filterCase("tag eq derived level", tagged("level", "eq", "error"), tags, true),
		filterCase("tag eq derived environment", tagged("environment", "eq", "production"), tags, true),
		filterCase("tag ne", tagged("browser", "ne", "Chrome"), tags, true),
		filterCase("tag ne same", tagged("browser", "ne", "Firefox 120"), tags, false),
		filterCase("tag sw", tagged("browser", "sw", "fire"), tags, true),
		filterCase("tag sw other", tagged("browser", "sw", "fox"), tags, false),
		filterCase("tag ew", tagged("browser", "ew", " 120"), tags, true),
		filterCase("tag ew other", tagged("browser", "ew", "fire"), tags, false),
		filterCase("tag co", tagged("region", "co", "WEST"), tags, true),
		filterCase("tag co other", tagged("region", "co", "east"), tags, false),
		filterCase("tag nc", tagged("region", "nc", "east"), tags, true),
		filterCase("tag nc other", tagged("region", "nc", "west"), tags, false),
		filterCase("tag is", tagged("browser", "is", ""), tags, true),
		filterCase("tag is missing", tagged("os", "is", ""), tags, false),
		filterCase("tag ns", tagged("os", "ns", ""), tags, true),
		filterCase("tag ns present", tagged("browser", "ns", ""), tags, false),
		filterCase("tag in", tagged("browser", "in", "Chrome, firefox 120 ,Safari"), tags, true),
		filterCase("tag in other", tagged("browser", "in", "Chrome,Safari"), tags, false),
		filterCase("tag re", tagged("browser", "re", `^Fire\w+ \d+$`), tags, true),
		filterCase("tag re other", tagged("browser", "re", `^Chrome`), tags, false),

		// Event attributes.
		filterCase("attribute message", attribute("message", "co", "almost full"),
			map[string]any{"exception": nil, "message": "Disk almost full on db-1"}, true),
		filterCase("attribute message of an exception", attribute("message", "eq", "ValueError: bad value"), nil, true),
		filterCase("attribute platform", attribute("platform", "eq", "python"), nil, true),
		filterCase("attribute platform other", attribute("platform", "eq", "javascript"), nil, false),
		filterCase("attribute environment", attribute("environment", "eq", "staging"), map[string]any{"environment": "staging"}, true),
		filterCase("attribute type", attribute("type", "eq", "error"), nil, true),
		filterCase("attribute type of a message", attribute("type", "eq", "error"), map[string]any{"exception": nil, "message": "hello"}, false),
		filterCase("attribute exception.type", attribute("exception.type", "eq", "ValueError"), nil, true),
		filterCase("attribute exception.type other", attribute("exception.type", "eq", "KeyError"), nil, false),
		filterCase("attribute exception.value", attribute("exception.value", "sw", "bad"), nil, true),
		filterCase("attribute error.handled", attribute("error.handled", "eq", "false"), nil, true),
		filterCase("attribute error.handled true", attribute("error.handled", "eq", "true"), nil, false),
		filterCase("attribute error.unhandled", attribute("error.unhandled", "eq", "true"), nil, true),
		filterCase("attribute user.email", attribute("user.email", "ew", "@example.com"), user("ana"), true),
		filterCase("attribute user.email without a user", attribute("user.email", "is", ""), nil, false),
		filterCase("attribute user.id", attribute("user.id", "in", "bo,ana"), user("ana"), true),
		filterCase("attribute http.url", attribute("http.url", "sw", "https://shop.example.com/checkout"), nil, true),
		filterCase("attribute http.url nc", attribute("http.url", "nc", "localhost"), nil, true),
		filterCase("attribute http.method", attribute("http.method", "eq", "GET"), nil, false),
		filterCase("attribute stacktrace.module", attribute("stacktrace.module", "eq", "app.views"), nil, true),
		filterCase("attribute stacktrace.module other", attribute("stacktrace.module", "eq", "app.models"), nil, false),
		filterCase("attribute stacktrace.filename", attribute("stacktrace.filename", "ew", "views.py"), nil, true),
		filterCase("attribute stacktrace.abs_path", attribute("stacktrace.abs_path", "sw", "/srv/app/"), nil, true),
		filterCase("attribute stacktrace.code", attribute("stacktrace.code", "co", "raise ValueError"), nil, true),
		filterCase("attribute stacktrace.code re", attribute("stacktrace.code", "re", `raise \w+Error\(`), nil, true),
		filterCase("attribute sdk.name", attribute("sdk.name", "eq", "sentry.python"), nil, true),

		// Issue age.
		{name: "age older", rule: filterRule(`{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter",
			"comparison_type": "older", "value": 1, "time": "hour"}`), steps: []step{
			{at: 0, fires: 0}, {at: 59 * m, fires: 0}, {at: 61 * m, fires: 1}}},
		{name: "age newer", rule: filterRule(`{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter",
			"comparison_type": "newer", "value": "2", "time": "day"}`), steps: []step{
			{at: 0, fires: 1}, {at: 47 * time.Hour, fires: 2}, {at: 49 * time.Hour, fires: 2}}},
		{name: "age older in weeks", rule: filterRule(`{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter",
			"comparison_type": "older", "value": 1, "time": "week"}`), steps: []step{
			{at: 0, fires: 0}, {at: 6 * 24 * time.Hour, fires: 0}, {at: 8 * 24 * time.Hour, fires: 1}}},
		{name: "age newer in minutes", rule: filterRule(`{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter",
			"comparison_type": "newer", "value": 10, "time": "minute"}`), steps: []step{
			{at: 0, fires: 1}, {at: 11 * m, fires: 1}}},

		// Issue occurrences.
		{name: "occurrences", rule: filterRule(`{"id": "sentry.rules.filters.issue_occurrences.IssueOccurrencesFilter", "value": 3}`),
			steps: []step{{at: 0}, {at: 1 * m}, {at: 2 * m, fires: 1}, {at: 3 * m, fires: 2}}},

		// Assignee.
		{name: "assigned to no one", rule: filterRule(`{"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Unassigned"}`),
			steps: []step{{at: 0, fires: 1}, {at: 1 * m, do: assignTeam, fires: 1}, {at: 2 * m, fires: 1}}},
		{name: "assigned to the team", rule: func(b *bundle) rules.Rule {
			return filterRule(fmt.Sprintf(`{"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Team", "targetIdentifier": %d}`, b.team.ID))(b)
		}, steps: []step{{at: 0, fires: 0}, {at: 1 * m, do: assignUser}, {at: 2 * m, fires: 0}, {at: 3 * m, do: assignTeam}, {at: 4 * m, fires: 1}}},
		{name: "assigned to the member", rule: func(b *bundle) rules.Rule {
			return filterRule(fmt.Sprintf(`{"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Member", "targetIdentifier": "%d"}`, b.user.ID))(b)
		}, steps: []step{{at: 0, fires: 0}, {at: 1 * m, do: assignTeam}, {at: 2 * m, fires: 0}, {at: 3 * m, do: assignUser}, {at: 4 * m, fires: 1}}},
		{name: "assigned to another member", rule: filterRule(`{"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Member", "targetIdentifier": "999999"}`),
			steps: []step{{at: 0}, {at: 1 * m, do: assignUser}, {at: 2 * m, fires: 0}}},

		// Latest release.
		{name: "latest release", rule: filterRule(`{"id": "sentry.rules.filters.latest_release.LatestReleaseFilter"}`),
			steps: []step{
				{at: 0, event: map[string]any{"release": "shop@1.0"}, fires: 1},
				{at: 2 * m, event: map[string]any{"release": "shop@2.0"}, fires: 2},
				{at: 4 * m, event: map[string]any{"release": "shop@1.0"}, fires: 2}, // an old release's event
				{at: 6 * m, fires: 2}, // no release
			}},

		// Issue category.
		filterCase("category error", `{"id": "sentry.rules.filters.issue_category.IssueCategoryFilter", "value": "1"}`, nil, true),
		filterCase("category error of a logger's event", `{"id": "sentry.rules.filters.issue_category.IssueCategoryFilter", "value": 1}`,
			map[string]any{"exception": nil, "message": "health check slow", "logger": "monitoring.health"}, true),
		filterCase("category cron of an error", `{"id": "sentry.rules.filters.issue_category.IssueCategoryFilter", "value": 4}`, nil, false),
		{name: "category cron", rule: filterRule(`{"id": "sentry.rules.filters.issue_category.IssueCategoryFilter", "value": "4"}`),
			steps: []step{{at: 0, do: monitorFails("nightly-backup"), fires: 1}}},
		{name: "category error of a cron failure", rule: filterRule(`{"id": "sentry.rules.filters.issue_category.IssueCategoryFilter", "value": "1"}`),
			steps: []step{{at: 0, do: monitorFails("nightly-backup"), fires: 0}}},
	}
	runScenarios(t, cases)
}

func matchRule(actionMatch, conds, filterMatch, filters string) func(b *bundle) rules.Rule {
	return func(b *bundle) rules.Rule {
		r := rules.Rule{ActionMatch: actionMatch, FilterMatch: filterMatch, Conditions: mustNodes(conds), Frequency: 1}
		if filters != "" {
			r.Filters = mustNodes(filters)
		}
		return r
	}
}

func TestEngine_MatchModes(t *testing.T) {
	t.Parallel()
	m := time.Minute
	firstOrEvery := "[" + firstSeen + "," + everyEvent + "]"
	firstOrRegression := "[" + firstSeen + "," + regression + "]"
	levelAndTag := "[" + `{"id": "sentry.rules.filters.level.LevelFilter", "match": "eq", "level": "40"}` + "," +
		tagged("browser", "eq", "firefox") + "]"
	ev := func(level, browser string) map[string]any {
		return map[string]any{"level": level, "tags": map[string]any{"browser": browser}}
	}
	cases := []scenario{
		{name: "actionMatch all", rule: matchRule("all", firstOrEvery, "", ""), steps: []step{
			{at: 0, fires: 1}, {at: 2 * m, fires: 1}}},
		{name: "actionMatch any", rule: matchRule("any", firstOrRegression, "", ""), steps: []step{
			{at: 0, fires: 1}, {at: 2 * m, fires: 1}, {at: 3 * m, do: resolve, fires: 1}, {at: 4 * m, fires: 2}}},
		{name: "actionMatch none", rule: matchRule("none", firstOrRegression, "", ""), steps: []step{
			{at: 0, fires: 0}, {at: 2 * m, fires: 1}, {at: 3 * m, do: resolve, fires: 1}, {at: 5 * m, fires: 1}}},
		{name: "filterMatch all", rule: matchRule("all", "["+everyEvent+"]", "all", levelAndTag), steps: []step{
			{at: 0, event: ev("error", "chrome"), fires: 0},
			{at: 2 * m, event: ev("warning", "firefox"), fires: 0},
			{at: 4 * m, event: ev("error", "firefox"), fires: 1}}},
		{name: "filterMatch any", rule: matchRule("all", "["+everyEvent+"]", "any", levelAndTag), steps: []step{
			{at: 0, event: ev("warning", "chrome"), fires: 0},
			{at: 2 * m, event: ev("warning", "firefox"), fires: 1},
			{at: 4 * m, event: ev("error", "chrome"), fires: 2}}},
		{name: "filterMatch none", rule: matchRule("all", "["+everyEvent+"]", "none", levelAndTag), steps: []step{
			{at: 0, event: ev("error", "chrome"), fires: 0},
			{at: 2 * m, event: ev("warning", "firefox"), fires: 0},
			{at: 4 * m, event: ev("warning", "chrome"), fires: 1}}},
		{name: "filterMatch none without filters", rule: matchRule("all", "["+everyEvent+"]", "none", ""), steps: []step{
			{at: 0, fires: 1}}},
		{name: "actionMatch any with filterMatch any", rule: matchRule("any", firstOrRegression, "any", levelAndTag), steps: []step{
			{at: 0, event: ev("warning", "chrome"), fires: 0}, // new, but neither filter
			{at: 2 * m, do: resolve},
			{at: 4 * m, event: ev("warning", "firefox"), fires: 1}}},
	}
	runScenarios(t, cases)
}

func TestEngine_Environment(t *testing.T) {
	t.Parallel()
	m := time.Minute
	env := func(e string) map[string]any { return map[string]any{"environment": e} }
	withEnv := func(js, environment string) func(b *bundle) rules.Rule {
		return func(b *bundle) rules.Rule {
			r := condition(js, 1)(b)
			r.Environment = environment
			return r
		}
	}
	runScenarios(t, []scenario{
		{name: "every event in production", rule: withEnv(everyEvent, "production"), steps: []step{
			{at: 0, event: env("staging"), fires: 0},
			{at: 2 * m, event: env("production"), fires: 1},
			{at: 4 * m, event: map[string]any{"environment": nil}, fires: 1}, // no environment
		}},
		{name: "first seen in staging", rule: withEnv(firstSeen, "staging"), steps: []step{
			{at: 0, event: env("production"), fires: 0},
			{at: 1 * m, event: map[string]any{"environment": "staging", "fingerprint": []string{"refund"}}, fires: 1},
		}},
		{name: "frequency counts the rule's environment only", rule: withEnv(
			`{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 1, "interval": "1h"}`, "production"),
			steps: []step{
				{at: 0, event: env("staging")}, {at: 1 * m, event: env("staging")},
				{at: 2 * m, event: env("production")},
				{at: 3 * m, event: env("staging")}, // two in production needed, and a production event
				{at: 4 * m, event: env("production"), fires: 1},
			}},
		{name: "unique users of the rule's environment", rule: withEnv(
			`{"id": "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition", "value": 1, "interval": "1h"}`, "production"),
			steps: []step{
				{at: 0, event: map[string]any{"environment": "staging", "user": map[string]any{"id": "ana"}}},
				{at: 1 * m, event: map[string]any{"environment": "production", "user": map[string]any{"id": "bo"}}},
				{at: 2 * m, event: map[string]any{"environment": "production", "user": map[string]any{"id": "cy"}}, fires: 1},
			}},
	})
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

func concat(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
