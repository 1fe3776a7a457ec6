package github

import (
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/github/githubtest"
)

const testWebhookSecret = "whsec-n0t-for-your-eyes"

// testInstallation is the Tocsin deployment the tests' notifiers file for.
const testInstallation = "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"

// bundle is what a test works with: a notifier talking to a fake GitHub.
type bundle struct {
	fake     *githubtest.Server
	notifier *Notifier
	cfg      Config
}

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *bundle {
	t.Helper()
	f := githubtest.NewServer(t)
	cfg := Config{Token: githubtest.Token, Owner: "octo", Repo: "app", Labels: []string{"tocsin"}, WebhookSecret: testWebhookSecret,
		Installation: testInstallation}
	n, err := New(cfg, f.APIURL(), f.Client())
	if err != nil {
		t.Fatal(err)
	}
	n.NowFunc = func() time.Time { return testNow }
	return &bundle{fake: f, notifier: n, cfg: cfg}
}

// sample is a notification as the rules and templates hand it over.
func sample() *integrations.Notification {
	return &integrations.Notification{
		Kind:           integrations.KindAlert,
		IdempotencyKey: "rule:7/issue:42/target:octo/app/firing:1",
		Issue: integrations.Issue{
			ID: 42, ShortID: "BACKEND-1A", Title: "ZeroDivisionError: division by zero",
			Culprit: "app.billing in compute_invoice", Level: "error", Status: "unresolved", Platform: "python",
			Count: 1234, UserCount: 56,
			FirstSeen: time.Date(2026, 2, 27, 9, 30, 0, 0, time.UTC), LastSeen: time.Date(2026, 3, 1, 11, 58, 12, 0, time.UTC),
			FirstRelease: "backend@1.4.0", LastRelease: "backend@1.4.2",
			Project:      integrations.Project{ID: 3, Slug: "backend", Name: "Backend"},
			Organization: "acme", URL: "https://tocsin.example.com/organizations/acme/issues/42/",
		},
		Event: &integrations.Event{
			ID: "9fa2b1c0d4e54f7a8b6c5d4e3f2a1b0c", Message: "ZeroDivisionError: division by zero",
			Environment: "production", Release: "backend@1.4.2", Timestamp: time.Date(2026, 3, 1, 11, 58, 12, 0, time.UTC),
			Tags: [][2]string{{"browser", "Chrome 120"}, {"server_name", "web-3"}},
			Stacktrace: []string{
				"django.core.handlers.base in _get_response at line 197",
				"app.views in invoice at line 31",
				"app.billing in compute_invoice at line 88",
			},
			URL: "https://tocsin.example.com/organizations/acme/issues/42/events/9fa2b1c0d4e54f7a8b6c5d4e3f2a1b0c/",
		},
		Rule:    &integrations.Rule{ID: 7, Name: "Notify on new issues", URL: "https://tocsin.example.com/organizations/acme/alerts/rules/backend/7/details/"},
		Options: map[string]any{"labels": []any{"bug", "Tocsin"}, "assignee": "octocat"},
		At:      testNow,
	}
}
