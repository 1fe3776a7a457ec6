package email

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email/emailtest"
)

// A target whose integration says "language": "zh-CN" gets its messages
// in Simplified Chinese: labels, headlines, subjects' prefixes, counts and
// dates; event data stays as it was sent, and escaped.
func TestNotifier_Notify_zhCN(t *testing.T) {
	t.Parallel()
	e, f := setup(t, emailtest.Options{}, TLSNone, nil)
	alert := notification(integrations.KindAlert)
	alert.Language = "zh-CN"
	regression := notification(integrations.KindRegression)
	regression.Language, regression.IdempotencyKey = "zh-CN", "rule-7.issue-42.email-2.regression"
	digest := digestNotification()
	digest.Language = "zh-CN"
	for _, n := range []*integrations.Notification{alert, regression, digest} {
		if _, err := e.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	msgs := f.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	p := parse(t, msgs[0])
	checkGolden(t, "alert.zh-CN.txt", p.Text)
	checkGolden(t, "alert.zh-CN.html", p.HTML)
	for _, want := range []string{"项目：", "事件数：", "首次出现：", "年", "查看问题"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("the Chinese alert lacks %q", want)
		}
	}
	if s := parse(t, msgs[1]).Get("Subject"); !strings.HasPrefix(s, "[Tocsin] 回归：BACKEND-1A: ") {
		t.Errorf("regression subject %q", s)
	}
	d := parse(t, msgs[2])
	if s := d.Get("Subject"); s != "[Tocsin] Backend 中的 2 个问题" {
		t.Errorf("digest subject %q", s)
	}
	if !strings.Contains(d.Text, "120 个事件 · 7 位用户 · 3 次告警") || !strings.Contains(d.Text, "回归 · 4 个事件") {
		t.Errorf("the Chinese digest's counts:\n%s", d.Text)
	}
	if strings.Contains(d.HTML, "<script>") {
		t.Error("event data unescaped in the Chinese digest")
	}
}

// The digest and summary messages in both languages, as golden files.
func TestNotifier_Notify_goldenDigestSummary(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	summary := func() *integrations.Notification {
		return &integrations.Notification{Kind: integrations.KindSummary, IdempotencyKey: "summary:1:run:1",
			Target: "ops@example.com", TimeZone: "Asia/Shanghai",
			Issue: integrations.Issue{Project: integrations.Project{Slug: "backend", Name: "Backend"}},
			Summary: &integrations.Summary{Name: "Morning report", From: day.Add(-24 * time.Hour), To: day, Events: 128,
				NewIssues: 2, Regressions: 1, Resolved: 3, PrevEvents: 100, PrevNewIssues: 4,
				TopIssues: []integrations.SummaryIssue{{ShortID: "BACKEND-1A", Title: "ZeroDivisionError: division by zero",
					URL: "https://tocsin.example.com/organizations/acme/issues/42/", Events: 120, Users: 7}},
				NewTop: []integrations.SummaryIssue{{ShortID: "BACKEND-1B", Title: "KeyError: 'sku'",
					URL: "https://tocsin.example.com/organizations/acme/issues/43/", Events: 8, Users: 1}},
				EventsByDay: []integrations.DayCount{{Day: day.Add(-48 * time.Hour), Events: 30}, {Day: day.Add(-24 * time.Hour), Events: 128}},
				Releases:    []integrations.ReleaseHealth{{Release: "backend@1.4.2", Sessions: 200, CrashFree: "98.50%"}}}}
	}
	for _, lang := range []string{"", "zh-CN"} {
		suffix := ""
		if lang != "" {
			suffix = "." + lang
		}
		e, f := setup(t, emailtest.Options{}, TLSNone, nil)
		d, s := digestNotification(), summary()
		d.Language, s.Language = lang, lang
		for _, n := range []*integrations.Notification{d, s} {
			if _, err := e.Notify(context.Background(), n); err != nil {
				t.Fatal(err)
			}
		}
		msgs := f.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d messages, want 2", len(msgs))
		}
		for i, name := range []string{"digest", "summary"} {
			p := parse(t, msgs[i])
			checkGolden(t, name+suffix+".txt", "Subject: "+p.Get("Subject")+"\n\n"+p.Text)
			checkGolden(t, name+suffix+".html", p.HTML)
		}
	}
}

// An override replaces a built-in template; one that fails when it runs
// is set aside for the built-in, and the result says why.
func TestNotifier_Notify_overrides(t *testing.T) {
	t.Parallel()
	e, f := setup(t, emailtest.Options{}, TLSNone, nil)
	n := notification(integrations.KindAlert)
	n.Templates = map[string]string{
		"email/notification.txt":  "Custom: {{.Issue.Title}} ({{.Issue.Count}})\n",
		"email/notification.html": "<p>{{.Issue.Nope}}</p>",
	}
	res, err := e.Notify(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, f.Messages()[0])
	if !strings.HasPrefix(p.Text, "Custom: ValueError: bad \"input\" <script>alert(1)</script> (12)") {
		t.Errorf("text part %q, want the override's", p.Text)
	}
	if !strings.Contains(p.HTML, "&lt;script&gt;") || !strings.Contains(p.HTML, "<!DOCTYPE html>") {
		t.Errorf("the HTML part is not the built-in one after the override failed:\n%s", p.HTML)
	}
	if !strings.Contains(res.Warning, "email/notification.html") || !strings.Contains(res.Warning, "built-in") {
		t.Errorf("warning %q, want the broken override named", res.Warning)
	}
	for name, body := range map[string]string{"email/notification.txt": "{{.Issue.Title}}", "email/digest.html": "<b>{{range .Digest}}{{.Issue.Title}}{{end}}</b>",
		"email/summary.txt": "{{.Summary.Events}} {{$.T \"Events\"}}"} {
		if err := Templates.Check(name, body); err != nil {
			t.Errorf("CheckTemplate(%s): %v", name, err)
		}
	}
	for name, body := range map[string]string{"email/notification.txt": "{{.Issue.Nope}}", "email/notification.html": "{{ oops }}",
		"email/other.txt": "x"} {
		if err := Templates.Check(name, body); err == nil {
			t.Errorf("CheckTemplate(%s, %q) accepted", name, body)
		}
	}
}
