package webhooks_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/server/webhooks"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// TestHandler_GitHubEcho: a close made by the integration's own token
// (Tocsin closing the GitHub issue) is not acted on again, while the same
// close by a person resolves the Tocsin issue.
func TestHandler_GitHubEcho(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		w := setup(t, s)
		api := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "application/json")
			if strings.HasSuffix(r.URL.Path, "/user") {
				_, _ = rw.Write([]byte(`{"login":"Jane-Dev","id":583231,"type":"User"}`))
				return
			}
			rw.WriteHeader(http.StatusNotFound)
		}))
		defer api.Close()
		h := webhooks.New(s, w.box, baseURL, slog.New(slog.DiscardHandler))
		h.SetNow(func() time.Time { return t0 })
		h.SetProviders(providers.New(providers.Options{GitHubAPIURL: api.URL + "/"}))
		mux := http.NewServeMux()
		h.Register(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()

		send := func(body []byte) {
			t.Helper()
			req, _ := http.NewRequest("POST", srv.URL+"/webhooks/github", bytes.NewReader(body))
			for k, vs := range githubHeader("issues", signGitHub(body, githubSecretA)) {
				req.Header[k] = vs
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("webhook answered %d", resp.StatusCode)
			}
		}
		ctx := context.Background()
		// An integration as the API makes it: owner and repository set.
		gh := w.integration(t, w.a.org, "github", map[string]any{"owner": "Octo", "repo": "App"},
			map[string]any{"token": "ghp_echo", "webhook_secret": githubSecretA})
		id := w.issue(t, w.a)
		n := 900 + w.next()
		w.link(t, gh, id, githubRepo, fmt.Sprintf("%s#%d", strings.ToLower(githubRepo), n))
		// The sender of githubIssues is jane-dev: here, the token's own user.
		send(githubIssues("closed", githubRepo, n))
		if is, _ := s.IssueGet(ctx, w.a.org.ID, id); is.Status != store.StatusUnresolved {
			t.Fatalf("Tocsin acted on its own close: issue %s", is.Status)
		}
		// Another person's close is acted on.
		other := bytes.ReplaceAll(githubIssues("closed", githubRepo, n), []byte(`"jane-dev"`), []byte(`"someone-else"`))
		send(other)
		if is, _ := s.IssueGet(ctx, w.a.org.ID, id); is.Status != store.StatusResolved {
			t.Fatalf("a person's close did not resolve: issue %s", is.Status)
		}
	})
}
