package summaries_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/delivery"
	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/email/emailtest"
	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/integrations/slack/slacktest"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
	"github.com/tocsin/tocsin/summaries"
)

const e2eSlackToken = "xoxb-5150-SECRETsummarytoken"

// ingest stores events of two issues: the first has three events.
func ingest(t *testing.T, s *store.Store, p *store.Project, at time.Time) {
	t.Helper()
	env := &store.IngestEnvelope{ProjectID: p.ID, OrganizationID: p.OrganizationID, Received: at}
	for i, fp := range []string{"checkout", "checkout", "checkout", "login"} {
		ev, err := event.Parse([]byte(eventtest.PythonError(i+1, at, map[string]any{"fingerprint": []string{fp},
			"message": fp + " failed"})), event.ParseOptions{Received: at})
		if err != nil {
			t.Fatal(err)
		}
		g := grouping.Group(ev)
		data, _ := event.MarshalData(ev.Data)
		env.Events = append(env.Events, &store.IngestEvent{ProjectID: p.ID, OrganizationID: p.OrganizationID, Event: ev,
			Hash: g.Hash, GroupingVersion: g.Version, Data: store.CompressEventData(data), Size: len(data)})
	}
	// 200 sessions of shop@2.0, 3 of them crashed.
	env.Sessions = []store.SessionUpdate{{Release: "shop@2.0", Environment: "production", Started: at, Sessions: 200, Crashed: 3}}
	if err := s.IngestBatch(context.Background(), []*store.IngestEnvelope{env}); err != nil {
		t.Fatal(err)
	}
}

// A summary scheduled with a cron expression arrives by email, with its
// figures and its chart, and in Slack: the runner queues the run, the
// delivery worker renders it with the real notifiers.
func TestSummary_EmailAndSlack(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		boot, err := s.Setup(ctx, &store.BootstrapParams{AdminEmail: "ops@example.com", AdminPassword: "correct-horse-battery"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		ingest(t, s, boot.Project, now.Add(-2*time.Hour))

		smtp := emailtest.NewServer(t, emailtest.Options{})
		slackAPI := slacktest.NewServer(t, e2eSlackToken, "")
		box, err := integrations.NewSecretBox("summary-e2e-secret-key-0123456789abcdef")
		if err != nil {
			t.Fatal(err)
		}
		cfg := email.SMTP{Host: smtp.Host(), Port: smtp.Port(), TLS: email.TLSNone}
		provs := providers.New(providers.Options{SlackAPIURL: slackAPI.APIURL(), SMTP: &cfg, MailFrom: "tocsin@example.com"})
		mail, err := providers.Email(providers.Options{SMTP: &cfg, MailFrom: "tocsin@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		secrets, _ := json.Marshal(map[string]any{"bot_token": e2eSlackToken})
		slackIn, err := s.IntegrationCreate(ctx, &store.Integration{OrganizationID: boot.Organization.ID, Provider: "slack",
			Name: "Slack", Config: `{"default_channel": "#ops"}`}, func(id int64) ([]byte, error) { return box.Seal(secrets, id) })
		if err != nil {
			t.Fatal(err)
		}

		sched, err := summaries.Parse("0 9 * * MON-FRI", "Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		due := now.Add(-time.Minute) // as if 09:00 Shanghai had just passed
		for _, sm := range []*store.Summary{
			{ProjectID: boot.Project.ID, Name: "Morning report", Schedule: "0 9 * * MON-FRI", Timezone: "Asia/Shanghai",
				Target: "oncall@example.com", NextRun: due},
			{ProjectID: boot.Project.ID, Name: "Morning report", Schedule: "0 9 * * MON-FRI", Timezone: "Asia/Shanghai",
				IntegrationID: &slackIn.ID, Target: "#ops", NextRun: due},
		} {
			if _, err := s.SummaryCreate(ctx, boot.Organization.ID, sm); err != nil {
				t.Fatal(err)
			}
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		if err := summaries.NewRunner(s, log, func() time.Time { return now }).Run(ctx); err != nil {
			t.Fatal(err)
		}
		wk, err := delivery.New(delivery.Config{BaseURL: "https://tocsin.example.com", Email: mail, Now: func() time.Time { return now }},
			s, box, delivery.Registry(provs), log, prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		if err := wk.Run(ctx); err != nil {
			t.Fatal(err)
		}

		msgs := smtp.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d mails, want the summary", len(msgs))
		}
		p, err := msgs[0].Parse()
		if err != nil {
			t.Fatal(err)
		}
		if subj := p.Get("Subject"); subj != "[Tocsin] Morning report: "+boot.Project.Name {
			t.Errorf("subject %q", subj)
		}
		for _, want := range []string{"Events:       4", "New issues:   2", "Events per day:", "█", "DEFAULT-1: ValueError: bad value (3 events",
			"shop@2.0: 98.50% of 200 sessions"} {
			if !strings.Contains(p.Text, want) {
				t.Errorf("the summary's text lacks %q:\n%s", want, p.Text)
			}
		}
		if !strings.Contains(p.HTML, "Events per day") || !strings.Contains(p.HTML, "width:100%\"></div>") {
			t.Errorf("the summary's HTML has no chart:\n%s", p.HTML)
		}

		posted := slackAPI.Messages(slacktest.ChannelID("#ops"))
		if len(posted) != 1 || !strings.Contains(posted[0].Text, "Morning report") {
			t.Fatalf("Slack holds %+v, want the summary", posted)
		}
		reqs := slackAPI.Requests()
		body := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(reqs[len(reqs)-1].Form.Get("attachments"))
		for _, want := range []string{"Events per day", "█", "Most events", "DEFAULT-1 · 3 events", "shop@2.0: 98.50% of 200 sessions"} {
			if !strings.Contains(body, want) {
				t.Errorf("the Slack summary lacks %q:\n%s", want, body)
			}
		}
		list, err := s.SummaryList(ctx, boot.Organization.ID, boot.Project.ID, store.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if next := sched.Next(now); !list[0].NextRun.Equal(next) {
			t.Errorf("next run %s, want %s", list[0].NextRun, next)
		}
	})
}
