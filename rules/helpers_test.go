package rules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/monitors"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
)

// t0 is when the rule tests start. Every event carries its own receive
// time and every activity is evaluated at a chosen time, so the per-minute
// counters and the engine's clock are driven by the test, not by the wall
// clock.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// clock is the engine's fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// bundle is one test's world: a store with a tenant whose project has no
// rule (the default rule of new projects is removed so that counts are the
// test's own), and an engine on a fake clock.
type bundle struct {
	st      *store.Store
	user    *store.User
	org     *store.Organization
	team    *store.Team
	project *store.Project
	clock   *clock
	engine  *rules.Engine

	nextEvent int
	// lastIssue is the issue of the latest event sent.
	lastIssue int64
	// lastEvent is the event id of the latest event sent.
	lastEvent string
}

func setup(t testing.TB, s *store.Store) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{st: s, clock: &clock{t: t0}}
	var err error
	if b.user, err = s.UserCreate(ctx, &store.UserCreateParams{Email: "oncall@example.com", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	if b.org, err = s.OrganizationCreate(ctx, &store.OrganizationCreateParams{Slug: "acme", Name: "Acme", OwnerID: b.user.ID}); err != nil {
		t.Fatal(err)
	}
	_, member, err := s.Membership(ctx, b.user.ID, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if b.team, err = s.TeamCreate(ctx, b.org.ID, &store.TeamCreateParams{Slug: "ops", Name: "Ops", MemberID: member.ID}); err != nil {
		t.Fatal(err)
	}
	if b.project, _, err = s.ProjectCreate(ctx, b.org.ID, b.team.ID, &store.ProjectCreateParams{Slug: "shop", Name: "Shop", Platform: "python"}); err != nil {
		t.Fatal(err)
	}
	existing, err := s.RuleList(ctx, b.org.ID, b.project.ID, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range existing {
		if err := s.RuleDelete(ctx, b.org.ID, b.project.ID, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	b.engine = b.newEngine(t)
	return b
}

// newEngine returns another engine over the bundle's store and clock, as
// another worker process would run.
func (b *bundle) newEngine(t testing.TB) *rules.Engine {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := rules.NewEngine(b.st, log, nil, b.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// nodes reads a JSON list of conditions, filters or actions as the API
// receives them.
func nodes(t testing.TB, js string) []rules.Node {
	t.Helper()
	var out []rules.Node
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		t.Fatalf("nodes %s: %v", js, err)
	}
	return out
}

// mustNodes is nodes for the tests' literal JSON.
func mustNodes(js string) []rules.Node {
	var out []rules.Node
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		panic(fmt.Sprintf("nodes %s: %v", js, err))
	}
	return out
}

// twoActions are the actions of the test rules: a firing makes one
// notification request per action.
const twoActions = `[
	{"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction", "workspace": "1", "channel": "#ops"},
	{"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"}]`

// rule validates a rule and stores it in the bundle's project; actions
// default to twoActions.
func (b *bundle) rule(t testing.TB, r rules.Rule) *store.Rule {
	t.Helper()
	r.ProjectID = b.project.ID
	if r.Name == "" {
		r.Name = "test rule"
	}
	if r.Actions == nil {
		r.Actions = nodes(t, twoActions)
	}
	if err := rules.Validate(&r); err != nil {
		t.Fatalf("rule %+v: %v", r, err)
	}
	sr, err := b.st.RuleCreate(context.Background(), b.org.ID, r.ToStore())
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

// payload renders a Python error event received at the time: a ValueError
// raised in an in-app frame under a library frame, with a request, as the
// SDK sends it. fields are added to (or replace) the top-level keys; the
// fingerprint defaults to one issue for every event of the test.
func (b *bundle) payload(at time.Time, fields map[string]any) string {
	b.nextEvent++
	all := map[string]any{
		"environment": "production",
		"fingerprint": []string{"checkout"},
		"sdk":         map[string]any{"name": "sentry.python", "version": "2.19.0"},
		"request":     map[string]any{"method": "POST", "url": "https://shop.example.com/checkout?step=2"},
	}
	for k, v := range fields {
		all[k] = v
	}
	return eventtest.PythonError(b.nextEvent, at, all)
}

// envelope builds what the ingest server hands the store for payloads
// received together: each event parsed, grouped and compressed.
func (b *bundle) envelope(t testing.TB, at time.Time, payloads ...string) *store.IngestEnvelope {
	t.Helper()
	env := &store.IngestEnvelope{ProjectID: b.project.ID, OrganizationID: b.org.ID, Received: at}
	for _, js := range payloads {
		ev, err := event.Parse([]byte(js), event.ParseOptions{Received: at})
		if err != nil {
			t.Fatalf("parse %s: %v", js, err)
		}
		env.Events = append(env.Events, b.ingestEvent(t, ev, ""))
	}
	return env
}

func (b *bundle) ingestEvent(t testing.TB, ev *event.Event, kind string) *store.IngestEvent {
	t.Helper()
	g := grouping.Group(ev)
	data, err := json.Marshal(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	return &store.IngestEvent{ProjectID: b.project.ID, OrganizationID: b.org.ID, Event: ev, Hash: g.Hash,
		GroupingVersion: g.Version, Data: store.CompressEventData(data), Size: len(data), Kind: kind}
}

// monitorFailure builds the failure event of a cron monitor's check-in,
// as ingest stores an "error" check-in.
func (b *bundle) monitorFailure(t testing.TB, at time.Time, slug string) *store.IngestEnvelope {
	t.Helper()
	ev := monitors.FailureEvent(slug, "production", monitors.ReasonError, at)
	return &store.IngestEnvelope{ProjectID: b.project.ID, OrganizationID: b.org.ID, Received: at,
		Events: []*store.IngestEvent{b.ingestEvent(t, ev, store.ActivityCheckIn)}}
}

// store commits envelopes in one batch without evaluating anything.
func (b *bundle) store(t testing.TB, envs ...*store.IngestEnvelope) {
	t.Helper()
	if err := b.st.IngestBatch(context.Background(), envs); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	for _, env := range envs {
		for _, r := range env.Results {
			if r.Duplicate {
				t.Fatal("an event of the test was stored twice")
			}
			b.lastIssue = r.IssueID
		}
		if n := len(env.Events); n > 0 {
			b.lastEvent = env.Events[n-1].Event.ID
		}
	}
}

// send stores events received at the time, then evaluates what they did,
// read from the outbox as a worker does, at that time.
func (b *bundle) send(t testing.TB, at time.Time, fields ...map[string]any) {
	t.Helper()
	if len(fields) == 0 {
		fields = []map[string]any{nil}
	}
	payloads := make([]string, len(fields))
	for i, f := range fields {
		payloads[i] = b.payload(at, f)
	}
	b.store(t, b.envelope(t, at, payloads...))
	b.evaluate(t, b.engine, at)
}

// evaluate hands every pending outbox entry to the engine's Evaluate at
// the time, skipping status changes as HandleActivities does.
func (b *bundle) evaluate(t testing.TB, e *rules.Engine, at time.Time) {
	t.Helper()
	ctx := context.Background()
	b.clock.Set(at)
	entries, err := b.st.OutboxClaim(ctx, 10000, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(entries))
	for i, en := range entries {
		ids[i] = en.ID
		if en.Kind == store.ActivityStatus {
			continue
		}
		is, err := b.st.IssueByID(ctx, en.IssueID)
		if err != nil {
			t.Fatal(err)
		}
		act := &rules.Activity{Kind: en.Kind, Issue: is, Now: at}
		if en.EventRowID != nil {
			act.EventRowID = *en.EventRowID
		}
		if err := e.Evaluate(ctx, act); err != nil {
			t.Fatalf("evaluate %s of issue %d: %v", en.Kind, en.IssueID, err)
		}
	}
	if err := b.st.OutboxDone(ctx, ids); err != nil {
		t.Fatal(err)
	}
}

// update changes the latest event's issue as a person would, at the time.
func (b *bundle) update(t testing.TB, at time.Time, u store.IssueUpdate) {
	t.Helper()
	u.At = at
	u.ActorID = &b.user.ID
	if _, err := b.st.IssuesUpdate(context.Background(), b.org.ID, []int64{b.lastIssue}, &u); err != nil {
		t.Fatal(err)
	}
}

func status(s string) *string { return &s }

// fires counts a rule's firings, over all issues, from its fire history.
func (b *bundle) fires(t testing.TB, ruleID int64) int64 {
	t.Helper()
	hist, err := b.st.RuleFireHistory(context.Background(), b.org.ID, ruleID, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0), store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, g := range hist {
		n += g.Count
	}
	return n
}

// notifications lists the notification requests of a rule (all rules when
// ruleID is 0), newest first.
func (b *bundle) notifications(t testing.TB, ruleID int64) []*store.Notification {
	t.Helper()
	all, err := b.st.NotificationList(context.Background(), b.project.ID, store.Page{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []*store.Notification
	for _, n := range all {
		if ruleID == 0 || (n.RuleID != nil && *n.RuleID == ruleID) {
			out = append(out, n)
		}
	}
	return out
}

// checkFires checks a rule's firings so far, and that each made one
// notification request per action.
func (b *bundle) checkFires(t testing.TB, sr *store.Rule, want int64, when string) {
	t.Helper()
	got := b.fires(t, sr.ID)
	if got != want {
		t.Fatalf("%s: rule fired %d times, want %d", when, got, want)
	}
	var actions []rules.Node
	if err := json.Unmarshal([]byte(sr.Actions), &actions); err != nil {
		t.Fatal(err)
	}
	if n := len(b.notifications(t, sr.ID)); n != int(want)*len(actions) {
		t.Fatalf("%s: %d notification requests for %d firings of a rule with %d actions", when, n, want, len(actions))
	}
}
