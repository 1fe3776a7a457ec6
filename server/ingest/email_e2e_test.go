package ingest_test

import (
	"html"
	"strings"
	"testing"

	"github.com/getsentry/sentry-go"

	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/email/emailtest"
	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// TestDeliveries_Email follows a Tocsin issue by email: an event from the
// Sentry Go SDK fires a rule that mails the address it names, a message
// with a text and an HTML part that starts the issue's thread; resolving
// the issue in Tocsin mails that address again, in the same thread.
func TestDeliveries_Email(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		mail := emailtest.NewServer(t, emailtest.Options{})
		in := integrationsWith(t, providers.Options{MailFrom: "Tocsin <alerts@tocsin.example.com>",
			SMTP: &email.SMTP{Host: mail.Host(), Port: mail.Port(), TLS: email.TLSNone}})
		ts := newFixture(t, st).serveIntegrations(t, in)
		mailIn := ts.createIntegration(t, "email", map[string]any{"to": []any{"team@example.com"}})
		rule := ts.createNewIssueRule(t, "New issues to on-call",
			map[string]any{"id": rules.NotifyIntegration, "integration": mailIn, "target": "oncall@example.com"})
		startWorker(t, st, ts.base, in)

		sdk := newSDK(t, ts.dsn(ts.boot.Key), sentry.ClientOptions{Environment: "production"})
		const title = `invoice totals differ: "net" < "gross" & tax missing`
		issueID := ts.event(t, sdk.captureError(t, title)).GroupID
		waitFor(t, "the alert email", func() bool { return len(mail.Messages()) >= 1 })
		// The thread's root is stored with the delivery: later messages
		// about the issue answer it.
		ts.waitDelivered(t, mailIn, 1)
		if n := ts.firings(t, rule); n != 1 {
			t.Errorf("the rule fired %d times, want once", n)
		}
		msgs := mail.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages, want 1", len(msgs))
		}
		alert := readMail(t, msgs[0])
		if got := strings.Join(msgs[0].To, ","); got != "oncall@example.com" || msgs[0].From != "alerts@tocsin.example.com" {
			t.Errorf("mailed from %s to %s, want from alerts@tocsin.example.com to the rule's oncall@example.com", msgs[0].From, got)
		}
		if subject := alert.Get("Subject"); !strings.Contains(subject, title) {
			t.Errorf("subject %q does not show the issue's title", subject)
		}
		if !strings.Contains(alert.Text, title) || !strings.Contains(alert.Text, ts.issueURL(issueID)) {
			t.Errorf("the text part does not show the issue's title and link:\n%s", alert.Text)
		}
		if !strings.Contains(alert.HTML, html.EscapeString(title)) || strings.Contains(alert.HTML, title) {
			t.Errorf("the HTML part does not show the issue's title escaped:\n%s", alert.HTML)
		}
		root := alert.Get("Message-Id")
		if !strings.HasPrefix(root, "<") || !strings.HasSuffix(root, ">") || len(root) < 5 {
			t.Fatalf("Message-ID %q, want <id@domain>", root)
		}
		if r, refs := alert.Get("In-Reply-To"), alert.Get("References"); r != "" || refs != "" {
			t.Errorf("the first message answers %q (References %q), want it to start the thread", r, refs)
		}

		// Resolving the issue mails the same address, in the same thread.
		ts.resolve(t, issueID)
		waitFor(t, "the resolution email", func() bool { return len(mail.Messages()) >= 2 })
		ts.evaluated(t)
		ts.waitDelivered(t, mailIn, 2)
		msgs = mail.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d messages, want the alert and the resolution", len(msgs))
		}
		resolved := readMail(t, msgs[1])
		if got := strings.Join(msgs[1].To, ","); got != "oncall@example.com" {
			t.Errorf("the resolution went to %s, want the rule's oncall@example.com", got)
		}
		if subject := resolved.Get("Subject"); !strings.Contains(subject, "Resolved") || !strings.Contains(subject, title) {
			t.Errorf("subject %q, want the issue's title marked resolved", subject)
		}
		if id := resolved.Get("Message-Id"); id == root || !strings.HasPrefix(id, "<") {
			t.Errorf("the resolution's Message-ID %q, want its own, not the root's %q", id, root)
		}
		if r, refs := resolved.Get("In-Reply-To"), resolved.Get("References"); r != root || refs != root {
			t.Errorf("the resolution answers %q (References %q), want the first message %q", r, refs, root)
		}
	})
}

// readMail takes a message apart: a text and an HTML part.
func readMail(t *testing.T, m emailtest.Message) *emailtest.Parsed {
	t.Helper()
	p, err := m.Parse()
	if err != nil {
		t.Fatalf("message to %s: %v", m.To, err)
	}
	return p
}
