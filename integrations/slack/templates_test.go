package slack

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
)

// digestNotification lists two issues, one of them a regression.
func digestNotification() *integrations.Notification {
	project := integrations.Project{ID: 3, Slug: "backend", Name: "Backend"}
	return &integrations.Notification{Kind: integrations.KindDigest, IdempotencyKey: "digest:1:int:2:#ops", Target: "#ops",
		Issue: integrations.Issue{Project: project}, At: testNow,
		Digest: []integrations.DigestItem{
			{Issue: integrations.Issue{ID: 42, ShortID: "BACKEND-1A", Title: "ZeroDivisionError: division by zero", Count: 12,
				UserCount: 3, URL: "https://tocsin.example.com/organizations/acme/issues/42/", Project: project}, Alerts: 2},
			{Issue: integrations.Issue{ID: 43, ShortID: "BACKEND-1B", Title: "KeyError: 'sku'", Count: 1, UserCount: 1,
				URL: "https://tocsin.example.com/organizations/acme/issues/43/", Project: project},
				Reason: integrations.KindRegression},
		}}
}

// summaryNotification is a daily summary with every part.
func summaryNotification() *integrations.Notification {
	day := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	top := integrations.SummaryIssue{ShortID: "BACKEND-1A", Title: "ZeroDivisionError: division by zero",
		URL: "https://tocsin.example.com/organizations/acme/issues/42/", Events: 12, Users: 3}
	return &integrations.Notification{Kind: integrations.KindSummary, IdempotencyKey: "summary:1:run:1", Target: "#ops",
		Issue: integrations.Issue{Project: integrations.Project{ID: 3, Slug: "backend", Name: "Backend"}}, At: testNow,
		Summary: &integrations.Summary{Name: "Daily", From: day.Add(-24 * time.Hour), To: day, Events: 12, NewIssues: 1,
			Regressions: 1, Resolved: 2, PrevEvents: 6, PrevNewIssues: 2,
			TopIssues:   []integrations.SummaryIssue{top},
			NewTop:      []integrations.SummaryIssue{top},
			EventsByDay: []integrations.DayCount{{Day: day.Add(-48 * time.Hour), Events: 3}, {Day: day.Add(-24 * time.Hour), Events: 12}},
			Releases:    []integrations.ReleaseHealth{{Release: "backend@1.4.2", Sessions: 10, CrashFree: "90.00%"}}}}
}

// Every form of the built-in Slack templates, in both languages, as the
// requests that carry them.
func TestNotifier_Notify_forms(t *testing.T) {
	t.Parallel()
	status := func(kind string) func(n *integrations.Notification) {
		return func(n *integrations.Notification) {
			n.Kind, n.Event, n.Actor, n.Handle = kind, nil, "jane@example.com", "C0OPS:1700000000.000001"
			if kind == integrations.KindAssigned {
				n.Issue.Assignee = "jane@example.com"
			}
		}
	}
	cases := []struct {
		name   string
		n      func() *integrations.Notification
		modify func(n *integrations.Notification)
		golden string
	}{
		{name: "resolved in the thread", n: notification, modify: status(integrations.KindResolved), golden: "thread-resolved"},
		{name: "assigned in the thread", n: notification, modify: status(integrations.KindAssigned), golden: "thread-assigned"},
		{name: "regression in the thread", n: notification, modify: func(n *integrations.Notification) {
			n.Kind, n.Handle = integrations.KindRegression, "C0OPS:1700000000.000001"
		}, golden: "thread-regression"},
		{name: "test", n: notification, modify: func(n *integrations.Notification) { n.Kind = integrations.KindTest }, golden: "test"},
		{name: "digest", n: digestNotification, golden: "digest"},
		{name: "summary", n: summaryNotification, golden: "summary"},
	}
	for _, c := range cases {
		for _, lang := range []string{"", "zh-CN"} {
			name := c.golden
			if lang != "" {
				name += "." + lang
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, false)
				n := c.n()
				if c.modify != nil {
					c.modify(n)
				}
				n.Language = lang
				res, err := b.notifier.Notify(context.Background(), n)
				if err != nil {
					t.Fatal(err)
				}
				if res.Warning != "" {
					t.Errorf("warning %q", res.Warning)
				}
				var all bytes.Buffer
				for _, r := range b.fake.Requests() {
					all.Write(payload(t, r))
				}
				golden(t, name+".json", all.Bytes())
			})
		}
	}
}

// An override shapes the message; whatever it writes, event data stays
// text and mrkdwn stays verbatim. A broken override, or one whose output
// is not a message Slack takes, gives way to the built-in template, and
// the result says why.
func TestNotifier_Notify_overrides(t *testing.T) {
	t.Parallel()
	hostile := `<!channel> @here <http://evil/|x> "}, {"type": "x`
	cases := []struct {
		name, template, body string
		n                    func() *integrations.Notification
		broken               string // what the warning says, for a broken override
	}{
		{name: "alert", template: "slack/alert.json", n: notification,
			body: `{"text": "{{.Issue.Title}}", "attachments": [{"color": "#000000", "blocks": [
				{"type": "section", "text": {"type": "mrkdwn", "text": "<{{.Issue.URL}}|{{.Issue.Title}}>"}}]}]}`},
		{name: "digest", template: "slack/digest.json", n: digestNotification,
			body: `{"text": "x", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "{{range .Digest}}{{.Issue.Title}} {{end}}"}}]}]}`},
		{name: "summary", template: "slack/summary.json", n: summaryNotification,
			body: `{"text": "{{.Summary.Name}}", "attachments": [{"blocks": [{"type": "divider"}, {"type": "context", "elements": [{"type": "mrkdwn", "text": "{{.Issue.Project.Name}}"}]}]}]}`},
		{name: "parse error", template: "slack/alert.json", n: notification, body: `{"text": "{{.Issue.Title}"}`, broken: `bad character`},
		{name: "missing field", template: "slack/alert.json", n: notification, body: `{"text": "{{.Nope}}"}`, broken: `Nope`},
		{name: "not JSON", template: "slack/alert.json", n: notification, body: `{"text": {{.Issue.Title}}}`, broken: `not JSON`},
		{name: "unknown field", template: "slack/alert.json", n: notification, body: `{"txet": "x", "attachments": [{"blocks": [{"type": "divider"}]}]}`, broken: `unknown field`},
		{name: "no attachment", template: "slack/digest.json", n: digestNotification, body: `{"text": "x"}`, broken: `one attachment`},
		{name: "unsupported block", template: "slack/alert.json", n: notification,
			body: `{"text": "x", "attachments": [{"blocks": [{"type": "input", "label": {"type": "plain_text", "text": "x"}}]}]}`, broken: `"input" is not supported`},
		{name: "button with a link", template: "slack/alert.json", n: notification,
			body: `{"text": "x", "attachments": [{"blocks": [{"type": "actions", "elements": [{"type": "button", "action_id": "a", "url": "https://evil.example/", "text": {"type": "plain_text", "text": "x"}}]}]}]}`, broken: `do not link`},
		{name: "text too long", template: "slack/alert.json", n: notification,
			body: `{"text": "x", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "{{range 10}}{{range 10}}{{$.Issue.Title}}{{end}}{{end}}"}}]}]}`, broken: `at most 3000`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// The built-in message, for comparison.
			b := setup(t, false)
			n := c.n()
			n.Issue.Title = hostile + " " + n.Issue.Title
			for i := range n.Digest {
				n.Digest[i].Issue.Title = hostile
			}
			if n.Summary != nil {
				n.Summary.Name, n.Issue.Project.Name = hostile, hostile
			}
			if _, err := b.notifier.Notify(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			builtin := payload(t, b.fake.Requests()[0])

			b = setup(t, false)
			n.Templates = map[string]string{c.template: c.body}
			res, err := b.notifier.Notify(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			got := payload(t, b.fake.Requests()[0])
			if c.broken != "" {
				if !bytes.Equal(got, builtin) {
					t.Errorf("posted %s, want the built-in message %s", got, builtin)
				}
				if !strings.Contains(res.Warning, c.template) || !strings.Contains(res.Warning, "built-in") ||
					!strings.Contains(res.Warning, c.broken) {
					t.Errorf("warning %q, want the broken template named", res.Warning)
				}
				return
			}
			if res.Warning != "" {
				t.Errorf("warning %q", res.Warning)
			}
			if bytes.Equal(got, builtin) {
				t.Error("the override was not used")
			}
			for _, bad := range []string{"<!channel>", "@here", "<http://evil", `"type": "x`, `"verbatim": false`} {
				if bytes.Contains(got, []byte(bad)) {
					t.Errorf("%q reaches Slack:\n%s", bad, got)
				}
			}
			if !bytes.Contains(got, []byte("&lt;!channel&gt;")) {
				t.Errorf("the data is not shown, escaped:\n%s", got)
			}
		})
	}
}

// An address in an issue's title is not linked in the message's top-level
// text, which Slack reads as mrkdwn; the blocks are verbatim already.
func TestIssueMessage_textDoesNotLinkAddresses(t *testing.T) {
	t.Parallel()
	n := notification()
	n.Issue.Title = "login failed at https://evil.example/login and www.evil.example"
	m, _, err := issueMessage(n, messageOptions{card: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{m.text, m.attachment.Fallback} {
		if strings.Contains(s, "https://evil") || strings.Contains(s, "www.evil") {
			t.Errorf("text %q carries a linkable address", s)
		}
		if !strings.Contains(s, "evil.example/login") {
			t.Errorf("text %q lost the title", s)
		}
	}
}
