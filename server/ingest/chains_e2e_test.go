package ingest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/getsentry/sentry-go"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/server/api"
	"github.com/tocsin/tocsin/store"
)

// The delivery chain tests (GitHub, Trello, email) follow one service
// each from end to end: an event from the Sentry Go SDK fires a rule
// whose action reaches the service's fake (githubtest, trellotest,
// emailtest), and what people then do, in Tocsin or in the service, comes
// back the other way. The helpers below are theirs.

// integrationsWith is the integration settings of a server whose
// providers reach the services of o.
func integrationsWith(t *testing.T, o providers.Options) *api.Integrations {
	t.Helper()
	box, err := integrations.NewSecretBox(e2eSecretKey)
	if err != nil {
		t.Fatalf("secret box: %v", err)
	}
	return &api.Integrations{Box: box, Providers: providers.New(o)}
}

// createIntegration adds an integration of provider to the organization
// through the API, and returns its id.
func (ts *tocsinServer) createIntegration(t *testing.T, provider string, config map[string]any) string {
	t.Helper()
	var in struct {
		ID string `json:"id"`
	}
	if code := ts.api(t, http.MethodPost, "/api/0/organizations/"+ts.boot.Organization.Slug+"/integrations/", map[string]any{
		"provider": provider, "name": provider, "config": config,
	}, &in); code != http.StatusCreated || in.ID == "" {
		t.Fatalf("create the %s integration: %d, id %q", provider, code, in.ID)
	}
	return in.ID
}

// createNewIssueRule adds a rule to the default project through the API
// that runs action when an issue is first seen, and returns its id.
func (ts *tocsinServer) createNewIssueRule(t *testing.T, name string, action map[string]any) string {
	t.Helper()
	var rule struct {
		ID string `json:"id"`
	}
	path := "/api/0/projects/" + ts.boot.Organization.Slug + "/" + ts.boot.Project.Slug + "/rules/"
	if code := ts.api(t, http.MethodPost, path, map[string]any{
		"name": name, "actionMatch": "all", "filterMatch": "all", "frequency": 30,
		"conditions": []any{map[string]any{"id": rules.FirstSeen}},
		"actions":    []any{action},
	}, &rule); code != http.StatusCreated || rule.ID == "" {
		t.Fatalf("create the rule %q: %d, id %q", name, code, rule.ID)
	}
	return rule.ID
}

// captureError sends message as an error event through the SDK and
// returns its id once Tocsin accepted it.
func (s *sdk) captureError(t *testing.T, message string) string {
	t.Helper()
	hub := s.hub()
	hub.Scope().SetLevel(sentry.LevelError)
	return s.accepted(t, hub.CaptureMessage(message))
}

// issueURL is the address of an issue that Tocsin links to.
func (ts *tocsinServer) issueURL(issueID string) string {
	return ts.base + "/organizations/" + ts.boot.Organization.Slug + "/issues/" + issueID + "/"
}

// resolve resolves an issue through the API, as a member does.
func (ts *tocsinServer) resolve(t *testing.T, issueID string) {
	t.Helper()
	var is apiIssue
	if code := ts.api(t, http.MethodPut, "/api/0/issues/"+issueID+"/", map[string]any{"status": "resolved"}, &is); code != http.StatusOK || is.Status != "resolved" {
		t.Fatalf("resolve issue %s: %d, status %q", issueID, code, is.Status)
	}
}

// firings is how many notification requests rule made.
func (ts *tocsinServer) firings(t *testing.T, rule string) int {
	t.Helper()
	all, err := ts.st.NotificationList(context.Background(), ts.boot.Project.ID, store.Page{Limit: 100})
	if err != nil {
		t.Fatalf("list notification requests: %v", err)
	}
	id, n := ruleIDOf(t, rule), 0
	for _, nr := range all {
		if nr.RuleID != nil && *nr.RuleID == id {
			n++
		}
	}
	return n
}

// waitDelivered waits until integration has n deliveries logged and none
// left to work, and fails unless every one of them was delivered.
func (ts *tocsinServer) waitDelivered(t *testing.T, integration string, n int) []apiDelivery {
	t.Helper()
	var ds []apiDelivery
	waitFor(t, "the deliveries to be worked", func() bool {
		ds = ts.deliveries(t, "?integration="+integration)
		for _, d := range ds {
			if d.Status == store.DeliveryPending {
				return false
			}
		}
		return len(ds) >= n
	})
	if len(ds) != n {
		t.Errorf("%d deliveries logged, want %d", len(ds), n)
	}
	for _, d := range ds {
		if d.Status != store.DeliveryDelivered {
			last := ""
			if d.LastError != nil {
				last = *d.LastError
			}
			t.Errorf("delivery %s is %s after %d attempts (%s), want delivered", d.ID, d.Status, d.Attempts, last)
		}
	}
	return ds
}

// evaluated waits until the worker has handled every stored activity.
func (ts *tocsinServer) evaluated(t *testing.T) {
	t.Helper()
	waitFor(t, "the worker to empty the outbox", func() bool {
		n, err := ts.st.OutboxPending(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
}
