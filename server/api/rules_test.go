package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
)

// rulesPath is the rules collection of tenant a's project.
func rulesPath(a *tenant) string {
	return "/api/0/projects/" + a.org.Slug + "/" + a.project.Slug + "/rules/"
}

// integration adds an integration of the provider to the organization and
// returns its API id.
func (e *env) integration(t *testing.T, org *store.Organization, provider string) string {
	t.Helper()
	in, err := e.st.IntegrationCreate(context.Background(), &store.Integration{OrganizationID: org.ID, Provider: provider,
		Name: provider + " of " + org.Slug, Config: "{}"}, func(int64) ([]byte, error) { return []byte{}, nil })
	if err != nil {
		t.Fatalf("create %s integration: %v", provider, err)
	}
	return strconv.FormatInt(in.ID, 10)
}

// frequencyRule is a valid rule body using most parts of the model; it
// notifies through the integration (an id of a's organization).
func frequencyRule(a *tenant, integration string) map[string]any {
	return map[string]any{
		"name":        "Checkout on fire",
		"environment": "production",
		"actionMatch": "any",
		"filterMatch": "all",
		"frequency":   60,
		"owner":       "team:" + strconv.FormatInt(a.team.ID, 10),
		"conditions": []any{
			map[string]any{"id": rules.EventFrequency, "value": "100", "interval": "1h", "comparisonType": "count"},
			map[string]any{"id": rules.FirstSeen},
		},
		"filters": []any{
			map[string]any{"id": rules.LevelFilter, "match": "gte", "level": 40},
			map[string]any{"id": rules.TaggedEvent, "key": "url", "match": "re", "value": "^/checkout/"},
		},
		"actions": []any{
			map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": a.user.ID},
			map[string]any{"id": rules.NotifyIntegration, "integration": integration, "target": "#ops"},
		},
	}
}

// nodeIDs returns the ids of a rule's conditions, filters or actions.
func nodeIDs(t *testing.T, v any, field string) []string {
	t.Helper()
	var out []string
	for _, n := range list(t, get(v, field)) {
		out = append(out, str(t, n, "id"))
	}
	return out
}

func TestHandler_RuleCRUD(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		path := rulesPath(a)

		// A new project has Sentry's default rule.
		v := e.want(t, http.StatusOK, "GET", path, a.token, nil)
		l := list(t, v)
		if len(l) != 1 {
			t.Fatalf("new project's rules = %v, want the default one", v)
		}
		def := l[0]
		if got := str(t, def, "name"); got != "Send a notification for new issues" {
			t.Errorf("default rule name = %q", got)
		}
		if got := nodeIDs(t, def, "conditions"); !slices.Equal(got, []string{rules.FirstSeen}) {
			t.Errorf("default rule conditions = %v", got)
		}
		if got := nodeIDs(t, def, "actions"); !slices.Equal(got, []string{rules.EmailNotify}) {
			t.Errorf("default rule actions = %v", got)
		}
		if get(def, "actions", 0, "targetType") != "IssueOwners" || get(def, "actions", 0, "fallthroughType") != "ActiveMembers" {
			t.Errorf("default rule action = %v, want issue owners falling through to active members", get(def, "actions", 0))
		}
		if str(t, def, "conditions", 0, "name") != "A new issue is created" {
			t.Errorf("default condition's name = %v", get(def, "conditions", 0, "name"))
		}
		for field, want := range map[string]any{"status": "active", "snooze": false, "frequency": 30.0,
			"actionMatch": "all", "filterMatch": "all", "environment": nil, "owner": nil, "createdBy": nil, "lastError": nil} {
			if got := get(def, field); !reflect.DeepEqual(got, want) {
				t.Errorf("default rule %s = %#v, want %#v", field, got, want)
			}
		}
		if got := get(def, "projects"); !reflect.DeepEqual(got, []any{"acme-web"}) {
			t.Errorf("default rule projects = %v", got)
		}

		// Create.
		created := e.want(t, http.StatusCreated, "POST", path, a.token, frequencyRule(a, e.integration(t, a.org, "webhook")))
		id := str(t, created, "id")
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			t.Fatalf("id %q is not a number in a string", id)
		}
		for field, want := range map[string]any{"name": "Checkout on fire", "environment": "production",
			"actionMatch": "any", "filterMatch": "all", "frequency": 60.0, "status": "active", "snooze": false,
			"owner": "team:" + strconv.FormatInt(a.team.ID, 10), "lastError": nil} {
			if got := get(created, field); !reflect.DeepEqual(got, want) {
				t.Errorf("created %s = %#v, want %#v", field, got, want)
			}
		}
		if get(created, "createdBy", "email") != a.user.Email || get(created, "createdBy", "id") != float64(a.user.ID) {
			t.Errorf("createdBy = %v, want %s", get(created, "createdBy"), a.user.Email)
		}
		if got := nodeIDs(t, created, "conditions"); !slices.Equal(got, []string{rules.EventFrequency, rules.FirstSeen}) {
			t.Errorf("conditions = %v", got)
		}
		if got := nodeIDs(t, created, "filters"); !slices.Equal(got, []string{rules.LevelFilter, rules.TaggedEvent}) {
			t.Errorf("filters = %v", got)
		}
		if got := nodeIDs(t, created, "actions"); !slices.Equal(got, []string{rules.EmailNotify, rules.NotifyIntegration}) {
			t.Errorf("actions = %v", got)
		}
		if got := str(t, created, "conditions", 0, "name"); got != "The issue is seen more than 100 times in 1h" {
			t.Errorf("frequency condition's name = %q", got)
		}
		if got := str(t, created, "filters", 0, "name"); got != "The event's level is greater than or equal to error" {
			t.Errorf("level filter's name = %q", got)
		}
		// Numbers sent as numbers or strings come back as Sentry's forms have them.
		if get(created, "filters", 0, "level") != "40" || get(created, "conditions", 0, "value") != 100.0 {
			t.Errorf("level %#v, value %#v", get(created, "filters", 0, "level"), get(created, "conditions", 0, "value"))
		}
		if get(created, "actions", 0, "targetIdentifier") != strconv.FormatInt(a.user.ID, 10) {
			t.Errorf("targetIdentifier = %#v", get(created, "actions", 0, "targetIdentifier"))
		}

		rulePath := path + id + "/"
		if got := e.want(t, http.StatusOK, "GET", rulePath, a.token, nil); !reflect.DeepEqual(got, created) {
			t.Errorf("GET after POST:\n%v\nwant\n%v", got, created)
		}
		code, hdr, v := e.do(t, "GET", path+"?per_page=1", a.token, nil)
		if code != http.StatusOK || len(list(t, v)) != 1 || str(t, v, 0, "id") != str(t, def, "id") {
			t.Errorf("first page = %d %v, want the default rule", code, v)
		}
		if link := hdr.Get("Link"); !strings.Contains(link, `rel="next"; results="true"; cursor="0:1:0"`) {
			t.Errorf("Link = %q, want a next page", link)
		}
		code, hdr, v = e.do(t, "GET", path+"?per_page=1&cursor=0:1:0", a.token, nil)
		if code != http.StatusOK || len(list(t, v)) != 1 || str(t, v, 0, "id") != id {
			t.Errorf("second page = %d %v, want the new rule", code, v)
		}
		if link := hdr.Get("Link"); !strings.Contains(link, `rel="next"; results="false"`) {
			t.Errorf("Link = %q, want no next page", link)
		}

		// PUT changes what it names and keeps the rest; the rendered
		// names clients send back are not stored.
		body := e.want(t, http.StatusOK, "GET", rulePath, a.token, nil).(map[string]any)
		body["name"] = "Renamed"
		updated := e.want(t, http.StatusOK, "PUT", rulePath, a.token, body)
		if str(t, updated, "name") != "Renamed" || !reflect.DeepEqual(get(updated, "conditions"), get(created, "conditions")) {
			t.Errorf("PUT of the GET body with a new name = %v", updated)
		}
		sr := storedRule(t, e, a, id)
		if strings.Contains(sr.Conditions+sr.Filters+sr.Actions, `"name"`) {
			t.Errorf("stored nodes keep the rendered names: %s %s %s", sr.Conditions, sr.Filters, sr.Actions)
		}
		updated = e.want(t, http.StatusOK, "PUT", rulePath, a.token, map[string]any{"environment": nil, "status": "disabled", "owner": nil})
		for field, want := range map[string]any{"name": "Renamed", "environment": nil, "status": "disabled",
			"owner": nil, "frequency": 60.0, "actionMatch": "any"} {
			if got := get(updated, field); !reflect.DeepEqual(got, want) {
				t.Errorf("after partial PUT %s = %#v, want %#v", field, got, want)
			}
		}
		updated = e.want(t, http.StatusOK, "PUT", rulePath, a.token, map[string]any{
			"filters": []any{}, "conditions": []any{map[string]any{"id": rules.Regression}}})
		if got := nodeIDs(t, updated, "conditions"); !slices.Equal(got, []string{rules.Regression}) || len(list(t, get(updated, "filters"))) != 0 {
			t.Errorf("after replacing the lists: conditions %v, filters %v", got, get(updated, "filters"))
		}

		// A rule that failed evaluation shows why until it is saved again.
		ruleID, _ := strconv.ParseInt(id, 10, 64)
		failedAt := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		if err := e.st.RuleSetError(context.Background(), ruleID, "integration 42 does not exist", failedAt); err != nil {
			t.Fatal(err)
		}
		v = e.want(t, http.StatusOK, "GET", rulePath, a.token, nil)
		if get(v, "lastError", "message") != "integration 42 does not exist" || get(v, "lastError", "date") != "2026-03-02T10:00:00Z" {
			t.Errorf("lastError = %v", get(v, "lastError"))
		}
		v = e.want(t, http.StatusOK, "PUT", rulePath, a.token, map[string]any{"status": "active"})
		if get(v, "lastError") != nil {
			t.Errorf("lastError after saving = %v, want null", get(v, "lastError"))
		}

		// Delete answers 202 as Sentry's.
		code, _, v = e.do(t, "DELETE", rulePath, a.token, nil)
		if code != http.StatusAccepted || v != nil {
			t.Errorf("DELETE = %d %v, want 202 without a body", code, v)
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", rulePath, a.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "DELETE", rulePath, a.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "PUT", rulePath, a.token, map[string]any{"name": "Back"}))
		for _, bad := range []string{"0", "-1", "x", "99999999999999999999", "configuration"} {
			wantDetail(t, e.want(t, http.StatusNotFound, "PUT", path+bad+"/", a.token, map[string]any{"name": "X"}))
		}
		v = e.want(t, http.StatusOK, "GET", path, a.token, nil)
		if l := list(t, v); len(l) != 1 || str(t, l[0], "id") != str(t, def, "id") {
			t.Errorf("rules after delete = %v, want only the default", v)
		}
	})
}

func storedRule(t *testing.T, e *env, a *tenant, id string) *store.Rule {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := e.st.RuleGet(context.Background(), a.org.ID, a.project.ID, n)
	if err != nil {
		t.Fatalf("rule %s: %v", id, err)
	}
	return sr
}

// TestHandler_RuleValidation sends bad rules to POST and PUT: each is 400
// with Sentry's {"field": ["message"]} body, and nothing is saved.
func TestHandler_RuleValidation(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		b := e.tenant(t, "globex")
		path := rulesPath(a)
		before := e.want(t, http.StatusOK, "GET", path, a.token, nil)
		defPath := path + str(t, before, 0, "id") + "/"
		aSlack, aGitHub, aWebhook := e.integration(t, a.org, "slack"), e.integration(t, a.org, "github"), e.integration(t, a.org, "webhook")
		bSlack := e.integration(t, b.org, "slack")

		with := func(changes map[string]any) map[string]any {
			body := frequencyRule(a, aWebhook)
			for k, v := range changes {
				if v == nil {
					delete(body, k)
				} else {
					body[k] = v
				}
			}
			return body
		}
		conditions := func(nodes ...any) map[string]any { return with(map[string]any{"conditions": nodes}) }
		filters := func(nodes ...any) map[string]any { return with(map[string]any{"filters": nodes}) }
		actions := func(nodes ...any) map[string]any { return with(map[string]any{"actions": nodes}) }
		every := map[string]any{"id": rules.EveryEvent}
		many := func(n int) map[string]any {
			l := make([]any, n)
			for i := range l {
				l[i] = every
			}
			return conditions(l...)
		}
		bUser, bTeam := strconv.FormatInt(b.user.ID, 10), strconv.FormatInt(b.team.ID, 10)
		outsider := e.user(t, "outsider@example.com")

		for _, tc := range []struct {
			name  string
			body  map[string]any
			field string
			put   bool // also refused by PUT (fields PUT may leave out are not)
		}{
			{"no name", with(map[string]any{"name": nil}), "name", false},
			{"blank name", with(map[string]any{"name": "  "}), "name", true},
			{"null name", with(map[string]any{"name": json.RawMessage("null")}), "name", true},
			{"name not a string", with(map[string]any{"name": 12}), "name", true},
			{"name too long", with(map[string]any{"name": strings.Repeat("n", 257)}), "name", true},
			{"no conditions", with(map[string]any{"conditions": []any{}}), "conditions", true},
			{"no actions", with(map[string]any{"actions": []any{}}), "actions", true},
			{"unknown condition", conditions(map[string]any{"id": "sentry.rules.conditions.nope.NopeCondition"}), "conditions", true},
			{"filter id as a condition", conditions(map[string]any{"id": rules.LevelFilter, "match": "eq", "level": "40"}), "conditions", true},
			{"condition without id", conditions(map[string]any{"value": 3}), "conditions", true},
			{"condition id not a string", conditions(map[string]any{"id": 7}), "conditions", true},
			{"condition not an object", conditions("sentry.rules.conditions.every_event.EveryEventCondition"), "conditions", true},
			{"conditions not a list", with(map[string]any{"conditions": map[string]any{"id": rules.EveryEvent}}), "conditions", true},
			{"10,000 conditions", many(10000), "conditions", true},
			{"51 conditions", many(51), "conditions", true},
			{"negative frequency value", conditions(map[string]any{"id": rules.EventFrequency, "value": -5, "interval": "1h"}), "conditions", true},
			{"negative interval", conditions(map[string]any{"id": rules.EventFrequency, "value": 5, "interval": "-1h"}), "conditions", true},
			{"unknown interval", conditions(map[string]any{"id": rules.EventFrequency, "value": 5, "interval": "2h"}), "conditions", true},
			{"value not a number", conditions(map[string]any{"id": rules.EventFrequency, "value": "many", "interval": "1h"}), "conditions", true},
			{"value a list", conditions(map[string]any{"id": rules.EventFrequency, "value": []any{1}, "interval": "1h"}), "conditions", true},
			{"percent without comparison interval", conditions(map[string]any{"id": rules.EventFrequency, "value": 5, "interval": "1h", "comparisonType": "percent"}), "conditions", true},
			{"regex that does not compile", filters(map[string]any{"id": rules.TaggedEvent, "key": "url", "match": "re", "value": "(["}), "filters", true},
			{"tag key not a string", filters(map[string]any{"id": rules.TaggedEvent, "key": true, "match": "eq", "value": "x"}), "filters", true},
			{"unknown level", filters(map[string]any{"id": rules.LevelFilter, "match": "eq", "level": "60"}), "filters", true},
			{"negative age", filters(map[string]any{"id": rules.AgeComparison, "comparison_type": "older", "value": -1, "time": "hour"}), "filters", true},
			{"unknown action", actions(map[string]any{"id": "sentry.rules.actions.nope"}), "actions", true},
			{"integration left out", actions(map[string]any{"id": rules.NotifyIntegration}), "actions", true},
			{"blank integration", actions(map[string]any{"id": rules.NotifyIntegration, "integration": "  "}), "actions", true},
			{"blank slack workspace", actions(map[string]any{"id": rules.SlackNotify, "workspace": " ", "channel": "#ops"}), "actions", true},
			{"another organization's integration", actions(map[string]any{"id": rules.NotifyIntegration, "integration": bSlack}), "actions", true},
			{"another organization's slack workspace", actions(map[string]any{"id": rules.SlackNotify, "workspace": bSlack, "channel": "#ops"}), "actions", true},
			{"another organization's service", actions(map[string]any{"id": rules.ServiceNotify, "service": bSlack}), "actions", true},
			{"integration that does not exist", actions(map[string]any{"id": rules.NotifyIntegration, "integration": "999999"}), "actions", true},
			{"integration named by name", actions(map[string]any{"id": rules.NotifyIntegration, "integration": "slack of acme"}), "actions", true},
			{"slack action through github", actions(map[string]any{"id": rules.SlackNotify, "workspace": aGitHub, "channel": "#ops"}), "actions", true},
			{"github action through slack", actions(map[string]any{"id": rules.GitHubTicket, "integration": aSlack, "repo": "acme/web"}), "actions", true},
			{"labels not a list", actions(map[string]any{"id": rules.GitHubTicket, "integration": aGitHub, "labels": "bug"}), "actions", true},
			{"email to another organization's user", actions(map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": bUser}), "actions", true},
			{"email to a user of no organization", actions(map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": outsider.ID}), "actions", true},
			{"email to another organization's team", actions(map[string]any{"id": rules.EmailNotify, "targetType": "Team", "targetIdentifier": bTeam}), "actions", true},
			{"email to a member named by email", actions(map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": a.user.Email}), "actions", true},
			{"email to a member without id", actions(map[string]any{"id": rules.EmailNotify, "targetType": "Member"}), "actions", true},
			{"assigned to another organization's user", filters(map[string]any{"id": rules.AssignedTo, "targetType": "Member", "targetIdentifier": bUser}), "filters", true},
			{"owner of another organization", with(map[string]any{"owner": "user:" + bUser}), "owner", true},
			{"owner team of another organization", with(map[string]any{"owner": "team:" + bTeam}), "owner", true},
			{"owner that does not exist", with(map[string]any{"owner": "user:999999"}), "owner", true},
			{"owner not an actor", with(map[string]any{"owner": "admin"}), "owner", true},
			{"owner not a string", with(map[string]any{"owner": 7}), "owner", true},
			{"environment not a string", with(map[string]any{"environment": 5}), "environment", true},
			{"environment an object", with(map[string]any{"environment": map[string]any{"name": "prod"}}), "environment", true},
			{"environment with a slash", with(map[string]any{"environment": "prod/eu"}), "environment", true},
			{"frequency not a number", with(map[string]any{"frequency": "often"}), "frequency", true},
			{"frequency fractional", with(map[string]any{"frequency": 1.5}), "frequency", true},
			{"frequency zero", with(map[string]any{"frequency": 0}), "frequency", true},
			{"frequency negative", with(map[string]any{"frequency": -30}), "frequency", true},
			{"frequency too long", with(map[string]any{"frequency": 60*24*30 + 1}), "frequency", true},
			{"frequency huge", with(map[string]any{"frequency": 1e15}), "frequency", true},
			{"unknown actionMatch", with(map[string]any{"actionMatch": "most"}), "actionMatch", true},
			{"filterMatch not a string", with(map[string]any{"filterMatch": false}), "filterMatch", true},
			{"unknown status", with(map[string]any{"status": "paused"}), "status", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				methods := []string{"POST"}
				if tc.put {
					methods = append(methods, "PUT")
				}
				for _, m := range methods {
					p := path
					if m == "PUT" {
						p = defPath
					}
					v := e.want(t, http.StatusBadRequest, m, p, a.token, tc.body)
					msgs, ok := get(v, tc.field).([]any)
					if !ok || len(msgs) == 0 {
						t.Errorf("%s: body %v has no messages for %s", m, v, tc.field)
						continue
					}
					for _, msg := range msgs {
						if s, ok := msg.(string); !ok || s == "" {
							t.Errorf("%s: message %#v is not a string", m, msg)
						}
					}
				}
			})
		}
		if t.Failed() {
			return
		}

		// Every field's problems are reported at once.
		v := e.want(t, http.StatusBadRequest, "POST", path, a.token, with(map[string]any{"name": 5, "owner": "user:" + bUser,
			"actions": []any{map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": bUser}}}))
		for _, field := range []string{"name", "owner", "actions"} {
			if _, ok := get(v, field).([]any); !ok {
				t.Errorf("body %v has no messages for %s", v, field)
			}
		}

		// Bodies that are not a rule at all.
		big := many(20000) // past the 1 MB body limit
		for _, tc := range []struct {
			name string
			body any
			want string
		}{
			{"not JSON", "{name: 1}", "invalid JSON"},
			{"a list", `[{"name": "x"}]`, "JSON object"},
			{"empty", "", "empty"},
			{"two objects", `{} {}`, "after the object"},
			{"past the body limit", big, "larger than"},
		} {
			for _, p := range []string{path, defPath} {
				m := "POST"
				if p == defPath {
					m = "PUT"
				}
				wantDetail(t, e.want(t, http.StatusBadRequest, m, p, a.token, tc.body), tc.want)
			}
		}

		// Nothing was saved: the default rule alone, unchanged.
		if after := e.want(t, http.StatusOK, "GET", path, a.token, nil); !reflect.DeepEqual(after, before) {
			t.Errorf("rules changed by refused requests:\nbefore %v\nafter  %v", before, after)
		}

		// What is valid: unknown fields ignored, numbers as strings, the
		// organization's integrations (by id, as a string or a number), a
		// member of the organization by id, a team of it.
		dev := e.user(t, "dev@example.com")
		e.member(t, a.org, dev, store.RoleMember)
		v = e.want(t, http.StatusCreated, "POST", path, a.token, with(map[string]any{
			"unknownField": map[string]any{"x": 1}, "frequency": "15", "owner": "user:" + strconv.FormatInt(dev.ID, 10),
			"actions": []any{
				map[string]any{"id": rules.EmailNotify, "targetType": "Team", "targetIdentifier": strconv.FormatInt(a.team.ID, 10)},
				map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": dev.ID, "fallthroughType": "NoOne"},
				map[string]any{"id": rules.SlackNotify, "workspace": aSlack, "channel": "#ops"},
				map[string]any{"id": rules.ServiceNotify, "service": aWebhook},
				map[string]any{"id": rules.GitHubTicket, "integration": json.Number(aGitHub), "repo": "acme/web", "labels": []any{"bug"}},
				map[string]any{"id": rules.NotifyIntegration, "integration": aSlack, "target": "#alerts"},
				map[string]any{"id": rules.LegacyNotify},
			},
		}))
		if get(v, "frequency") != 15.0 || get(v, "owner") != "user:"+strconv.FormatInt(dev.ID, 10) || get(v, "unknownField") != nil {
			t.Errorf("created %v", v)
		}
		if got := nodeIDs(t, v, "actions"); len(got) != 7 {
			t.Errorf("actions = %v", got)
		}
		// Frequency null means the default, as an environment "" means any.
		v = e.want(t, http.StatusCreated, "POST", path, a.token, with(map[string]any{"frequency": json.RawMessage("null"), "environment": ""}))
		if get(v, "frequency") != 30.0 || get(v, "environment") != nil {
			t.Errorf("frequency %v, environment %v; want 30 and null", get(v, "frequency"), get(v, "environment"))
		}
	})
}

func TestHandler_RuleConfiguration(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		v := e.want(t, http.StatusOK, "GET", rulesPath(a)+"configuration/", a.token, nil)
		want := map[string][]string{
			"conditions": {rules.FirstSeen, rules.Regression, rules.Reappeared, rules.EveryEvent, rules.EventFrequency,
				rules.UserFrequency, rules.PercentSessions, rules.MonitorFailure},
			"filters": {rules.LevelFilter, rules.TaggedEvent, rules.EventAttribute, rules.AgeComparison,
				rules.IssueOccurrences, rules.AssignedTo, rules.LatestRelease, rules.IssueCategory},
			"actions": {rules.NotifyIntegration, rules.SlackNotify, rules.EmailNotify, rules.ServiceNotify,
				rules.GitHubTicket, rules.LegacyNotify},
		}
		if m, ok := v.(map[string]any); !ok || len(m) != len(want) {
			t.Fatalf("configuration = %v, want actions, conditions and filters", v)
		}
		for section, ids := range want {
			var got []string
			for _, n := range list(t, get(v, section)) {
				got = append(got, str(t, n, "id"))
				if str(t, n, "label") == "" || get(n, "enabled") != true {
					t.Errorf("%s %v: want a label and enabled", section, n)
				}
			}
			if !slices.Equal(got, ids) {
				t.Errorf("%s = %v, want %v", section, got, ids)
			}
		}
		// Every id the rules package knows is listed.
		for _, nc := range rules.Configuration() {
			if !slices.Contains(want[nc.Kind+"s"], nc.ID) {
				t.Errorf("%s %s is missing from the test's list", nc.Kind, nc.ID)
			}
		}
		find := func(section, id string) any {
			for _, n := range list(t, get(v, section)) {
				if get(n, "id") == id {
					return n
				}
			}
			t.Fatalf("%s has no %s", section, id)
			return nil
		}
		freq := find("conditions", rules.EventFrequency)
		if get(freq, "formFields", "interval", "type") != "choice" || get(freq, "formFields", "value", "type") != "number" {
			t.Errorf("frequency form = %v", get(freq, "formFields"))
		}
		var intervals []string
		for _, c := range list(t, get(freq, "formFields", "interval", "choices")) {
			intervals = append(intervals, str(t, c, 0))
		}
		if !slices.Equal(intervals, []string{"1m", "5m", "15m", "1h", "1d", "1w", "30d"}) {
			t.Errorf("frequency intervals = %v", intervals)
		}
		if get(find("filters", rules.LevelFilter), "formFields", "level", "choices", 0) == nil {
			t.Errorf("level filter has no level choices")
		}
		if get(find("actions", rules.EmailNotify), "formFields", "targetType", "required") != true {
			t.Errorf("email action form = %v", get(find("actions", rules.EmailNotify), "formFields"))
		}
		if get(find("conditions", rules.FirstSeen), "formFields") != nil {
			t.Errorf("first seen has form fields")
		}
	})
}

func TestHandler_RuleSnooze(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		dev := e.user(t, "dev@example.com")
		e.member(t, a.org, dev, store.RoleMember)
		devToken := e.token(t, dev, store.AllScopes...)
		rule := e.want(t, http.StatusOK, "GET", rulesPath(a), a.token, nil)
		ruleID := str(t, rule, 0, "id")
		rulePath := rulesPath(a) + ruleID + "/"
		snoozePath := rulePath + "snooze/"
		ctx := context.Background()
		rid, _ := strconv.ParseInt(ruleID, 10, 64)

		type seen struct {
			snooze, everyone bool
			by               any
		}
		look := func(token string) seen {
			t.Helper()
			v := e.want(t, http.StatusOK, "GET", rulePath, token, nil)
			l := e.want(t, http.StatusOK, "GET", rulesPath(a), token, nil)
			if !reflect.DeepEqual(get(l, 0), v) {
				t.Errorf("list and detail differ:\n%v\n%v", get(l, 0), v)
			}
			return seen{get(v, "snooze") == true, get(v, "snoozeForEveryone") == true, get(v, "snoozeCreatedBy")}
		}
		inForce := func() map[int64]bool {
			t.Helper()
			m, err := e.st.RuleSnoozes(ctx, []int64{rid}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]bool{}
			for _, sn := range m[rid] {
				out[sn.UserID] = true
			}
			return out
		}

		// Bad requests.
		for _, tc := range []struct {
			body  any
			field string
		}{
			{map[string]any{}, "target"},
			{map[string]any{"target": nil}, "target"},
			{map[string]any{"target": "them"}, "target"},
			{map[string]any{"target": 1}, "target"},
			{map[string]any{"target": "me", "until": "tomorrow"}, "until"},
			{map[string]any{"target": "me", "until": 12}, "until"},
			{map[string]any{"target": "me", "until": time.Now().Add(-time.Hour).Format(time.RFC3339)}, "until"},
		} {
			v := e.want(t, http.StatusBadRequest, "POST", snoozePath, a.token, tc.body)
			if _, ok := get(v, tc.field).([]any); !ok {
				t.Errorf("POST %v: %v has no %s messages", tc.body, v, tc.field)
			}
		}
		if got := inForce(); len(got) != 0 {
			t.Fatalf("refused snoozes were saved: %v", got)
		}
		if s := look(a.token); s.snooze {
			t.Errorf("not snoozed yet, but %+v", s)
		}

		// For me, for good.
		v := e.want(t, http.StatusCreated, "POST", snoozePath, a.token, map[string]any{"target": "me"})
		for field, want := range map[string]any{"ownerId": float64(a.user.ID), "userId": float64(a.user.ID),
			"until": "forever", "ruleId": float64(rid)} {
			if got := get(v, field); got != want {
				t.Errorf("snooze %s = %#v, want %#v", field, got, want)
			}
		}
		if _, err := time.Parse(time.RFC3339, str(t, v, "dateAdded")); err != nil {
			t.Errorf("dateAdded: %v", err)
		}
		if s := look(a.token); s != (seen{true, false, "You"}) {
			t.Errorf("owner sees %+v, want snoozed by You for themselves", s)
		}
		if s := look(devToken); s.snooze {
			t.Errorf("another member sees the owner's own snooze: %+v", s)
		}
		wantDetail(t, e.want(t, http.StatusGone, "POST", snoozePath, a.token, map[string]any{"target": "me"}), "already exists")

		// For everyone, until a time, by another member.
		until := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
		v = e.want(t, http.StatusCreated, "POST", snoozePath, devToken, map[string]any{"target": "everyone", "until": until.Format(time.RFC3339)})
		if get(v, "userId") != "everyone" || get(v, "ownerId") != float64(dev.ID) || get(v, "until") != until.Format(time.RFC3339) {
			t.Errorf("snooze for everyone = %v", v)
		}
		if s := look(a.token); s != (seen{true, true, "dev"}) {
			t.Errorf("owner sees %+v, want snoozed for everyone by dev", s)
		}
		if s := look(devToken); s != (seen{true, true, "You"}) {
			t.Errorf("dev sees %+v, want snoozed for everyone by You", s)
		}
		if got := inForce(); !got[0] || !got[a.user.ID] || len(got) != 2 {
			t.Errorf("snoozes in force = %v, want everyone's and the owner's", got)
		}

		// Unsnooze one target at a time.
		e.want(t, http.StatusNoContent, "DELETE", snoozePath, a.token, map[string]any{"target": "me"})
		if got := inForce(); !got[0] || len(got) != 1 {
			t.Errorf("after unsnoozing me: %v, want everyone's alone", got)
		}
		if s := look(a.token); s != (seen{true, true, "dev"}) {
			t.Errorf("owner sees %+v, want still snoozed for everyone", s)
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "DELETE", snoozePath, a.token, map[string]any{"target": "me"}))
		e.want(t, http.StatusNoContent, "DELETE", snoozePath+"?target=everyone", a.token, nil)
		if got := inForce(); len(got) != 0 {
			t.Errorf("after unsnoozing everyone: %v", got)
		}
		if s := look(a.token); s.snooze || s.everyone {
			t.Errorf("owner sees %+v after unsnoozing", s)
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "DELETE", snoozePath, a.token, nil))
		v = e.want(t, http.StatusBadRequest, "DELETE", snoozePath, a.token, map[string]any{"target": "all"})
		if _, ok := get(v, "target").([]any); !ok {
			t.Errorf("DELETE with a bad target: %v", v)
		}

		// Without a target, as Sentry: everyone's and mine.
		e.want(t, http.StatusCreated, "POST", snoozePath, a.token, map[string]any{"target": "me", "until": nil})
		e.want(t, http.StatusCreated, "POST", snoozePath, a.token, map[string]any{"target": "everyone"})
		e.want(t, http.StatusCreated, "POST", snoozePath, devToken, map[string]any{"target": "me"})
		e.want(t, http.StatusNoContent, "DELETE", snoozePath, a.token, nil)
		if got := inForce(); !got[dev.ID] || len(got) != 1 {
			t.Errorf("after DELETE without target: %v, want dev's own alone", got)
		}

		// An expired snooze is replaced rather than refused.
		past := time.Now().Add(-time.Minute)
		if err := e.st.RuleSnooze(ctx, &store.Snooze{RuleID: rid, UserID: 0, Until: &past}); err != nil {
			t.Fatal(err)
		}
		e.want(t, http.StatusCreated, "POST", snoozePath, a.token, map[string]any{"target": "everyone"})
		if got := inForce(); !got[0] {
			t.Errorf("expired snooze not replaced: %v", got)
		}
	})
}

// fire evaluates the project's rules on what storing an event did, as the
// worker does.
func fire(t *testing.T, e *env, a *tenant, res store.IngestResult, kind string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	is, err := e.st.IssueGet(ctx, a.org.ID, res.IssueID)
	if err != nil {
		t.Fatal(err)
	}
	// A new engine each time: the engine caches a project's rules.
	eng, err := rules.NewEngine(e.st, slog.New(slog.DiscardHandler), nil, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Evaluate(ctx, &rules.Activity{Kind: kind, Issue: is, EventRowID: res.EventRowID, Now: at}); err != nil {
		t.Fatalf("evaluate: %v", err)
	}
}

func TestHandler_RuleGroupHistory(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		def := e.want(t, http.StatusOK, "GET", rulesPath(a), a.token, nil)
		ruleID := str(t, def, 0, "id")
		rid, _ := strconv.ParseInt(ruleID, 10, 64)
		histPath := rulesPath(a) + ruleID + "/group-history/"

		wantEmpty := func(query string) {
			t.Helper()
			if v := e.want(t, http.StatusOK, "GET", histPath+query, a.token, nil); len(list(t, v)) != 0 {
				t.Errorf("history%s = %v, want none", query, v)
			}
		}
		wantEmpty("?statsPeriod=14d")

		// A new issue fires the default rule; a second event of it does not
		// (its condition is first seen).
		first := now.Add(-10 * time.Minute)
		res := e.ingestEvents(t, a.project, first, eventtest.PythonError(1, first, map[string]any{"fingerprint": []string{"one"}}))
		fire(t, e, a, res[0], store.ActivityNewIssue, first)
		res2 := e.ingestEvents(t, a.project, first.Add(time.Minute), eventtest.PythonError(2, first.Add(time.Minute), map[string]any{"fingerprint": []string{"one"}}))
		fire(t, e, a, res2[0], store.ActivityEvent, first.Add(time.Minute))

		v := e.want(t, http.StatusOK, "GET", histPath+"?statsPeriod=14d", a.token, nil)
		l := list(t, v)
		if len(l) != 1 {
			t.Fatalf("history = %v, want the one issue", v)
		}
		issueID := strconv.FormatInt(res[0].IssueID, 10)
		if get(l[0], "group", "id") != issueID || get(l[0], "count") != 1.0 || get(l[0], "eventId") != eventtest.ID(1) {
			t.Errorf("history entry = %v, want issue %s fired once by event %s", l[0], issueID, eventtest.ID(1))
		}
		if get(l[0], "group", "title") != "ValueError: bad value" || get(l[0], "group", "project", "slug") != "acme-web" {
			t.Errorf("group = %v, want the issue's JSON", get(l[0], "group"))
		}
		if got := str(t, l[0], "lastTriggered"); got != first.Format(time.RFC3339) {
			t.Errorf("lastTriggered = %s, want %s", got, first.Format(time.RFC3339))
		}
		// The firing asked for a notification per action.
		ns, err := e.st.NotificationList(ctx, a.project.ID, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].RuleID == nil || *ns[0].RuleID != rid || !strings.Contains(ns[0].Action, rules.EmailNotify) {
			t.Errorf("notifications = %+v, want one email request of the default rule", ns)
		}

		// Another issue, fired three times through the store: listed first.
		res3 := e.ingestEvents(t, a.project, first, eventtest.PythonError(3, first, map[string]any{"fingerprint": []string{"two"}}))
		for i := range 3 {
			at := first.Add(time.Duration(i) * time.Minute)
			fired, err := e.st.RuleFire(ctx, &store.RuleFiring{RuleID: rid, ProjectID: a.project.ID, IssueID: res3[0].IssueID,
				EventID: eventtest.ID(3), Reason: store.ActivityEvent, At: at})
			if err != nil || !fired {
				t.Fatalf("fire %d: %v %v", i, fired, err)
			}
		}
		code, hdr, v := e.do(t, "GET", histPath+"?statsPeriod=24h&per_page=1", a.token, nil)
		if code != http.StatusOK || len(list(t, v)) != 1 || get(v, 0, "group", "id") != strconv.FormatInt(res3[0].IssueID, 10) || get(v, 0, "count") != 3.0 {
			t.Errorf("first page = %d %v, want the issue fired three times", code, v)
		}
		if !strings.Contains(hdr.Get("Link"), `rel="next"; results="true"`) {
			t.Errorf("Link = %q, want a next page", hdr.Get("Link"))
		}
		v = e.want(t, http.StatusOK, "GET", histPath+"?statsPeriod=24h&per_page=1&cursor=0:1:0", a.token, nil)
		if len(list(t, v)) != 1 || get(v, 0, "group", "id") != issueID {
			t.Errorf("second page = %v, want the first issue", v)
		}

		// Periods.
		iso := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }
		v = e.want(t, http.StatusOK, "GET", histPath+"?start="+iso(first.Add(-time.Minute))+"&end="+iso(first.Add(30*time.Second)), a.token, nil)
		if len(list(t, v)) != 2 || get(v, 0, "count") != 1.0 {
			t.Errorf("history around the first firings = %v, want both issues once", v)
		}
		wantEmpty("?start=" + iso(now.Add(-48*time.Hour)) + "&end=" + iso(now.Add(-24*time.Hour)))
		wantEmpty("?statsPeriod=5m")
		if got := len(list(t, e.want(t, http.StatusOK, "GET", histPath, a.token, nil))); got != 2 {
			t.Errorf("history with the default period: %d issues, want 2", got)
		}
		for _, q := range []string{"?statsPeriod=fortnight", "?statsPeriod=-1d", "?start=" + iso(now), "?start=yesterday&end=today",
			"?start=" + iso(now) + "&end=" + iso(now.Add(-time.Hour)), "?cursor=bogus"} {
			wantDetail(t, e.want(t, http.StatusBadRequest, "GET", histPath+q, a.token, nil))
		}

		// A rule snoozed for everyone does not fire.
		e.want(t, http.StatusCreated, "POST", rulesPath(a)+ruleID+"/snooze/", a.token, map[string]any{"target": "everyone"})
		res4 := e.ingestEvents(t, a.project, now, eventtest.PythonError(4, now, map[string]any{"fingerprint": []string{"three"}}))
		fire(t, e, a, res4[0], store.ActivityNewIssue, now)
		if got := len(list(t, e.want(t, http.StatusOK, "GET", histPath, a.token, nil))); got != 2 {
			t.Errorf("history after a snoozed firing: %d issues, want still 2", got)
		}
		// Unsnoozed, it does.
		e.want(t, http.StatusNoContent, "DELETE", rulesPath(a)+ruleID+"/snooze/", a.token, nil)
		res5 := e.ingestEvents(t, a.project, now, eventtest.PythonError(5, now, map[string]any{"fingerprint": []string{"four"}}))
		fire(t, e, a, res5[0], store.ActivityNewIssue, now)
		if got := len(list(t, e.want(t, http.StatusOK, "GET", histPath+"?start="+iso(now.Add(-time.Minute))+"&end="+iso(now.Add(time.Minute)), a.token, nil))); got != 1 {
			t.Errorf("history after unsnoozing: %d issues in the last minute, want 1", got)
		}
	})
}

func TestHandler_RuleScopes(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		dev := e.user(t, "dev@example.com")
		e.member(t, a.org, dev, store.RoleMember)
		path := rulesPath(a)
		ruleID := str(t, e.want(t, http.StatusOK, "GET", path, a.token, nil), 0, "id")
		rulePath := path + ruleID + "/"
		body := frequencyRule(a, e.integration(t, a.org, "webhook"))
		snooze := map[string]any{"target": "me"}

		reads := func(code int) []check {
			return []check{
				{"GET", path, nil, code},
				{"GET", path + "configuration/", nil, code},
				{"GET", rulePath, nil, code},
				{"GET", rulePath + "group-history/", nil, code},
			}
		}
		writes := func(code int) []check {
			return []check{
				{"POST", path, body, code},
				{"PUT", rulePath, map[string]any{"name": "Renamed"}, code},
				{"POST", rulePath + "snooze/", snooze, code},
				{"DELETE", rulePath + "snooze/", nil, code},
			}
		}
		e.runScopeCases(t, []scopeCase{
			{"project:read", e.token(t, a.user, "project:read"), append(reads(http.StatusOK), append(writes(http.StatusForbidden),
				check{"DELETE", rulePath, nil, http.StatusForbidden})...)},
			{"alerts:read", e.token(t, a.user, "alerts:read"), append(reads(http.StatusOK), writes(http.StatusForbidden)...)},
			{"event:read and org:read", e.token(t, a.user, "event:read", "org:read"), append(reads(http.StatusForbidden), writes(http.StatusForbidden)...)},
			{"alerts:write", e.token(t, a.user, "alerts:write"), append(reads(http.StatusOK),
				check{"POST", path, body, http.StatusCreated},
				check{"PUT", rulePath, map[string]any{"name": "Renamed"}, http.StatusOK},
				check{"POST", rulePath + "snooze/", snooze, http.StatusCreated},
				check{"DELETE", rulePath + "snooze/", nil, http.StatusNoContent})},
			{"project:write", e.token(t, a.user, "project:write"), []check{
				{"PUT", rulePath, map[string]any{"name": "Renamed again"}, http.StatusOK}}},
			// A member's role allows alerts:write, as Sentry's.
			{"member role", e.token(t, dev, store.AllScopes...), []check{
				{"GET", path, nil, http.StatusOK},
				{"POST", path, body, http.StatusCreated}}},
		})
		// Without a token: 401 on every path.
		for _, c := range append(reads(0), writes(0)...) {
			wantDetail(t, e.want(t, http.StatusUnauthorized, c.method, c.path, "", c.body))
		}
		v := e.want(t, http.StatusOK, "GET", path, a.token, nil)
		if l := list(t, v); len(l) != 3 || str(t, l[0], "name") != "Renamed again" {
			t.Errorf("rules = %v, want the renamed default and two created", v)
		}
	})
}

// TestHandler_RuleTenancy checks that another organization's token gets
// 404 on every rule path of this one, by slug or by id, and changes nothing.
func TestHandler_RuleTenancy(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		b := e.tenant(t, "globex")
		ctx := context.Background()
		bRule := e.want(t, http.StatusCreated, "POST", rulesPath(b), b.token, frequencyRule(b, e.integration(t, b.org, "webhook")))
		aWebhook := e.integration(t, a.org, "webhook")
		bRuleID := str(t, bRule, "id")
		bDefID := str(t, e.want(t, http.StatusOK, "GET", rulesPath(b), b.token, nil), 0, "id")
		e.want(t, http.StatusCreated, "POST", rulesPath(b)+bRuleID+"/snooze/", b.token, map[string]any{"target": "everyone"})
		bRes := e.ingestEvents(t, b.project, time.Now(), eventtest.PythonError(1, time.Now(), nil))
		fire(t, e, b, bRes[0], store.ActivityNewIssue, time.Now())

		bViews := []string{rulesPath(b), rulesPath(b) + bRuleID + "/", rulesPath(b) + bDefID + "/group-history/"}
		before := map[string]any{}
		for _, p := range bViews {
			before[p] = e.want(t, http.StatusOK, "GET", p, b.token, nil)
		}

		bOrgID := strconv.FormatInt(b.org.ID, 10)
		bProjID := strconv.FormatInt(b.project.ID, 10)
		var prefixes []string
		for _, org := range []string{"globex", bOrgID, "acme"} {
			for _, proj := range []string{"globex-web", bProjID} {
				prefixes = append(prefixes, "/api/0/projects/"+org+"/"+proj+"/rules/")
			}
		}
		// B's rules named under A's own project.
		aPrefix := rulesPath(a)
		var reqs []route
		for _, pp := range append(prefixes, aPrefix) {
			for _, rid := range []string{bRuleID, bDefID} {
				rp := pp + rid + "/"
				reqs = append(reqs,
					route{"GET", rp, nil},
					route{"PUT", rp, map[string]any{"name": "Stolen"}},
					route{"DELETE", rp, nil},
					route{"POST", rp + "snooze/", map[string]any{"target": "everyone"}},
					route{"DELETE", rp + "snooze/", nil},
					route{"GET", rp + "group-history/", nil},
				)
			}
			if pp == aPrefix {
				continue
			}
			reqs = append(reqs,
				route{"GET", pp, nil},
				route{"POST", pp, frequencyRule(a, aWebhook)},
				route{"GET", pp + "configuration/", nil},
			)
		}
		for _, r := range reqs {
			code, _, v := e.do(t, r.method, r.path, a.token, r.body)
			if code != http.StatusNotFound {
				t.Errorf("A's %s %s: %d %v, want 404", r.method, r.path, code, v)
				continue
			}
			wantDetail(t, v)
		}

		for _, p := range bViews {
			if after := e.want(t, http.StatusOK, "GET", p, b.token, nil); !reflect.DeepEqual(before[p], after) {
				t.Errorf("B's %s changed:\nbefore %v\nafter  %v", p, before[p], after)
			}
		}
		bid, _ := strconv.ParseInt(bRuleID, 10, 64)
		sn, err := e.st.RuleSnoozes(ctx, []int64{bid}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(sn[bid]) != 1 || sn[bid][0].UserID != 0 {
			t.Errorf("B's snoozes = %+v, want B's own for everyone", sn[bid])
		}
		if l := list(t, e.want(t, http.StatusOK, "GET", rulesPath(a), a.token, nil)); len(l) != 1 {
			t.Errorf("A's rules = %v, want its default alone", l)
		}
		// A rule of A cannot name B's people either (checked in
		// TestHandler_RuleValidation); and B's history holds B's issue only.
		if got := get(before[bViews[2]], 0, "group", "id"); got != fmt.Sprint(bRes[0].IssueID) {
			t.Errorf("B's history = %v", before[bViews[2]])
		}
	})
}
