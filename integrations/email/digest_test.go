package email

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email/emailtest"
)

func digestNotification() *integrations.Notification {
	project := integrations.Project{ID: 7, Slug: "backend", Name: "Backend"}
	return &integrations.Notification{
		Kind: integrations.KindDigest, IdempotencyKey: "digest:3:int:0:ops@example.com", Target: "ops@example.com",
		Issue: integrations.Issue{Project: project, Organization: "acme"},
		Digest: []integrations.DigestItem{
			{Issue: integrations.Issue{ID: 42, ShortID: "BACKEND-1A", Title: `ValueError: bad "input" <script>alert(1)</script>`,
				Count: 120, UserCount: 7, Project: project, URL: "https://tocsin.example.com/organizations/acme/issues/42/"},
				Alerts: 3, Reason: integrations.KindAlert},
			{Issue: integrations.Issue{ID: 43, ShortID: "BACKEND-1B", Title: "KeyError: 'sku'", Count: 4, UserCount: 1,
				Project: project, URL: "javascript:alert(2)"}, Alerts: 1, Reason: integrations.KindRegression},
		},
		At: testNow,
	}
}

// A digest is one message listing its issues, in both parts, with event
// data escaped in HTML and only http(s) links.
func TestNotifier_Notify_digest(t *testing.T) {
	t.Parallel()
	e, f := setup(t, emailtest.Options{}, TLSNone, nil)
	if _, err := e.Notify(context.Background(), digestNotification()); err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	p := parse(t, msgs[0])
	if s := p.Get("Subject"); s != "[Tocsin] 2 issues in Backend" {
		t.Errorf("subject %q", s)
	}
	for _, want := range []string{"BACKEND-1A: ValueError: bad \"input\" <script>", "120 events · 7 users · 3 alerts",
		"https://tocsin.example.com/organizations/acme/issues/42/", "BACKEND-1B: KeyError: 'sku'", "regression · 4 events · 1 user"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, p.Text)
		}
	}
	if strings.Contains(p.HTML, "<script>") || !strings.Contains(p.HTML, "&lt;script&gt;") {
		t.Errorf("HTML part does not escape the title:\n%s", p.HTML)
	}
	if strings.Contains(p.Text+p.HTML, "javascript:") {
		t.Error("a javascript: link is shown")
	}
	if strings.Index(p.HTML, "BACKEND-1A") > strings.Index(p.HTML, "BACKEND-1B") {
		t.Error("the digest's order is not kept")
	}
}

// A summary's issue titles and release names are event data: HTML escapes
// them, and only http(s) links are shown.
func TestNotifier_Notify_summaryInert(t *testing.T) {
	t.Parallel()
	e, f := setup(t, emailtest.Options{}, TLSNone, nil)
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	n := &integrations.Notification{Kind: integrations.KindSummary, IdempotencyKey: "summary:1:run:1", Target: "ops@example.com",
		Issue: integrations.Issue{Project: integrations.Project{Slug: "backend", Name: "Backend"}},
		Summary: &integrations.Summary{Name: "Daily", From: day.Add(-24 * time.Hour), To: day, Events: 5,
			TopIssues: []integrations.SummaryIssue{{ShortID: "BACKEND-1", Title: `<script>alert(1)</script> {{.Secret}}`,
				URL: "javascript:alert(2)", Events: 5, Users: 1}},
			EventsByDay: []integrations.DayCount{{Day: day.Add(-24 * time.Hour), Events: 5}},
			Releases:    []integrations.ReleaseHealth{{Release: `<img src=x onerror=alert(3)>`, Sessions: 10, CrashFree: "90.00%"}}}}
	if _, err := e.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	p := parse(t, f.Messages()[0])
	if strings.Contains(p.HTML, "<script>") || strings.Contains(p.HTML, "<img") || strings.Contains(p.Text+p.HTML, "javascript:") {
		t.Errorf("the summary's HTML carries markup or a javascript: link:\n%s", p.HTML)
	}
	if !strings.Contains(p.HTML, "&lt;script&gt;") || !strings.Contains(p.Text, "{{.Secret}}") {
		t.Errorf("the hostile title is not shown as text:\n%s\n%s", p.Text, p.HTML)
	}
}
