package ingest_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getsentry/sentry-go"

	"github.com/tocsin/tocsin/integrations/github/githubtest"
	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

const e2eGitHubSecret = "gh-whsec-SECRETe2e"

// TestDeliveries_GitHub follows a Tocsin issue filed on GitHub: an event
// from the Sentry Go SDK fires a rule that files it as one GitHub issue,
// however many events follow; someone closes the GitHub issue, and
// GitHub's signed "issues" webhook resolves the Tocsin issue, while the
// same webhook with a bad signature is refused and changes nothing.
func TestDeliveries_GitHub(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		gh := githubtest.NewServer(t)
		in := integrationsWith(t, providers.Options{GitHubAPIURL: gh.APIURL()})
		ts := newFixture(t, st).serveIntegrations(t, in)
		const repo = "octo/app"
		ghIn := ts.createIntegration(t, "github", map[string]any{"token": githubtest.Token, "owner": "octo", "repo": "app",
			"labels": []any{"tocsin"}, "webhook_secret": e2eGitHubSecret})
		rule := ts.createNewIssueRule(t, "New issues to GitHub",
			map[string]any{"id": rules.GitHubTicket, "integration": ghIn, "labels": []any{"checkout"}})
		startWorker(t, st, ts.base, in)

		sdk := newSDK(t, ts.dsn(ts.boot.Key), sentry.ClientOptions{Environment: "production"})
		const title = "payment capture failed: gateway answered 502"
		first := sdk.captureError(t, title)
		waitFor(t, "the GitHub issue", func() bool { return gh.IssueCount(repo) >= 1 })
		issueID := ts.event(t, first).GroupID
		// The handle is stored with the delivery: only then can a webhook
		// find the Tocsin issue.
		ts.waitDelivered(t, ghIn, 1)

		filed := gh.Issue(repo, 1)
		if !strings.Contains(filed.Title, title) || filed.State != "open" || filed.Author != githubtest.Login {
			t.Errorf("GitHub issue %q, %s, by %s: want the open issue %q filed by %s",
				filed.Title, filed.State, filed.Author, title, githubtest.Login)
		}
		if !strings.Contains(filed.Body, ts.issueURL(issueID)) {
			t.Errorf("the GitHub issue's body does not link to the Tocsin issue %s:\n%s", ts.issueURL(issueID), filed.Body)
		}
		if !slices.Contains(filed.Labels, "tocsin") || !slices.Contains(filed.Labels, "checkout") {
			t.Errorf("labels %q, want the integration's tocsin and the rule's checkout", filed.Labels)
		}

		// Another event of the issue files nothing more.
		second := sdk.captureError(t, title)
		if ts.event(t, second).GroupID != issueID {
			t.Fatalf("the second event made another issue")
		}
		ts.evaluated(t)
		if n := ts.firings(t, rule); n != 1 {
			t.Errorf("the rule fired %d times, want once", n)
		}
		ts.waitDelivered(t, ghIn, 1)
		if n, creates := gh.IssueCount(repo), gh.Count(githubtest.RouteCreateIssue); n != 1 || creates != 1 {
			t.Fatalf("%d GitHub issues after %d creations, want 1 and 1", n, creates)
		}

		// Someone closes it on GitHub, which sends the webhook.
		body, err := gh.CloseIssue(repo, 1, "jane-dev")
		if err != nil {
			t.Fatal(err)
		}
		forged, err := githubtest.NewWebhookRequest(ts.base+"/webhooks/github", "issues", body, "not-the-webhook-secret")
		if err != nil {
			t.Fatal(err)
		}
		if r := ts.do(t, forged); r.status != http.StatusUnauthorized {
			t.Errorf("a webhook with a bad signature answered %d %s, want 401", r.status, r.body)
		}
		if is := ts.issue(t, issueID); is.Status != "unresolved" || is.hasActivity("set_resolved") {
			t.Fatalf("after a badly signed webhook the issue is %s, want it unresolved and untouched", is.Status)
		}

		signed, err := githubtest.NewWebhookRequest(ts.base+"/webhooks/github", "issues", body, e2eGitHubSecret)
		if err != nil {
			t.Fatal(err)
		}
		if r := ts.do(t, signed); r.status != http.StatusNoContent {
			t.Fatalf("the webhook answered %d %s, want 204", r.status, r.body)
		}
		if is := ts.issue(t, issueID); is.Status != "resolved" || !is.hasActivity("set_resolved") {
			t.Fatalf("after GitHub's webhook the issue is %s, want it resolved", is.Status)
		}

		// The resolution goes back to the GitHub issue as a comment; the
		// issue stays closed, and still only one was ever filed.
		ts.evaluated(t)
		ts.waitDelivered(t, ghIn, 2)
		closed := gh.Issue(repo, 1)
		if closed.State != "closed" || gh.IssueCount(repo) != 1 {
			t.Errorf("GitHub issue %s with %d issues in the repository, want the one issue closed", closed.State, gh.IssueCount(repo))
		}
		if len(closed.Comments) != 1 || !strings.Contains(closed.Comments[0].Body, ts.issueURL(issueID)) {
			t.Errorf("comments on the GitHub issue: %d, want one about Tocsin issue %s", len(closed.Comments), issueID)
		}
	})
}
