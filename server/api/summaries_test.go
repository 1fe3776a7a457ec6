package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/summaries"
)

// summariesPath is the summaries collection of tenant a's project.
func summariesPath(a *tenant) string {
	return "/api/0/projects/" + a.org.Slug + "/" + a.project.Slug + "/summaries/"
}

// weekdaySummary is a valid summary body: weekdays at 09:00 in Shanghai,
// to the integration's #ops channel.
func weekdaySummary(integration string) map[string]any {
	return map[string]any{"name": "Morning report", "schedule": "0 9 * * MON-FRI", "timezone": "Asia/Shanghai",
		"integration": integration, "target": "#ops"}
}

// storedSummary reads a summary, by its API id, from the store.
func storedSummary(t *testing.T, e *env, a *tenant, sid string) *store.Summary {
	t.Helper()
	n, err := strconv.ParseInt(sid, 10, 64)
	if err != nil {
		t.Fatalf("summary id %q is not a number in a string", sid)
	}
	sm, err := e.st.SummaryGet(context.Background(), a.org.ID, a.project.ID, n)
	if err != nil {
		t.Fatalf("summary %s: %v", sid, err)
	}
	return sm
}

// times reads a JSON list of RFC 3339 times.
func times(t *testing.T, v any) []time.Time {
	t.Helper()
	var out []time.Time
	for _, it := range list(t, v) {
		s, ok := it.(string)
		if !ok {
			t.Fatalf("%#v is not a time string", it)
		}
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatalf("%q is not an RFC 3339 time: %v", s, err)
		}
		out = append(out, ts)
	}
	return out
}

// summaryDeliveries lists the organization's queued summary deliveries.
func summaryDeliveries(t *testing.T, e *env, org *store.Organization) []*store.Delivery {
	t.Helper()
	ds, err := e.st.DeliveryList(context.Background(), org.ID, &store.DeliveryFilter{Page: store.Page{Limit: 100}})
	if err != nil {
		t.Fatalf("deliveries of %s: %v", org.Slug, err)
	}
	var out []*store.Delivery
	for _, d := range ds {
		if d.Kind == summaries.Kind {
			out = append(out, d)
		}
	}
	return out
}

// isWeekday reports whether t falls on Monday to Friday.
func isWeekday(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }

// nextWeekday is the first weekday after t's day, at the same time of day.
func nextWeekday(t time.Time) time.Time {
	for t = t.AddDate(0, 0, 1); !isWeekday(t); t = t.AddDate(0, 0, 1) {
	}
	return t
}

// prevWeekday is the last weekday before t's day, at the same time of day.
func prevWeekday(t time.Time) time.Time {
	for t = t.AddDate(0, 0, -1); !isWeekday(t); t = t.AddDate(0, 0, -1) {
	}
	return t
}

func TestHandler_SummaryCRUD(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		ctx := context.Background()
		path := summariesPath(a)
		slack := e.integration(t, a.org, "slack")

		if v := e.want(t, http.StatusOK, "GET", path, a.token, nil); len(list(t, v)) != 0 {
			t.Fatalf("new project's summaries = %v, want none", v)
		}

		// Create.
		before := time.Now().UTC()
		created := e.want(t, http.StatusCreated, "POST", path, a.token, weekdaySummary(slack))
		after := time.Now().UTC()
		sid := str(t, created, "id")
		for field, want := range map[string]any{"name": "Morning report", "schedule": "0 9 * * MON-FRI",
			"timezone": "Asia/Shanghai", "integration": slack, "target": "#ops", "lastRun": nil} {
			if got := get(created, field); !reflect.DeepEqual(got, want) {
				t.Errorf("created %s = %#v, want %#v", field, got, want)
			}
		}
		if dc, err := time.Parse(time.RFC3339, str(t, created, "dateCreated")); err != nil ||
			dc.Before(before.Add(-time.Second)) || dc.After(after.Add(time.Second)) {
			t.Errorf("dateCreated = %v (%v), want between %v and %v", get(created, "dateCreated"), err, before, after)
		}

		// Weekdays at 09:00 in Shanghai are weekdays at 01:00Z: five
		// consecutive ones, the first the next after the request.
		runs := times(t, get(created, "nextRuns"))
		if len(runs) != 5 {
			t.Fatalf("nextRuns = %v, want five", get(created, "nextRuns"))
		}
		for i, r := range runs {
			if r.Location() != time.UTC || r.Hour() != 1 || r.Minute() != 0 || r.Second() != 0 || !isWeekday(r) {
				t.Errorf("nextRuns[%d] = %v, want a weekday at 01:00Z", i, r)
			}
			if i > 0 && !r.Equal(nextWeekday(runs[i-1])) {
				t.Errorf("nextRuns[%d] = %v, want the weekday after %v", i, r, runs[i-1])
			}
		}
		if !runs[0].After(before) || prevWeekday(runs[0]).After(after) {
			t.Errorf("first run %v is not the next weekday 01:00Z after %v", runs[0], before)
		}
		sm := storedSummary(t, e, a, sid)
		if !sm.NextRun.Equal(runs[0]) || sm.CreatedBy == nil || *sm.CreatedBy != a.user.ID || sm.ProjectID != a.project.ID {
			t.Errorf("stored next run %v (want %v), created by %v, project %d", sm.NextRun, runs[0], sm.CreatedBy, sm.ProjectID)
		}

		summaryPath := path + sid + "/"
		got := e.want(t, http.StatusOK, "GET", summaryPath, a.token, nil)
		delete(got.(map[string]any), "nextRuns")
		delete(created.(map[string]any), "nextRuns")
		if !reflect.DeepEqual(got, created) {
			t.Errorf("GET after POST:\n%v\nwant\n%v", got, created)
		}

		// The built-in email, with the time zone left out (UTC) and the
		// integration given as null.
		second := e.want(t, http.StatusCreated, "POST", path, a.token, map[string]any{"name": "Daily",
			"schedule": "@daily", "integration": nil, "target": "ops@example.com, Dev <dev@example.com>"})
		secondID := str(t, second, "id")
		if get(second, "integration") != nil || get(second, "timezone") != "UTC" {
			t.Errorf("built-in email summary = %v, want integration null and timezone UTC", second)
		}
		for i, r := range times(t, get(second, "nextRuns")) {
			if r.Hour() != 0 || r.Minute() != 0 || (i == 0 && !r.After(before)) {
				t.Errorf("@daily nextRuns[%d] = %v, want midnights UTC after %v", i, r, before)
			}
		}

		// Pagination, as the rules'.
		code, hdr, v := e.do(t, "GET", path+"?per_page=1", a.token, nil)
		if code != http.StatusOK || len(list(t, v)) != 1 || str(t, v, 0, "id") != sid {
			t.Errorf("first page = %d %v, want the first summary", code, v)
		}
		if link := hdr.Get("Link"); !strings.Contains(link, `rel="next"; results="true"; cursor="0:1:0"`) {
			t.Errorf("Link = %q, want a next page", link)
		}
		code, hdr, v = e.do(t, "GET", path+"?per_page=1&cursor=0:1:0", a.token, nil)
		if code != http.StatusOK || len(list(t, v)) != 1 || str(t, v, 0, "id") != secondID {
			t.Errorf("second page = %d %v, want the second summary", code, v)
		}
		if link := hdr.Get("Link"); !strings.Contains(link, `rel="next"; results="false"`) {
			t.Errorf("Link = %q, want no next page", link)
		}
		if len(times(t, get(v, 0, "nextRuns"))) != 5 {
			t.Errorf("listed summary's nextRuns = %v, want five", get(v, 0, "nextRuns"))
		}

		// PUT changes what it names and keeps the rest, the next run too.
		sm = storedSummary(t, e, a, sid)
		sentinel := time.Date(2031, 1, 2, 3, 4, 0, 0, time.UTC)
		sm.NextRun = sentinel
		if _, err := e.st.SummaryUpdate(ctx, a.org.ID, sm); err != nil {
			t.Fatal(err)
		}
		updated := e.want(t, http.StatusOK, "PUT", summaryPath, a.token, map[string]any{"name": "Renamed"})
		for field, want := range map[string]any{"id": sid, "name": "Renamed", "schedule": "0 9 * * MON-FRI",
			"timezone": "Asia/Shanghai", "integration": slack, "target": "#ops"} {
			if got := get(updated, field); !reflect.DeepEqual(got, want) {
				t.Errorf("after renaming %s = %#v, want %#v", field, got, want)
			}
		}
		if got := storedSummary(t, e, a, sid).NextRun; !got.Equal(sentinel) {
			t.Errorf("renaming moved the next run to %v", got)
		}
		// The same schedule sent back is no change either.
		e.want(t, http.StatusOK, "PUT", summaryPath, a.token, map[string]any{"schedule": "0 9 * * MON-FRI", "timezone": "Asia/Shanghai"})
		if got := storedSummary(t, e, a, sid).NextRun; !got.Equal(sentinel) {
			t.Errorf("the same schedule moved the next run to %v", got)
		}
		// A new schedule moves it: 18:30 in Shanghai is 10:30Z.
		before = time.Now().UTC()
		updated = e.want(t, http.StatusOK, "PUT", summaryPath, a.token, map[string]any{"schedule": "30 18 * * *"})
		next := storedSummary(t, e, a, sid).NextRun
		if next.Hour() != 10 || next.Minute() != 30 || !next.After(before) || next.After(before.Add(24*time.Hour)) {
			t.Errorf("next run after the new schedule = %v, want the next 10:30Z after %v", next, before)
		}
		if runs := times(t, get(updated, "nextRuns")); len(runs) != 5 || !runs[0].Equal(next) {
			t.Errorf("nextRuns after the new schedule = %v, want five from %v", runs, next)
		}
		// So does a new time zone: 18:30 in UTC.
		e.want(t, http.StatusOK, "PUT", summaryPath, a.token, map[string]any{"timezone": "UTC"})
		if next := storedSummary(t, e, a, sid).NextRun; next.Hour() != 18 || next.Minute() != 30 {
			t.Errorf("next run after the new time zone = %v, want 18:30Z", next)
		}
		// Moving to the built-in email needs addresses: #ops is none.
		v = e.want(t, http.StatusBadRequest, "PUT", summaryPath, a.token, map[string]any{"integration": nil})
		if _, ok := get(v, "target").([]any); !ok {
			t.Errorf("built-in email with target #ops: body %v has no target messages", v)
		}
		updated = e.want(t, http.StatusOK, "PUT", summaryPath, a.token, map[string]any{"integration": nil, "target": "ops@example.com"})
		if get(updated, "integration") != nil || get(updated, "target") != "ops@example.com" {
			t.Errorf("after moving to the built-in email = %v", updated)
		}
		if got := storedSummary(t, e, a, sid); got.IntegrationID != nil || got.Name != "Renamed" {
			t.Errorf("stored after moving to the built-in email: integration %v, name %q", got.IntegrationID, got.Name)
		}

		// Delete answers 204.
		code, _, v = e.do(t, "DELETE", summaryPath, a.token, nil)
		if code != http.StatusNoContent || v != nil {
			t.Errorf("DELETE = %d %v, want 204 without a body", code, v)
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", summaryPath, a.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "DELETE", summaryPath, a.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "PUT", summaryPath, a.token, map[string]any{"name": "Back"}))
		wantDetail(t, e.want(t, http.StatusNotFound, "POST", summaryPath+"send-now/", a.token, nil))
		for _, bad := range []string{"0", "-1", "x", "99999999999999999999"} {
			wantDetail(t, e.want(t, http.StatusNotFound, "GET", path+bad+"/", a.token, nil))
		}
		v = e.want(t, http.StatusOK, "GET", path, a.token, nil)
		if l := list(t, v); len(l) != 1 || str(t, l[0], "id") != secondID {
			t.Errorf("summaries after delete = %v, want only the second", v)
		}
	})
}

// TestHandler_SummaryValidation sends bad summaries to POST and PUT: each
// is 400 with Sentry's {"field": ["message"]} body, and nothing is saved.
func TestHandler_SummaryValidation(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		b := e.tenant(t, "globex")
		path := summariesPath(a)
		aSlack, aEmail := e.integration(t, a.org, "slack"), e.integration(t, a.org, "email")
		aWebhook, aGitHub := e.integration(t, a.org, "webhook"), e.integration(t, a.org, "github")
		bSlack := e.integration(t, b.org, "slack")
		existing := e.want(t, http.StatusCreated, "POST", path, a.token, weekdaySummary(aSlack))
		summaryPath := path + str(t, existing, "id") + "/"

		with := func(changes map[string]any) map[string]any {
			body := weekdaySummary(aSlack)
			for k, v := range changes {
				if v == nil {
					delete(body, k)
				} else {
					body[k] = v
				}
			}
			return body
		}
		null := json.RawMessage("null")
		for _, tc := range []struct {
			name     string
			body     map[string]any
			field    string
			contains string // in the field's message
			put      bool   // also refused by PUT (fields PUT may leave out are not)
		}{
			{"no name", with(map[string]any{"name": nil}), "name", "required", false},
			{"blank name", with(map[string]any{"name": "  "}), "name", "blank", true},
			{"null name", with(map[string]any{"name": null}), "name", "null", true},
			{"name not a string", with(map[string]any{"name": 12}), "name", "string", true},
			{"name too long", with(map[string]any{"name": strings.Repeat("n", 129)}), "name", "128", true},
			{"no schedule", with(map[string]any{"schedule": nil}), "schedule", "required", false},
			{"blank schedule", with(map[string]any{"schedule": " "}), "schedule", "blank", true},
			{"schedule not a string", with(map[string]any{"schedule": 9}), "schedule", "string", true},
			{"bad schedule", with(map[string]any{"schedule": "0 9 * * FUNDAY"}), "schedule", `schedule "0 9 * * FUNDAY"`, true},
			{"six fields", with(map[string]any{"schedule": "0 0 9 * * MON"}), "schedule", `schedule "0 0 9 * * MON"`, true},
			{"hour out of range", with(map[string]any{"schedule": "0 25 * * *"}), "schedule", `schedule "0 25 * * *"`, true},
			{"time zone in the schedule", with(map[string]any{"schedule": "CRON_TZ=Asia/Tokyo 0 9 * * *"}), "schedule", "timezone", true},
			{"schedule that never runs", with(map[string]any{"schedule": "0 0 30 2 *"}), "schedule", "never runs", true},
			{"bad time zone", with(map[string]any{"timezone": "Mars/Olympus"}), "timezone", "Mars/Olympus", true},
			{"server's time zone", with(map[string]any{"timezone": "Local"}), "timezone", "Local", true},
			{"time zone not a string", with(map[string]any{"timezone": 8}), "timezone", "string", true},
			{"unknown integration", with(map[string]any{"integration": "999999"}), "integration", "999999", true},
			{"integration not an id", with(map[string]any{"integration": "slack"}), "integration", "slack", true},
			{"integration an object", with(map[string]any{"integration": map[string]any{"id": aSlack}}), "integration", "not an integration id", true},
			{"another organization's integration", with(map[string]any{"integration": bSlack}), "integration", bSlack, true},
			{"webhook integration", with(map[string]any{"integration": aWebhook}), "integration", "webhook", true},
			{"github integration", with(map[string]any{"integration": aGitHub}), "integration", "github", true},
			{"built-in email without a target", with(map[string]any{"integration": nil, "target": nil}), "target", "email addresses", false},
			{"built-in email to a channel", with(map[string]any{"integration": null}), "target", "#ops", true},
			{"built-in email to a blank target", with(map[string]any{"integration": null, "target": " "}), "target", "email addresses", true},
			{"email integration to a channel", with(map[string]any{"integration": aEmail}), "target", "#ops", true},
			{"target not a string", with(map[string]any{"target": []any{"#ops"}}), "target", "string", true},
			{"target too long", with(map[string]any{"target": "#" + strings.Repeat("o", 1024)}), "target", "1024", true},
			{"target with a newline", with(map[string]any{"target": "#ops\n#dev"}), "target", "control", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				methods := []string{"POST"}
				if tc.put {
					methods = append(methods, "PUT")
				}
				for _, m := range methods {
					p := path
					if m == "PUT" {
						p = summaryPath
					}
					v := e.want(t, http.StatusBadRequest, m, p, a.token, tc.body)
					msgs, ok := get(v, tc.field).([]any)
					if !ok || len(msgs) == 0 {
						t.Errorf("%s: body %v has no messages for %s", m, v, tc.field)
						continue
					}
					if len(v.(map[string]any)) != 1 {
						t.Errorf("%s: body %v has other fields than %s", m, v, tc.field)
					}
					if s, _ := msgs[0].(string); !strings.Contains(s, tc.contains) {
						t.Errorf("%s: %s message %q does not mention %q", m, tc.field, s, tc.contains)
					}
				}
			})
		}

		// The time zone's and the schedule's problems are each under their field.
		v := e.want(t, http.StatusBadRequest, "POST", path, a.token, with(map[string]any{"schedule": "61 * * * *",
			"timezone": "Nowhere/Else", "name": ""}))
		for field, part := range map[string]string{"schedule": "61 * * * *", "timezone": "Nowhere/Else", "name": "blank"} {
			if s, _ := get(v, field, 0).(string); !strings.Contains(s, part) {
				t.Errorf("body %v: %s message does not mention %q", v, field, part)
			}
		}
		// A body that is not JSON is Sentry's detail.
		wantDetail(t, e.want(t, http.StatusBadRequest, "POST", path, a.token, "{"))

		// Nothing was saved or changed.
		v = e.want(t, http.StatusOK, "GET", path, a.token, nil)
		if l := list(t, v); len(l) != 1 {
			t.Fatalf("summaries after bad requests = %v, want the one", v)
		}
		delete(v.([]any)[0].(map[string]any), "nextRuns")
		delete(existing.(map[string]any), "nextRuns")
		if !reflect.DeepEqual(v.([]any)[0], existing) {
			t.Errorf("summary after bad PUTs = %v, want %v", v.([]any)[0], existing)
		}

		// What the checks accept: an email integration with addresses,
		// members and teams, or none (its own recipients); Slack without a
		// target (its default channel); an id as a number.
		for _, body := range []map[string]any{
			with(map[string]any{"integration": aEmail, "target": "ops@example.com, user:acme@example.com, team:acme-ops"}),
			with(map[string]any{"integration": aEmail, "target": nil}),
			with(map[string]any{"target": nil}),
			with(map[string]any{"integration": json.RawMessage(aSlack)}),
			with(map[string]any{"schedule": "@every 6h", "timezone": nil}),
		} {
			created := e.want(t, http.StatusCreated, "POST", path, a.token, body)
			if want, _ := body["target"].(string); get(created, "target") != want {
				t.Errorf("created target = %v, want %q", get(created, "target"), want)
			}
		}
	})
}

// TestHandler_SummarySendNow queues a summary now, through its integration
// or the built-in email, without touching its schedule.
func TestHandler_SummarySendNow(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		path := summariesPath(a)
		slack := e.integration(t, a.org, "slack")
		viaSlack := e.want(t, http.StatusCreated, "POST", path, a.token, weekdaySummary(slack))
		viaEmail := e.want(t, http.StatusCreated, "POST", path, a.token, map[string]any{"name": "Nightly",
			"schedule": "0 2 * * *", "target": "ops@example.com"})
		nextBefore := storedSummary(t, e, a, str(t, viaSlack, "id")).NextRun

		if ds := summaryDeliveries(t, e, a.org); len(ds) != 0 {
			t.Fatalf("summary deliveries before send-now: %d", len(ds))
		}
		before := time.Now().UTC()
		v := e.want(t, http.StatusAccepted, "POST", path+str(t, viaSlack, "id")+"/send-now/", a.token, nil)
		after := time.Now().UTC()
		if !reflect.DeepEqual(v, map[string]any{"queued": true}) {
			t.Errorf("send-now = %v, want {\"queued\": true}", v)
		}
		ds := summaryDeliveries(t, e, a.org)
		if len(ds) != 1 {
			t.Fatalf("summary deliveries after send-now: %d, want 1", len(ds))
		}
		d := ds[0]
		slackID, _ := strconv.ParseInt(slack, 10, 64)
		if d.Provider != "slack" || d.IntegrationID == nil || *d.IntegrationID != slackID || d.Target != "#ops" ||
			d.ProjectID == nil || *d.ProjectID != a.project.ID || d.Status != store.DeliveryPending {
			t.Errorf("delivery = provider %q, integration %v, target %q, project %v, status %q; want slack #ops of %d, pending",
				d.Provider, d.IntegrationID, d.Target, d.ProjectID, d.Status, a.project.ID)
		}
		var opts summaries.Options
		if err := json.Unmarshal([]byte(d.Options), &opts); err != nil {
			t.Fatalf("delivery options %q: %v", d.Options, err)
		}
		// A summary that never ran reports on the last day.
		if id(opts.Summary) != str(t, viaSlack, "id") || opts.Name != "Morning report" ||
			opts.To.Before(before) || opts.To.After(after) || opts.To.Sub(opts.From) != 24*time.Hour {
			t.Errorf("delivery options = %+v, want summary %s over the day before the request", opts, str(t, viaSlack, "id"))
		}
		// The schedule is unchanged, and the summary has not run on it.
		sm := storedSummary(t, e, a, str(t, viaSlack, "id"))
		if !sm.NextRun.Equal(nextBefore) || sm.LastRun != nil {
			t.Errorf("after send-now next run %v (was %v), last run %v", sm.NextRun, nextBefore, sm.LastRun)
		}

		// The built-in email; the deliveries API shows both.
		e.want(t, http.StatusAccepted, "POST", path+str(t, viaEmail, "id")+"/send-now/", a.token, nil)
		v = e.want(t, http.StatusOK, "GET", "/api/0/organizations/"+a.org.Slug+"/deliveries/", a.token, nil)
		var got []string
		for _, it := range list(t, v) {
			if get(it, "kind") == summaries.Kind {
				got = append(got, fmt.Sprint(get(it, "provider"), " ", get(it, "target"), " ", get(it, "integration")))
			}
		}
		want := []string{"email ops@example.com <nil>", "slack #ops " + slack}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("summary deliveries listed = %v, want %v (newest first)", got, want)
		}
	})
}

// TestHandler_SummaryTenancy checks that another organization's summaries
// are 404 on every path, by its slugs or through one's own project, and
// that nothing of them changes.
func TestHandler_SummaryTenancy(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		b := e.tenant(t, "globex")
		bSummary := e.want(t, http.StatusCreated, "POST", summariesPath(b), b.token, weekdaySummary(e.integration(t, b.org, "slack")))
		bID := str(t, bSummary, "id")
		before := e.want(t, http.StatusOK, "GET", summariesPath(b)+bID+"/", b.token, nil)

		for _, base := range []string{summariesPath(b), summariesPath(a)} {
			p := base + bID + "/"
			wantDetail(t, e.want(t, http.StatusNotFound, "GET", p, a.token, nil))
			wantDetail(t, e.want(t, http.StatusNotFound, "PUT", p, a.token, map[string]any{"name": "Stolen"}))
			wantDetail(t, e.want(t, http.StatusNotFound, "POST", p+"send-now/", a.token, nil))
			wantDetail(t, e.want(t, http.StatusNotFound, "DELETE", p, a.token, nil))
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", summariesPath(b), a.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "POST", summariesPath(b), a.token, weekdaySummary(e.integration(t, a.org, "slack"))))
		if v := e.want(t, http.StatusOK, "GET", summariesPath(a), a.token, nil); len(list(t, v)) != 0 {
			t.Errorf("a's summaries = %v, want none", v)
		}

		after := e.want(t, http.StatusOK, "GET", summariesPath(b)+bID+"/", b.token, nil)
		delete(before.(map[string]any), "nextRuns")
		delete(after.(map[string]any), "nextRuns")
		if !reflect.DeepEqual(before, after) {
			t.Errorf("b's summary changed:\n%v\nwas\n%v", after, before)
		}
		if ds := summaryDeliveries(t, e, b.org); len(ds) != 0 {
			t.Errorf("b's summary deliveries: %d, want none", len(ds))
		}
	})
}

// TestHandler_SummaryScopes checks the rules' scopes: alerts:read and
// project:read read, alerts:write and project:write write.
func TestHandler_SummaryScopes(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		path := summariesPath(a)
		body := weekdaySummary(e.integration(t, a.org, "slack"))
		summaryPath := path + str(t, e.want(t, http.StatusCreated, "POST", path, a.token, body), "id") + "/"

		reads := func(code int) []check {
			return []check{{"GET", path, nil, code}, {"GET", summaryPath, nil, code}}
		}
		writes := func(code int) []check {
			return []check{
				{"POST", path, body, code},
				{"PUT", summaryPath, map[string]any{"name": "Renamed"}, code},
				{"POST", summaryPath + "send-now/", nil, code},
				{"DELETE", summaryPath, nil, code},
			}
		}
		e.runScopeCases(t, []scopeCase{
			{"project:read", e.token(t, a.user, "project:read"), append(reads(http.StatusOK), writes(http.StatusForbidden)...)},
			{"alerts:read", e.token(t, a.user, "alerts:read"), append(reads(http.StatusOK), writes(http.StatusForbidden)...)},
			{"event:read and org:read", e.token(t, a.user, "event:read", "org:read"), append(reads(http.StatusForbidden), writes(http.StatusForbidden)...)},
			{"project:write", e.token(t, a.user, "project:write"), []check{
				{"PUT", summaryPath, map[string]any{"name": "Renamed"}, http.StatusOK}}},
			{"alerts:write", e.token(t, a.user, "alerts:write"), append(reads(http.StatusOK),
				check{"POST", path, body, http.StatusCreated},
				check{"PUT", summaryPath, map[string]any{"name": "Renamed again"}, http.StatusOK},
				check{"POST", summaryPath + "send-now/", nil, http.StatusAccepted},
				check{"DELETE", summaryPath, nil, http.StatusNoContent})},
		})
		// Without a token: 401 on every path.
		for _, c := range append(reads(0), writes(0)...) {
			wantDetail(t, e.want(t, http.StatusUnauthorized, c.method, c.path, "", c.body))
		}
		// Only alerts:write's create is left; the read-only tokens queued nothing.
		v := e.want(t, http.StatusOK, "GET", path, a.token, nil)
		if l := list(t, v); len(l) != 1 || str(t, l[0], "name") != "Morning report" {
			t.Errorf("summaries = %v, want the one alerts:write created", v)
		}
		if ds := summaryDeliveries(t, e, a.org); len(ds) != 1 {
			t.Errorf("summary deliveries: %d, want alerts:write's one", len(ds))
		}
	})
}
