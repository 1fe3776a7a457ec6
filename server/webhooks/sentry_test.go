package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/tocsin/tocsin/integrations/webhook"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

const bridgeSecret = "sentry-client-secret-0123456789"

// sentryHook sends a Sentry integration-platform webhook to the bridge.
func sentryHook(t *testing.T, w *world, integrationID int64, resource, action, requestID, body, secret string) int {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Sentry-Hook-Resource", resource)
	h.Set("Request-ID", requestID)
	h.Set("Sentry-Hook-Signature", webhook.Sign([]byte(body), secret))
	code, _ := w.send(t, "POST", fmt.Sprintf("/webhooks/sentry/%d", integrationID), h, []byte(body))
	return code
}

func TestHandler_SentryBridge(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := setup(t, s)
		in := w.integration(t, w.a.org, "sentry", map[string]any{"project": w.a.project.Slug},
			map[string]any{"client_secret": bridgeSecret})
		issues := func() []*store.Issue {
			t.Helper()
			list, err := s.IssueList(ctx, w.a.org.ID, &store.IssueFilter{ProjectIDs: []int64{w.a.project.ID},
				Tags: []store.TagMatch{{Key: "sentry.issue", Value: "4242"}}, Page: store.Page{Limit: 10}})
			if err != nil {
				t.Fatal(err)
			}
			return list
		}
		created := `{"action":"created","data":{"issue":{"id":"4242","title":"ZeroDivisionError: division by zero",
			"culprit":"app.views in index","level":"error","platform":"python","status":"unresolved"}},
			"actor":{"type":"application","id":"sentry","name":"Sentry"}}`

		// A bad signature changes nothing.
		if code := sentryHook(t, w, in.ID, "issue", "created", "r1", created, "wrong-secret-wrong-secret"); code != http.StatusUnauthorized {
			t.Fatalf("bad signature: %d", code)
		}
		if n := len(issues()); n != 0 {
			t.Fatalf("%d mirrored issues after a bad signature", n)
		}
		// issue.created mirrors the issue; Sentry's retry is stored once.
		for range 2 {
			if code := sentryHook(t, w, in.ID, "issue", "created", "r1", created, bridgeSecret); code != http.StatusNoContent {
				t.Fatalf("issue.created: %d", code)
			}
		}
		list := issues()
		if len(list) != 1 || list[0].TimesSeen != 1 || list[0].Title != "ZeroDivisionError: division by zero" {
			t.Fatalf("mirror after created: %+v", list)
		}
		mirror := list[0]
		// An event alert of the same Sentry issue counts on the same mirror.
		alert := `{"action":"triggered","data":{"event":{"event_id":"ignored","issue_id":"4242","level":"error",
			"title":"ZeroDivisionError: division by zero","platform":"python","environment":"production",
			"exception":{"values":[{"type":"ZeroDivisionError","value":"division by zero"}]}},"triggered_rule":"Any error"}}`
		if code := sentryHook(t, w, in.ID, "event_alert", "triggered", "r2", alert, bridgeSecret); code != http.StatusNoContent {
			t.Fatalf("event_alert.triggered: %d", code)
		}
		if is, _ := s.IssueGet(ctx, w.a.org.ID, mirror.ID); is.TimesSeen != 2 {
			t.Errorf("mirror counted %d events, want 2", is.TimesSeen)
		}
		// issue.resolved resolves the mirror; issue.unresolved regresses it.
		resolved := `{"action":"resolved","data":{"issue":{"id":"4242","status":"resolved"}}}`
		if code := sentryHook(t, w, in.ID, "issue", "resolved", "r3", resolved, bridgeSecret); code != http.StatusNoContent {
			t.Fatalf("issue.resolved: %d", code)
		}
		if is, _ := s.IssueGet(ctx, w.a.org.ID, mirror.ID); is.Status != store.StatusResolved {
			t.Fatalf("mirror status after resolved: %s", is.Status)
		}
		unresolved := `{"action":"unresolved","data":{"issue":{"id":"4242","title":"ZeroDivisionError: division by zero","status":"unresolved"}}}`
		if code := sentryHook(t, w, in.ID, "issue", "unresolved", "r4", unresolved, bridgeSecret); code != http.StatusNoContent {
			t.Fatalf("issue.unresolved: %d", code)
		}
		is, _ := s.IssueGet(ctx, w.a.org.ID, mirror.ID)
		if is.Status != store.StatusUnresolved || is.Substatus != store.SubstatusRegressed {
			t.Errorf("mirror after unresolved: %s/%s, want a regression", is.Status, is.Substatus)
		}
		// Unknown resources are acknowledged; an unknown integration is 401.
		if code := sentryHook(t, w, in.ID, "installation", "created", "r5", `{"action":"created","data":{}}`, bridgeSecret); code != http.StatusNoContent {
			t.Errorf("installation.created: %d", code)
		}
		if code := sentryHook(t, w, in.ID+1000, "issue", "created", "r6", created, bridgeSecret); code != http.StatusUnauthorized {
			t.Errorf("unknown integration: %d", code)
		}
		if code := sentryHook(t, w, in.ID, "issue", "created", "r7", `{"action":`, bridgeSecret); code != http.StatusBadRequest {
			t.Errorf("malformed body: %d", code)
		}
	})
}
