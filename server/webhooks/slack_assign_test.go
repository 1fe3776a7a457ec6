package webhooks_test

import (
	"bytes"
	"context"
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

// TestHandler_SlackAssignMe presses "Assign to me" as a Slack user whose
// email (from a fake users.info) is the organization's admin's.
func TestHandler_SlackAssignMe(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		w := setup(t, s)
		slackAPI := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			rw.Header().Set("Content-Type", "application/json")
			if r.URL.Path != "/api/users.info" {
				_, _ = rw.Write([]byte(`{"ok":false,"error":"unknown_method"}`))
				return
			}
			switch r.Form.Get("user") {
			case "UADMIN":
				_, _ = rw.Write([]byte(`{"ok":true,"user":{"id":"UADMIN","profile":{"email":"Admin@Example.com"}}}`))
			default:
				_, _ = rw.Write([]byte(`{"ok":true,"user":{"id":"USTRANGER","profile":{"email":"stranger@example.com"}}}`))
			}
		}))
		defer slackAPI.Close()
		h := webhooks.New(s, w.box, baseURL, slog.New(slog.DiscardHandler))
		h.SetNow(func() time.Time { return t0 })
		h.SetProviders(providers.New(providers.Options{SlackAPIURL: slackAPI.URL + "/api/"}))
		mux := http.NewServeMux()
		h.Register(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()

		press := func(action, user string, issueID int64) int {
			t.Helper()
			body := slackPress(action, issueID, slackChannel, "1700000000.000001", "")
			body = bytes.ReplaceAll(body, []byte("U024BE7LH"), []byte(user))
			req, _ := http.NewRequest("POST", srv.URL+"/webhooks/slack/interactive", bytes.NewReader(body))
			for k, vs := range signSlack(body, slackSecretA, t0) {
				req.Header[k] = vs
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		ctx := context.Background()
		id := w.issue(t, w.a)
		if code := press("assign_me", "USTRANGER", id); code != http.StatusOK {
			t.Fatalf("assign by a stranger: %d", code)
		}
		if is, _ := s.IssueGet(ctx, w.a.org.ID, id); is.AssigneeUserID != nil {
			t.Fatalf("a Slack user who is not a member assigned the issue to %d", *is.AssigneeUserID)
		}
		if code := press("assign_me", "UADMIN", id); code != http.StatusOK {
			t.Fatalf("assign: %d", code)
		}
		is, _ := s.IssueGet(ctx, w.a.org.ID, id)
		if is.AssigneeUserID == nil || *is.AssigneeUserID != w.admin.ID {
			t.Fatalf("issue assigned to %v, want the admin %d", is.AssigneeUserID, w.admin.ID)
		}
		if code := press("resolve", "UADMIN", id); code != http.StatusOK {
			t.Fatalf("resolve: %d", code)
		}
		acts, err := s.ActivityList(ctx, id, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(acts) < 2 || acts[0].Kind != "set_resolved" || acts[0].UserID == nil || *acts[0].UserID != w.admin.ID ||
			acts[1].Kind != "assigned" {
			var kinds []string
			for _, a := range acts {
				kinds = append(kinds, a.Kind)
			}
			t.Errorf("activities %s, want set_resolved by the admin after assigned", strings.Join(kinds, ", "))
		}
	})
}
