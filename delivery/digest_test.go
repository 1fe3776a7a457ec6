package delivery

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
)

// A rule action with "digest": true collects its notifications per target:
// nothing is sent until the digest is due, then one notification lists
// the issues, most events first. A digest of one issue is sent as the
// notification it would have been. Actions without it go out at once.
func TestWorker_Digest(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		f := newFake()
		in := w.integration(t, w.org, "fake", map[string]any{"service": "chat"}, nil)
		digest := notify(in, "#ops")
		digest["digest"] = true
		wk := w.worker(t, f, Config{})

		second := w.newIssue(t, "KeyError: 'sku'")
		w.fire(t, w.issue, w.clock.Now(), "", digest, notify(in, "#now"))
		w.clock.Add(4*time.Minute + 50*time.Second)
		w.fire(t, second, w.clock.Now(), "", digest) // at 4:50, 10 s before the digest was due
		run(t, wk)
		if calls := f.callsTo("chat"); len(calls) != 1 || calls[0].Note.Target != "#now" {
			t.Fatalf("%d notifications before the digest is due (%+v), want only the immediate one to #now", len(calls), calls)
		}

		w.clock.Add(29 * time.Second) // 5:19: the record at 4:50 put the digest off to 5:20
		run(t, wk)
		if n := len(f.callsTo("chat")); n != 1 {
			t.Fatalf("%d notifications at 5:19, want the digest still waiting", n)
		}
		w.clock.Add(time.Second)
		run(t, wk)
		calls := f.callsTo("chat")
		if len(calls) != 2 {
			t.Fatalf("%d notifications at 5:20, want the digest too", len(calls))
		}
		n := calls[1].Note
		if n.Kind != integrations.KindDigest || n.Target != "#ops" || len(n.Digest) != 2 {
			t.Fatalf("notification %s to %s with %d issues, want a digest of 2 to #ops", n.Kind, n.Target, len(n.Digest))
		}
		ids := map[int64]bool{n.Digest[0].Issue.ID: true, n.Digest[1].Issue.ID: true}
		if !ids[w.issue] || !ids[second] || n.Issue.Project.Slug != "shop" {
			t.Errorf("digest of issues %v in project %q, want issues %d and %d of shop", ids, n.Issue.Project.Slug, w.issue, second)
		}
		if n.Digest[0].Issue.Count < n.Digest[1].Issue.Count {
			t.Errorf("digest order %d (%d events), %d (%d events): want most events first",
				n.Digest[0].Issue.ID, n.Digest[0].Issue.Count, n.Digest[1].Issue.ID, n.Digest[1].Issue.Count)
		}
		ds := w.deliveries(t, w.org)
		if d := ds[len(ds)-1]; d.Kind != integrations.KindDigest || d.Status != store.DeliveryDelivered || d.IssueID != nil {
			t.Errorf("digest delivery %+v, want logged delivered without an issue", d)
		}

		// One issue alone: its own notification, after the delay.
		w.clock.Add(time.Hour)
		w.fire(t, second, w.clock.Now(), "", digest)
		run(t, wk)
		w.clock.Add(5 * time.Minute)
		run(t, wk)
		calls = f.callsTo("chat")
		if len(calls) != 3 {
			t.Fatalf("%d notifications, want a third for the lone issue", len(calls))
		}
		if n := calls[2].Note; n.Kind != integrations.KindAlert || n.Issue.ID != second || n.Target != "#ops" || n.Rule == nil {
			t.Errorf("lone digest sent as %s about issue %d to %s (rule %v), want the alert about issue %d with its rule",
				n.Kind, n.Issue.ID, n.Target, n.Rule, second)
		}
		// Nothing more is due.
		w.clock.Add(time.Hour)
		run(t, wk)
		if n := len(f.callsTo("chat")); n != 3 {
			t.Errorf("%d notifications after everything was sent, want 3", n)
		}
	})
}

// During an integration's quiet hours alerts are held and sent as one
// digest when they end; a fatal issue, or an action marked "page", still
// goes out at once.
func TestWorker_QuietHours(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		f := newFake()
		// t0 is 10:00 UTC, 18:00 in Shanghai: quiet until 19:30 there.
		in := w.integration(t, w.org, "fake", map[string]any{"service": "chat", "quiet_hours": "17:00-19:30",
			"timezone": "Asia/Shanghai"}, nil)
		wk := w.worker(t, f, Config{})
		fatal := w.newIssueLevel(t, "SystemExit: out of memory", "fatal")
		third := w.newIssue(t, "TimeoutError: upstream")
		page := notify(in, "#ops")
		page["page"] = true

		w.fire(t, w.issue, w.clock.Now(), "", notify(in, "#ops"))
		w.fire(t, fatal, w.clock.Now(), "", notify(in, "#ops"))
		w.clock.Add(10 * time.Minute)
		w.fire(t, third, w.clock.Now(), "", notify(in, "#ops"), page)
		run(t, wk)
		calls := f.callsTo("chat")
		got := map[int64]int{}
		for _, c := range calls {
			got[c.Note.Issue.ID]++
		}
		if len(calls) != 2 || got[fatal] != 1 || got[third] != 1 {
			t.Fatalf("during quiet hours sent %v, want only the fatal issue and the paging action's alert", got)
		}

		w.clock.Set(t0.Add(90*time.Minute - time.Second)) // 19:29:59 in Shanghai
		run(t, wk)
		if n := len(f.callsTo("chat")); n != 2 {
			t.Fatalf("%d notifications before the quiet hours end, want 2", n)
		}
		w.clock.Set(t0.Add(90 * time.Minute))
		run(t, wk)
		calls = f.callsTo("chat")
		if len(calls) != 3 {
			t.Fatalf("%d notifications when the quiet hours end, want the held ones as a third", len(calls))
		}
		n := calls[2].Note
		if n.Kind != integrations.KindDigest || len(n.Digest) != 2 {
			t.Fatalf("held alerts sent as %s of %d issues, want one digest of the 2 held", n.Kind, len(n.Digest))
		}
	})
}

// The built-in email reaches each reader in their language and time zone
// (their user options): one message per language and zone.
func TestWorker_EmailReadersLanguages(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		if err := w.st.UserOptionsSet(ctx, w.alice.ID, store.UserOptions{Language: "zh-CN", Timezone: "Asia/Shanghai"}); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var got []*integrations.Notification
		mail := integrations.NotifierFunc(func(_ context.Context, n *integrations.Notification) (*integrations.Result, error) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, n)
			return &integrations.Result{Handle: "root-" + n.Language}, nil
		})
		w.fire(t, w.issue, t0, "", map[string]any{"id": rules.EmailNotify, "targetType": "IssueOwners", "fallthroughType": "AllMembers"})
		run(t, w.worker(t, newFake(), Config{Email: mail}))
		if len(got) != 2 {
			t.Fatalf("%d mails, want one in Chinese and one in English", len(got))
		}
		byLang := map[string]*integrations.Notification{}
		for _, n := range got {
			byLang[n.Language] = n
		}
		zh, en := byLang["zh-CN"], byLang[""]
		if zh == nil || zh.Target != w.alice.Email || zh.TimeZone != "Asia/Shanghai" {
			t.Errorf("the Chinese mail %+v, want alice's alone in her zone", zh)
		}
		if en == nil || strings.Contains(en.Target, w.alice.Email) || !strings.Contains(en.Target, w.bob.Email) {
			t.Errorf("the English mail goes to %q, want the others", en.Target)
		}
	})
}

// Email deliveries carry the template overrides of their organization,
// project or integration; a delivery whose notifier had to set an override
// aside is delivered, and the integration shows why.
func TestWorker_TemplateOverrides(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		for _, tm := range []*store.MessageTemplate{
			{OrganizationID: w.org.ID, Name: "email/notification.txt", Body: "org"},
			{OrganizationID: w.org.ID, ProjectID: &w.project.ID, Name: "email/notification.txt", Body: "project"},
			{OrganizationID: w.org.ID, Name: "email/notification.html", Body: "org html"},
		} {
			if _, err := w.st.TemplatePut(ctx, tm); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		var got []*integrations.Notification
		rec := &integrations.Provider{Name: "email", Build: func(map[string]any, map[string]any) (integrations.Notifier, error) {
			return integrations.NotifierFunc(func(_ context.Context, n *integrations.Notification) (*integrations.Result, error) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, n)
				return &integrations.Result{Warning: "template email/notification.html does not work, the built-in one was used"}, nil
			}), nil
		}}
		in := w.integration(t, w.org, "email", map[string]any{"to": []any{"oncall@example.com"}}, nil)
		wk, err := New(Config{Now: w.clock.Now, BaseURL: "https://tocsin.example.com"}, w.st, w.box,
			Registry{"email": rec}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		w.fire(t, w.issue, t0, "", notify(in, ""))
		run(t, wk)
		if len(got) != 1 {
			t.Fatalf("%d mails, want 1", len(got))
		}
		if tm := got[0].Templates; tm["email/notification.txt"] != "project" || tm["email/notification.html"] != "org html" {
			t.Errorf("templates %v, want the project's text and the organization's HTML", tm)
		}
		d := w.deliveryTo(t, in, "")
		if d.Status != store.DeliveryDelivered || !strings.Contains(d.LastError, "does not work") {
			t.Errorf("delivery %s with %q, want delivered with the warning", d.Status, d.LastError)
		}
		after, err := w.st.IntegrationGet(ctx, w.org.ID, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != store.IntegrationActive || !strings.Contains(after.StatusReason, "email/notification.html") {
			t.Errorf("integration %s (%q), want active and showing the warning", after.Status, after.StatusReason)
		}
	})
}
