package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
)

// planned is what a test expects of one delivery: its integration (nil
// for the built-in email route), provider and target.
type planned struct {
	Integration *store.Integration
	Provider    string
	Target      string
}

func (p planned) String() string {
	id := int64(0)
	if p.Integration != nil {
		id = p.Integration.ID
	}
	return fmt.Sprintf("{integration %d %s %q}", id, p.Provider, p.Target)
}

func describeDeliveries(ds []*store.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		id := int64(0)
		if d.IntegrationID != nil {
			id = *d.IntegrationID
		}
		out = append(out, fmt.Sprintf("{integration %d %s %q}", id, d.Provider, d.Target))
	}
	return out
}

func TestPlanner_Plan(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		slack := w.integration(t, w.org, "slack", map[string]any{"default_channel": "#general"}, map[string]any{"bot_token": "xoxb-1"})
		gh := w.integration(t, w.org, "github", map[string]any{"owner": "acme", "repo": "shop"}, map[string]any{"token": "ghp-1"})
		hook1 := w.integration(t, w.org, "webhook", map[string]any{"url": "https://hooks.example.com/1"}, nil)
		hook2 := w.integration(t, w.org, "webhook", map[string]any{"url": "https://hooks.example.com/2"}, nil)
		hookOff := w.integration(t, w.org, "webhook", map[string]any{"url": "https://hooks.example.com/off"}, nil)
		if err := w.st.IntegrationSetStatus(ctx, hookOff.ID, store.IntegrationDisabled, "turned off"); err != nil {
			t.Fatal(err)
		}
		slackOff := w.integration(t, w.org, "slack", nil, map[string]any{"bot_token": "xoxb-2"})
		if err := w.st.IntegrationSetStatus(ctx, slackOff.ID, store.IntegrationDisabled, "turned off"); err != nil {
			t.Fatal(err)
		}
		gone := w.integration(t, w.org, "slack", nil, map[string]any{"bot_token": "xoxb-3"})
		if err := w.st.IntegrationDelete(ctx, w.org.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		otherSlack := w.integration(t, w.other, "slack", nil, map[string]any{"bot_token": "xoxb-other"})

		// Issues for the email owners: one assigned to bob, one to team web.
		toBob := w.newIssue(t, "TypeError: assigned to bob")
		toWeb := w.newIssue(t, "KeyError: assigned to team web")
		for issue, u := range map[int64]*store.IssueUpdate{
			toBob: {Assign: true, AssigneeUserID: &w.bob.ID},
			toWeb: {Assign: true, AssigneeTeamID: &w.web.ID},
		} {
			u.ActorID = &w.owner.ID
			if _, err := w.st.IssuesUpdate(ctx, w.org.ID, []int64{issue}, u); err != nil {
				t.Fatal(err)
			}
		}
		everyone := "alice@example.com,bob@example.com,carol@example.com,owner@example.com"
		id := func(v int64) string { return fmt.Sprint(v) }

		for _, tc := range []struct {
			name   string
			issue  int64 // 0: the world's issue
			muted  []int64
			action map[string]any
			want   []planned
		}{
			{name: "notify with integration and target", action: notify(slack, "#ops"),
				want: []planned{{slack, "slack", "#ops"}}},
			{name: "notify without target uses the integration's default",
				action: map[string]any{"id": rules.NotifyIntegration, "integration": id(gh.ID)},
				want:   []planned{{gh, "github", ""}}},
			{name: "notify with a numeric integration id",
				action: map[string]any{"id": rules.NotifyIntegration, "integration": gh.ID, "target": "acme/api"},
				want:   []planned{{gh, "github", "acme/api"}}},
			{name: "slack action: workspace and channel",
				action: map[string]any{"id": rules.SlackNotify, "workspace": id(slack.ID), "channel": "#alerts"},
				want:   []planned{{slack, "slack", "#alerts"}}},
			{name: "slack action: channel_id wins over the channel name",
				action: map[string]any{"id": rules.SlackNotify, "workspace": id(slack.ID), "channel": "#alerts", "channel_id": "C024BE91L"},
				want:   []planned{{slack, "slack", "C024BE91L"}}},
			{name: "notify event service",
				action: map[string]any{"id": rules.ServiceNotify, "service": id(hook1.ID)},
				want:   []planned{{hook1, "webhook", ""}}},
			{name: "github ticket: the repo is the target",
				action: map[string]any{"id": rules.GitHubTicket, "integration": id(gh.ID), "repo": "acme/infra"},
				want:   []planned{{gh, "github", "acme/infra"}}},
			{name: "legacy notify: every enabled webhook",
				action: map[string]any{"id": rules.LegacyNotify},
				want:   []planned{{hook1, "webhook", ""}, {hook2, "webhook", ""}}},
			{name: "email a member",
				action: map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": w.alice.ID},
				want:   []planned{{nil, ProviderEmail, "alice@example.com"}}},
			{name: "email a member given as a string",
				action: map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": id(w.bob.ID)},
				want:   []planned{{nil, ProviderEmail, "bob@example.com"}}},
			{name: "email a muted member: nobody",
				muted:  []int64{w.alice.ID},
				action: map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": w.alice.ID}},
			{name: "email a user of another organization: nobody",
				action: map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": w.dave.ID}},
			{name: "email a team",
				action: map[string]any{"id": rules.EmailNotify, "targetType": "Team", "targetIdentifier": w.web.ID},
				want:   []planned{{nil, ProviderEmail, "carol@example.com"}}},
			{name: "email issue owners: the assignee", issue: toBob,
				action: map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"},
				want:   []planned{{nil, ProviderEmail, "bob@example.com"}}},
			{name: "email issue owners: the assigned team", issue: toWeb,
				action: map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners", "fallthroughType": "NoOne"},
				want:   []planned{{nil, ProviderEmail, "carol@example.com"}}},
			{name: "email issue owners: none, falls through to active members",
				action: map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"},
				want:   []planned{{nil, ProviderEmail, everyone}}},
			{name: "email issue owners: none, default fall through",
				action: map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners"},
				want:   []planned{{nil, ProviderEmail, everyone}}},
			{name: "email issue owners: none, falls through to no one",
				action: map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners", "fallthroughType": "NoOne"}},
			{name: "email issue owners: muted users left out",
				muted:  []int64{w.alice.ID, w.owner.ID},
				action: map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"},
				want:   []planned{{nil, ProviderEmail, "bob@example.com,carol@example.com"}}},
			{name: "email the muted assignee: nobody", issue: toBob, muted: []int64{w.bob.ID},
				action: map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"}},
			{name: "deleted integration plans nothing", action: notify(gone, "#ops")},
			{name: "disabled integration plans nothing", action: notify(slackOff, "#ops")},
			{name: "disabled slack workspace plans nothing",
				action: map[string]any{"id": rules.SlackNotify, "workspace": id(slackOff.ID), "channel": "#ops"}},
			{name: "another organization's integration plans nothing", action: notify(otherSlack, "#ops")},
			{name: "another organization's slack workspace plans nothing",
				action: map[string]any{"id": rules.SlackNotify, "workspace": id(otherSlack.ID), "channel": "#ops"}},
			{name: "another organization's service plans nothing",
				action: map[string]any{"id": rules.ServiceNotify, "service": id(otherSlack.ID)}},
			{name: "an integration that is no id plans nothing",
				action: map[string]any{"id": rules.NotifyIntegration, "integration": "slack"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				issue := tc.issue
				if issue == 0 {
					issue = w.issue
				}
				var muted []string
				for _, u := range tc.muted {
					muted = append(muted, fmt.Sprint(u))
				}
				before := len(w.deliveries(t, w.org))
				w.fire(t, issue, t0, strings.Join(muted, " "), tc.action)
				if n := w.fanOut(t); n != 1 {
					t.Fatalf("fan-out took %d requests, want 1", n)
				}
				got := w.deliveries(t, w.org)[before:]
				var want []string
				for _, p := range tc.want {
					want = append(want, p.String())
				}
				if g := describeDeliveries(got); !slices.Equal(g, want) {
					t.Fatalf("deliveries %v, want %v", g, want)
				}
				action, _ := json.Marshal(tc.action)
				for _, d := range got {
					var opts, wantOpts map[string]any
					_ = json.Unmarshal([]byte(d.Options), &opts)
					_ = json.Unmarshal(action, &wantOpts)
					switch {
					case d.Status != store.DeliveryPending || d.Attempts != 0:
						t.Errorf("delivery %d: status %s with %d attempts, want pending with none", d.ID, d.Status, d.Attempts)
					case d.NotificationID == nil || d.IssueID == nil || *d.IssueID != issue || d.RuleID == nil ||
						*d.RuleID != w.rule.ID || d.ProjectID == nil || *d.ProjectID != w.project.ID:
						t.Errorf("delivery %d does not name its request, issue %d, rule and project", d.ID, issue)
					case d.Kind != store.ActivityNewIssue || d.EventID != w.events[issue]:
						t.Errorf("delivery %d: kind %q, event %q; want new_issue, %s", d.ID, d.Kind, d.EventID, w.events[issue])
					case !d.NextAttempt.Equal(t0) || !d.DateCreated.Equal(t0):
						t.Errorf("delivery %d: due %s, created %s; want both at the firing, %s", d.ID, d.NextAttempt, d.DateCreated, t0)
					case !reflect.DeepEqual(opts, wantOpts):
						t.Errorf("delivery %d: options %s, want the action %s", d.ID, d.Options, action)
					case d.OrganizationID != w.org.ID:
						t.Errorf("delivery %d belongs to organization %d", d.ID, d.OrganizationID)
					}
				}
			})
		}
		if ds := w.deliveries(t, w.other); len(ds) != 0 {
			t.Errorf("the other organization has deliveries: %v", describeDeliveries(ds))
		}
	})
}

func TestPlanner_Idempotent(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		slack := w.integration(t, w.org, "slack", nil, map[string]any{"bot_token": "xoxb-1"})
		gh := w.integration(t, w.org, "github", map[string]any{"owner": "acme", "repo": "shop"}, map[string]any{"token": "ghp-1"})
		w.fire(t, w.issue, t0, "", notify(slack, "#ops"), notify(gh, ""))

		// The first fan-out, keeping the requests it planned.
		p := &planner{store: w.st}
		var taken []*store.PendingNotification
		n, err := w.st.NotificationsFanOut(ctx, 100, func(pn *store.PendingNotification) ([]*store.Delivery, error) {
			taken = append(taken, pn)
			return p.plan(ctx, pn)
		})
		if err != nil || n != 2 {
			t.Fatalf("fan-out: %d requests (%v), want 2", n, err)
		}
		first := w.deliveries(t, w.org)
		if len(first) != 2 {
			t.Fatalf("deliveries %v, want 2", describeDeliveries(first))
		}
		if first[0].IdempotencyKey == first[1].IdempotencyKey {
			t.Fatalf("two targets share the key %s", first[0].IdempotencyKey)
		}

		// The requests are taken: a second fan-out finds nothing.
		if n := w.fanOut(t); n != 0 {
			t.Fatalf("a second fan-out took %d requests", n)
		}
		// Planning the same requests again (a fan-out repeated after a
		// crash) names the same deliveries, and queuing them adds nothing.
		for _, pn := range taken {
			ds, err := p.plan(ctx, pn)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds {
				if !slices.ContainsFunc(first, func(f *store.Delivery) bool { return f.IdempotencyKey == d.IdempotencyKey }) {
					t.Errorf("planning again made the new key %s", d.IdempotencyKey)
				}
				if err := w.st.DeliveryCreate(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
		}
		if again := w.deliveries(t, w.org); len(again) != 2 {
			t.Fatalf("after planning again: deliveries %v, want the same 2", describeDeliveries(again))
		}

		// Another firing is another delivery for the same target.
		w.fire(t, w.issue, t0.Add(time.Hour), "", notify(slack, "#ops"))
		// Fan-outs racing each other take each request once.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := w.st.NotificationsFanOut(ctx, 1, func(pn *store.PendingNotification) ([]*store.Delivery, error) {
					return p.plan(ctx, pn)
				}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		w.fanOut(t)
		all := w.deliveries(t, w.org)
		if len(all) != 3 {
			t.Fatalf("after a second firing: deliveries %v, want 3", describeDeliveries(all))
		}
		if all[2].IdempotencyKey == all[0].IdempotencyKey || all[2].Target != "#ops" || !all[2].DateCreated.Equal(t0.Add(time.Hour)) {
			t.Errorf("the second firing's delivery %+v repeats the first's key %s", all[2], all[0].IdempotencyKey)
		}
	})
}

// TestPlanner_NotificationSettings: members who turned alert email off for
// the project (or everywhere, unless the project says otherwise) are left out.
func TestPlanner_NotificationSettings(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		for _, ns := range []store.NotificationSetting{
			{UserID: w.alice.ID, ProjectID: w.project.ID, Kind: store.NotifyAlerts, Enabled: false},
			{UserID: w.bob.ID, ProjectID: 0, Kind: store.NotifyAlerts, Enabled: false},
			{UserID: w.bob.ID, ProjectID: w.project.ID, Kind: store.NotifyAlerts, Enabled: true},
			{UserID: w.carol.ID, ProjectID: 0, Kind: store.NotifyWorkflow, Enabled: false},
		} {
			if err := w.st.NotificationSettingSet(ctx, &ns); err != nil {
				t.Fatal(err)
			}
		}
		members, err := w.st.MemberUsers(ctx, w.org.ID, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, m := range members {
			if m.ID != w.alice.ID && m.IsActive {
				want = append(want, m.Email)
			}
		}
		sort.Strings(want)
		before := len(w.deliveries(t, w.org))
		w.fire(t, w.issue, t0, "", map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners", "fallthroughType": "ActiveMembers"})
		w.fanOut(t)
		got := w.deliveries(t, w.org)[before:]
		if len(got) != 1 || got[0].Target != strings.Join(want, ",") {
			t.Errorf("emailed %+v, want %s (alice opted out here; bob opted out everywhere but in this project)", got, strings.Join(want, ","))
		}
	})
}
