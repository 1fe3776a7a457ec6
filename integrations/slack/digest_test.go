package slack

import (
	"context"
	"strings"
	"testing"

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
