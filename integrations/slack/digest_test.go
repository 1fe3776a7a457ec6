package slack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
)

// A digest is one message of its own (not in an issue's thread) listing
// its issues with their links; event data cannot mention anyone.
func TestNotifier_Notify_digest(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	project := integrations.Project{ID: 3, Slug: "backend", Name: "Backend"}
	n := &integrations.Notification{Kind: integrations.KindDigest, IdempotencyKey: "digest:1:int:2:#ops", Target: "#ops",
		Issue: integrations.Issue{Project: project},
		Digest: []integrations.DigestItem{
			{Issue: integrations.Issue{ID: 42, ShortID: "BACKEND-1A", Title: "<!channel> ZeroDivisionError", Count: 12,
				UserCount: 3, URL: "https://tocsin.example.com/organizations/acme/issues/42/", Project: project}, Alerts: 2},
			{Issue: integrations.Issue{ID: 43, ShortID: "BACKEND-1B", Title: "KeyError: 'sku'", Count: 1, UserCount: 1,
				URL: "https://tocsin.example.com/organizations/acme/issues/43/", Project: project},
				Reason: integrations.KindRegression},
		}}
	res, err := b.notifier.Notify(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	reqs := b.fake.Requests()
	if len(reqs) != 1 || reqs[0].Method != "chat.postMessage" {
		t.Fatalf("requests %+v, want one chat.postMessage", reqs)
	}
	form := reqs[0].Form
	if form.Get("channel") != "#ops" || form.Get("thread_ts") != "" || res.Handle == "" {
		t.Errorf("posted to %q in thread %q (handle %q), want a message of its own in #ops", form.Get("channel"), form.Get("thread_ts"), res.Handle)
	}
	// The attachments are JSON, with <, > and & written as \u escapes.
	body := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(form.Get("attachments"))
	for _, want := range []string{"2 issues in Backend", "BACKEND-1A", "12 events · 3 users · 2 alerts",
		"<https://tocsin.example.com/organizations/acme/issues/43/|KeyError: 'sku'>", "regression"} {
		if !strings.Contains(body, want) {
			t.Errorf("the digest lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<!channel>") {
		t.Error("a title's <!channel> reaches Slack unescaped")
	}
}

// A summary's issue titles are event data: no mention, link or markup
// gets through.
func TestNotifier_Notify_summaryInert(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	hostile := "<!channel> <@U024BE7LH> *bold* <https://evil.example|click> {{.Secret}} ](javascript:alert(1))"
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	n := &integrations.Notification{Kind: integrations.KindSummary, IdempotencyKey: "summary:1:run:1", Target: "#ops",
		Issue: integrations.Issue{Project: integrations.Project{Slug: "backend", Name: "Backend <!here>"}},
		Summary: &integrations.Summary{Name: "Daily <!everyone>", From: day.Add(-24 * time.Hour), To: day, Events: 5, NewIssues: 1,
			TopIssues:   []integrations.SummaryIssue{{ShortID: "BACKEND-1", Title: hostile, URL: "javascript:alert(2)", Events: 5, Users: 1}},
			EventsByDay: []integrations.DayCount{{Day: day.Add(-24 * time.Hour), Events: 5}},
			Releases:    []integrations.ReleaseHealth{{Release: "<!channel>@1.0", Sessions: 10, CrashFree: "90.00%"}}}}
	if _, err := b.notifier.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	reqs := b.fake.Requests()
	body := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(reqs[len(reqs)-1].Form.Get("attachments") +
		reqs[len(reqs)-1].Form.Get("text"))
	for _, bad := range []string{"<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<https://evil.example|", "javascript:alert(2)"} {
		if strings.Contains(body, bad) {
			t.Errorf("the summary carries %q to Slack:\n%s", bad, body)
		}
	}
	if !strings.Contains(body, "&lt;!channel&gt;") {
		t.Errorf("the hostile title is not shown escaped:\n%s", body)
	}
}
