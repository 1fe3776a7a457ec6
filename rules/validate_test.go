package rules_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/rules"
)

// sentryRule is the body of Sentry's "Create an Issue Alert Rule for a
// Project" (POST /api/0/projects/{org}/{project}/rules/).
// https://docs.sentry.io/api/alerts/create-an-issue-alert-rule-for-a-project/
type sentryRule struct {
	Name        string       `json:"name"`
	Environment string       `json:"environment"`
	ActionMatch string       `json:"actionMatch"`
	FilterMatch string       `json:"filterMatch"`
	Frequency   int          `json:"frequency"`
	Conditions  []rules.Node `json:"conditions"`
	Filters     []rules.Node `json:"filters"`
	Actions     []rules.Node `json:"actions"`
	Owner       string       `json:"owner"`
	Status      string       `json:"status"`
}

func decodeRule(t *testing.T, js string) *rules.Rule {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(js)))
	dec.DisallowUnknownFields()
	var sr sentryRule
	if err := dec.Decode(&sr); err != nil {
		t.Fatalf("decode %s: %v", js, err)
	}
	return &rules.Rule{Name: sr.Name, Environment: sr.Environment, ActionMatch: sr.ActionMatch,
		FilterMatch: sr.FilterMatch, Frequency: sr.Frequency, Conditions: sr.Conditions, Filters: sr.Filters,
		Actions: sr.Actions, Owner: sr.Owner, Status: sr.Status}
}

func TestValidate_SentryRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		json  string
		check func(t *testing.T, r *rules.Rule)
	}{
		{
			// Sentry's documented example: a new issue in production
			// notifies a Slack channel, showing two tags.
			name: "first seen, Slack",
			json: `{
				"name": "My Issue Alert",
				"actionMatch": "all",
				"filterMatch": "all",
				"frequency": 60,
				"environment": "production",
				"owner": "team:23",
				"conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
				"filters": [],
				"actions": [{
					"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction",
					"workspace": 293854098,
					"channel": "#warning",
					"tags": "environment,level",
					"notes": "Please <http://example.com|click here> for triage information"
				}]
			}`,
			check: func(t *testing.T, r *rules.Rule) {
				if r.Frequency != 60 || r.Status != "active" || r.Environment != "production" {
					t.Errorf("rule = %+v, want frequency 60, status active (the default), environment production", r)
				}
				// The workspace id, a number in Sentry's JSON, is read as the string field it is.
				if w := r.Actions[0].Fields["workspace"]; w != "293854098" {
					t.Errorf("workspace = %#v, want \"293854098\"", w)
				}
			},
		},
		{
			// More than 100 events in an hour, for errors only, emails a member.
			name: "event frequency, tag filter, email",
			json: `{
				"name": "Error spike",
				"frequency": 30,
				"conditions": [{
					"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
					"value": 100,
					"comparisonType": "count",
					"interval": "1h"
				}],
				"filters": [{
					"id": "sentry.rules.filters.tagged_event.TaggedEventFilter",
					"key": "level",
					"match": "eq",
					"value": "error"
				}],
				"actions": [{
					"id": "sentry.mail.actions.NotifyEmailAction",
					"targetType": "Member",
					"fallthroughType": "ActiveMembers",
					"targetIdentifier": 1523125
				}]
			}`,
			check: func(t *testing.T, r *rules.Rule) {
				if r.ActionMatch != "all" || r.FilterMatch != "all" {
					t.Errorf("match modes %q/%q, want the default all/all", r.ActionMatch, r.FilterMatch)
				}
				if v := r.Conditions[0].Fields["value"]; v != json.Number("100") {
					t.Errorf("value = %#v, want the number 100", v)
				}
				if id := r.Actions[0].Fields["targetIdentifier"]; id != "1523125" {
					t.Errorf("targetIdentifier = %#v, want \"1523125\"", id)
				}
			},
		},
		{
			// A regression of a fatal issue, or one percent-compared, goes
			// to a webhook and every legacy integration.
			name: "regression, level filter, webhook",
			json: `{
				"name": "Fatal regressions",
				"actionMatch": "any",
				"filterMatch": "all",
				"frequency": 1440,
				"conditions": [
					{"id": "sentry.rules.conditions.regression_event.RegressionEventCondition"},
					{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
						"value": 1000, "comparisonType": "percent", "interval": "1h", "comparisonInterval": "1w"}
				],
				"filters": [
					{"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "50"},
					{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter", "comparison_type": "older", "value": 3, "time": "week"},
					{"id": "sentry.rules.filters.event_attribute.EventAttributeFilter", "attribute": "http.url", "match": "nc", "value": "localhost"}
				],
				"actions": [
					{"id": "sentry.rules.actions.notify_event_service.NotifyEventServiceAction", "service": "webhooks"},
					{"id": "sentry.rules.actions.notify_event.NotifyEventAction"}
				]
			}`,
			check: func(t *testing.T, r *rules.Rule) {
				if lv := r.Filters[0].Fields["level"]; lv != "50" {
					t.Errorf("level = %#v, want \"50\"", lv)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := decodeRule(t, tc.json)
			if err := rules.Validate(r); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			tc.check(t, r)
			// What is stored reads back the same.
			back, err := rules.FromStore(r.ToStore())
			if err != nil {
				t.Fatal(err)
			}
			if err := rules.Validate(back); err != nil {
				t.Fatalf("Validate the stored rule: %v", err)
			}
			a, _ := json.Marshal(r.Conditions)
			b, _ := json.Marshal(back.Conditions)
			if !bytes.Equal(a, b) {
				t.Errorf("conditions stored as %s, read back as %s", a, b)
			}
		})
	}
}

func TestValidate_Rejects(t *testing.T) {
	t.Parallel()
	const (
		email = `{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"}`
		freq  = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
	)
	// base is a valid rule; each case changes one thing.
	base := func() *rules.Rule {
		return &rules.Rule{Name: "New issues", Conditions: mustNodes("[" + firstSeen + "]"), Actions: mustNodes("[" + email + "]")}
	}
	withConditions := func(js string) func(r *rules.Rule) { return func(r *rules.Rule) { r.Conditions = mustNodes(js) } }
	withFilters := func(js string) func(r *rules.Rule) { return func(r *rules.Rule) { r.Filters = mustNodes(js) } }
	withActions := func(js string) func(r *rules.Rule) { return func(r *rules.Rule) { r.Actions = mustNodes(js) } }
	many := func() []rules.Node {
		out := make([]rules.Node, 10000)
		for i := range out {
			out[i] = rules.Node{ID: rules.FirstSeen}
		}
		return out
	}

	for _, tc := range []struct {
		name   string
		change func(r *rules.Rule)
		field  string // the only key of FieldErrors
		msg    string // in its message
	}{
		{"unknown condition", withConditions(`[{"id": "sentry.rules.conditions.nope.NopeCondition"}]`), "conditions", "Invalid condition id"},
		{"no id", withConditions(`[{"value": 1}]`), "conditions", "Invalid condition id"},
		{"filter in conditions", withConditions(`[{"id": "sentry.rules.filters.latest_release.LatestReleaseFilter"}]`), "conditions", "Invalid condition id"},
		{"condition in filters", withFilters("[" + firstSeen + "]"), "filters", "Invalid filter id"},
		{"action in conditions", withConditions("[" + email + "]"), "conditions", "Invalid condition id"},
		{"condition in actions", withActions("[" + firstSeen + "]"), "actions", "Invalid action id"},
		{"unknown action", withActions(`[{"id": "sentry.integrations.pagerduty.notify_action.PagerDutyNotifyServiceAction"}]`), "actions", "Invalid action id"},

		{"frequency without value", withConditions(`[{"id": "` + freq + `", "interval": "1h"}]`), "conditions", "value: This field is required."},
		{"frequency without interval", withConditions(`[{"id": "` + freq + `", "value": 10}]`), "conditions", "interval: This field is required."},
		{"tag filter without key", withFilters(`[{"id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "match": "eq", "value": "x"}]`), "filters", "key: This field is required."},
		{"tag filter eq without value", withFilters("[" + tagged("browser", "eq", "") + "]"), "filters", "value: This field is required."},
		{"level filter without level", withFilters(`[{"id": "sentry.rules.filters.level.LevelFilter", "match": "eq"}]`), "filters", "level: This field is required."},
		{"email without target type", withActions(`[{"id": "sentry.mail.actions.NotifyEmailAction"}]`), "actions", "targetType: This field is required."},
		{"email to a team without the team", withActions(`[{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "Team"}]`), "actions", "targetIdentifier"},
		{"assigned to a member without the member", withFilters(`[{"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Member"}]`), "filters", "targetIdentifier"},
		{"slack without workspace", withActions(`[{"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction", "channel": "#ops"}]`), "actions", "workspace: This field is required."},
		{"percent without comparison interval", withConditions(`[{"id": "` + freq + `", "value": 10, "interval": "1h", "comparisonType": "percent"}]`), "conditions", "comparisonInterval"},

		{"negative count", withConditions(`[{"id": "` + freq + `", "value": -1, "interval": "1h"}]`), "conditions", "value: Must be between 0 and"},
		{"huge count", withConditions(`[{"id": "` + freq + `", "value": 1e10, "interval": "1h"}]`), "conditions", "value: Must be between 0 and"},
		{"percent of sessions over 100", withConditions(`[{"id": "sentry.rules.conditions.event_frequency.EventFrequencyPercentCondition", "value": 101, "interval": "1h"}]`), "conditions", "value: Must be between 0 and 100"},
		{"negative age", withFilters(`[{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter", "comparison_type": "older", "value": -3, "time": "day"}]`), "filters", "value: Must be between"},
		{"negative occurrences", withFilters(`[{"id": "sentry.rules.filters.issue_occurrences.IssueOccurrencesFilter", "value": "-1"}]`), "filters", "value: Must be between"},
		{"count that is not a number", withConditions(`[{"id": "` + freq + `", "value": "many", "interval": "1h"}]`), "conditions", `"many" is not a number`},
		{"count that is a list", withConditions(`[{"id": "` + freq + `", "value": [1], "interval": "1h"}]`), "conditions", "is not a number"},

		{"bad interval", withConditions(`[{"id": "` + freq + `", "value": 10, "interval": "2h"}]`), "conditions", `interval: "2h" is not a valid choice`},
		{"negative interval", withConditions(`[{"id": "` + freq + `", "value": 10, "interval": "-1h"}]`), "conditions", `interval: "-1h" is not a valid choice`},
		{"session interval of frequency", withConditions(`[{"id": "sentry.rules.conditions.event_frequency.EventFrequencyPercentCondition", "value": 10, "interval": "1d"}]`), "conditions", "interval"},
		{"bad comparison type", withConditions(`[{"id": "` + freq + `", "value": 10, "interval": "1h", "comparisonType": "ratio"}]`), "conditions", "comparisonType"},
		{"bad comparison interval", withConditions(`[{"id": "` + freq + `", "value": 10, "interval": "1h", "comparisonType": "percent", "comparisonInterval": "2d"}]`), "conditions", "comparisonInterval"},
		{"bad level", withFilters(`[{"id": "sentry.rules.filters.level.LevelFilter", "match": "eq", "level": 45}]`), "filters", `level: "45" is not a valid choice`},
		{"bad level match", withFilters(`[{"id": "sentry.rules.filters.level.LevelFilter", "match": "gt", "level": 40}]`), "filters", "match"},
		{"bad tag match", withFilters("[" + tagged("browser", "like", "fire%") + "]"), "filters", `match: "like" is not a valid choice`},
		{"bad attribute", withFilters("[" + attribute("contexts.os", "eq", "Linux") + "]"), "filters", "attribute"},
		{"bad age unit", withFilters(`[{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter", "comparison_type": "older", "value": 3, "time": "year"}]`), "filters", "time"},
		{"bad category", withFilters(`[{"id": "sentry.rules.filters.issue_category.IssueCategoryFilter", "value": "7"}]`), "filters", "value"},
		{"bad assignee type", withFilters(`[{"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Everyone"}]`), "filters", "targetType"},
		{"bad fallthrough", withActions(`[{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners", "fallthroughType": "Nobody"}]`), "actions", "fallthroughType"},

		{"tag key that is not a string", withFilters(`[{"id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "key": true, "match": "is"}]`), "filters", "key: Expected a string."},
		{"labels that are not a list", withActions(`[{"id": "tocsin.actions.notify", "integration": "3", "labels": "bug"}]`), "actions", "labels: Expected a list."},
		{"labels that are not strings", withActions(`[{"id": "tocsin.actions.notify", "integration": "3", "labels": [1]}]`), "actions", "labels: Expected a list of strings."},
		{"digest that is not a boolean", withActions(`[{"id": "tocsin.actions.notify", "integration": "3", "digest": "yes"}]`), "actions", "digest: Expected true or false."},
		{"tag value too long", withFilters("[" + tagged("browser", "eq", strings.Repeat("x", 1001)) + "]"), "filters", "At most 1000 characters."},

		{"regex that does not compile", withFilters("[" + tagged("browser", "re", "(fire") + "]"), "filters", "invalid regular expression"},
		{"attribute regex that does not compile", withFilters("[" + attribute("message", "re", `\p{Nope}`) + "]"), "filters", "invalid regular expression"},

		{"10,000 conditions", func(r *rules.Rule) { r.Conditions = many() }, "conditions", "At most 50 conditions"},
		{"10,000 filters", func(r *rules.Rule) { r.Filters = many() }, "filters", "At most 50 filters"},
		{"no conditions", func(r *rules.Rule) { r.Conditions = nil }, "conditions", "at least one condition"},
		{"no actions", func(r *rules.Rule) { r.Actions = []rules.Node{} }, "actions", "add an action"},

		{"negative frequency", func(r *rules.Rule) { r.Frequency = -5 }, "frequency", "between 1 and 43200"},
		{"frequency over 30 days", func(r *rules.Rule) { r.Frequency = 60*24*30 + 1 }, "frequency", "between 1 and 43200"},
		{"bad actionMatch", func(r *rules.Rule) { r.ActionMatch = "some" }, "actionMatch", `"some" is not a valid choice`},
		{"bad filterMatch", func(r *rules.Rule) { r.FilterMatch = "ALL" }, "filterMatch", `"ALL" is not a valid choice`},
		{"owner without kind", func(r *rules.Rule) { r.Owner = "23" }, "owner", "user:ID or team:ID"},
		{"owner of another kind", func(r *rules.Rule) { r.Owner = "group:23" }, "owner", "user:ID or team:ID"},
		{"owner without number", func(r *rules.Rule) { r.Owner = "user:ana" }, "owner", "user:ID or team:ID"},
		{"no name", func(r *rules.Rule) { r.Name = "  " }, "name", "required"},
		{"long name", func(r *rules.Rule) { r.Name = strings.Repeat("é", 257) }, "name", "256 characters"},
		{"bad status", func(r *rules.Rule) { r.Status = "paused" }, "status", "not a valid choice"},
		{"bad environment", func(r *rules.Rule) { r.Environment = "prod/eu" }, "environment", "Invalid environment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := base()
			tc.change(r)
			err := rules.Validate(r)
			var fe rules.FieldErrors
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v, want FieldErrors", err)
			}
			var keys []string
			for k := range fe {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if len(keys) != 1 || keys[0] != tc.field {
				t.Fatalf("errors on %v (%v), want on %s only", keys, fe, tc.field)
			}
			if msg := strings.Join(fe[tc.field], " | "); !strings.Contains(msg, tc.msg) {
				t.Errorf("%s: %q, want it to say %q", tc.field, msg, tc.msg)
			}
			if len(fe[tc.field]) > 5 {
				t.Errorf("%d messages for %s; one problem should say so once", len(fe[tc.field]), tc.field)
			}
			if !strings.HasPrefix(err.Error(), tc.field+": ") {
				t.Errorf("Error() = %q, want it to start with the field", err.Error())
			}
		})
	}
}

func TestValidate_Defaults(t *testing.T) {
	t.Parallel()
	r := &rules.Rule{Name: " New issues ", Conditions: mustNodes("[" + firstSeen + "]"),
		Actions: mustNodes(`[{"id": "sentry.rules.actions.notify_event.NotifyEventAction"}]`)}
	if err := rules.Validate(r); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%q %s %s %d %s", r.Name, r.ActionMatch, r.FilterMatch, r.Frequency, r.Status)
	if want := `"New issues" all all 30 active`; got != want {
		t.Errorf("defaults: %s, want %s", got, want)
	}
	// Several problems are all reported, each under its field.
	bad := &rules.Rule{Frequency: -1, ActionMatch: "x", Filters: mustNodes("[" + firstSeen + "]")}
	var fe rules.FieldErrors
	if err := rules.Validate(bad); !errors.As(err, &fe) {
		t.Fatalf("Validate = %v, want FieldErrors", err)
	}
	for _, k := range []string{"name", "frequency", "actionMatch", "conditions", "filters", "actions"} {
		if len(fe[k]) == 0 {
			t.Errorf("no error for %s in %v", k, fe)
		}
	}
}

// TestValidate_NumbersStoreAsJSON checks that what Validate accepts as a
// number is stored as JSON that reads back: Go's ParseFloat takes "NaN",
// "+5" and "0x1p4", which are no JSON numbers.
func TestValidate_NumbersStoreAsJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		want  string // the stored value; "" when Validate must refuse it
	}{
		{`100`, "100"},
		{`"100"`, "100"},
		{`1e2`, "100"},
		{`"2.5"`, "2.5"},
		{`"+5"`, "5"},
		{`"0x1p4"`, "16"},
		{`"NaN"`, ""},
		{`"nan"`, ""},
		{`"+Inf"`, ""},
		{`"1_000"`, "1000"},
		{`" 5"`, ""},
	} {
		t.Run(tc.value, func(t *testing.T) {
			t.Parallel()
			r := &rules.Rule{Name: "n", Actions: mustNodes(`[{"id": "sentry.rules.actions.notify_event.NotifyEventAction"}]`),
				Conditions: mustNodes(`[{"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "interval": "1h", "value": ` + tc.value + `}]`)}
			err := rules.Validate(r)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("Validate accepted value %s as %v", tc.value, r.Conditions[0].Fields["value"])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sr := r.ToStore()
			back, err := rules.FromStore(sr)
			if err != nil {
				t.Fatalf("stored conditions %q do not read back: %v", sr.Conditions, err)
			}
			if got := back.Conditions[0].Fields["value"]; got != json.Number(tc.want) {
				t.Errorf("stored value %#v, want %s", got, tc.want)
			}
		})
	}
}
