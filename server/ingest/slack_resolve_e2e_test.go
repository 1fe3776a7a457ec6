package ingest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/server/api"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

const e2eSigningSecret = "e2e-slack-signing-secret-0123456789"

// slackThreadAPI fakes the Web API calls of a Slack alert's life: the
// post, the parent's update and the thread reply after a button press,
// and users.info for who pressed.
type slackThreadAPI struct {
	*httptest.Server
	mu      sync.Mutex
	calls   []string // method names in order
	updated []url.Values
}

func newSlackThreadAPI(t *testing.T) *slackThreadAPI {
	t.Helper()
	f := &slackThreadAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		method := strings.TrimPrefix(r.URL.Path, "/api/")
		f.mu.Lock()
		f.calls = append(f.calls, method)
		posts := 0
		for _, c := range f.calls {
			if c == "chat.postMessage" {
				posts++
			}
		}
		if method == "chat.update" {
			f.updated = append(f.updated, r.PostForm)
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "chat.postMessage":
			ts := fmt.Sprintf("1700000000.%06d", posts)
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0OPS", "ts": ts})
		case "chat.update":
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0OPS", "ts": r.PostForm.Get("ts")})
		case "users.info":
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true,
				"user": map[string]any{"id": "U1", "profile": map[string]any{"email": "ops@example.com"}}})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "unknown_method"})
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *slackThreadAPI) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == method {
			n++
		}
	}
	return n
}

// TestDeliveries_SlackResolveButton follows an alert to the end: an event
// from the Sentry Go SDK fires a rule, Slack gets the message, someone
// presses Resolve (a signed interactive payload), the issue is resolved
// by that member, and the Slack message is updated.
func TestDeliveries_SlackResolveButton(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		slackFake := newSlackThreadAPI(t)
		box, err := integrations.NewSecretBox(e2eSecretKey)
		if err != nil {
			t.Fatal(err)
		}
		in := &api.Integrations{Box: box, Providers: providers.New(providers.Options{SlackAPIURL: slackFake.URL + "/api/"})}
		ts := newFixture(t, st).serveIntegrations(t, in)
		org, project := ts.boot.Organization.Slug, ts.boot.Project.Slug
		// The member who will press the button, found by email: the
		// fixture's owner, ops@example.com.
		ops := ts.boot.User
		if ops.Email != "ops@example.com" {
			t.Fatalf("the fixture's user is %s", ops.Email)
		}

		var slackIn struct {
			ID string `json:"id"`
		}
		if code := ts.api(t, http.MethodPost, "/api/0/organizations/"+org+"/integrations/", map[string]any{
			"provider": "slack", "name": "Slack",
			"config": map[string]any{"bot_token": e2eSlackToken, "signing_secret": e2eSigningSecret, "default_channel": "#ops"},
		}, &slackIn); code != http.StatusCreated {
			t.Fatalf("create the Slack integration: %d", code)
		}
		if code := ts.api(t, http.MethodPost, "/api/0/projects/"+org+"/"+project+"/rules/", map[string]any{
			"name": "New issues to #ops", "frequency": 30,
			"conditions": []any{map[string]any{"id": rules.FirstSeen}},
			"actions":    []any{map[string]any{"id": rules.SlackNotify, "workspace": slackIn.ID, "channel": "#ops"}},
		}, nil); code != http.StatusCreated {
			t.Fatalf("create the rule: %d", code)
		}
		startWorker(t, st, ts.base, in)

		sdk := newSDK(t, ts.dsn(ts.boot.Key), sentry.ClientOptions{Environment: "production"})
		hub := sdk.hub()
		sdk.accepted(t, hub.CaptureMessage("payment gateway timed out"))
		waitFor(t, "the Slack alert", func() bool { return slackFake.count("chat.postMessage") >= 1 })

		var issues []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		ts.api(t, http.MethodGet, "/api/0/projects/"+org+"/"+project+"/issues/?query=", nil, &issues)
		if len(issues) != 1 {
			t.Fatalf("issues: %v", issues)
		}
		issueID, _ := strconv.ParseInt(issues[0].ID, 10, 64)
		waitFor(t, "the alert's link to be stored", func() bool {
			l, err := st.IssueLinkByHandle(ctx, mustID(t, slackIn.ID), "C0OPS:1700000000.000001")
			return err == nil && l != nil
		})

		// The press, signed as Slack signs it.
		payload, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]any{"id": "U1", "username": "ops", "name": "ops", "team_id": "T1"},
			"team":         map[string]any{"id": "T1"},
			"container":    map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": "C0OPS"},
			"channel":      map[string]any{"id": "C0OPS", "name": "ops"},
			"message":      map[string]any{"type": "message", "ts": "1700000000.000001", "text": "alert"},
			"response_url": "https://hooks.slack.com/actions/T1/1/x",
			"actions": []any{map[string]any{"action_id": "resolve", "block_id": "actions", "type": "button",
				"value": issues[0].ID, "action_ts": "1700000001.000000"}},
		})
		body := "payload=" + url.QueryEscape(string(payload))
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		mac := hmac.New(sha256.New, []byte(e2eSigningSecret))
		mac.Write([]byte("v0:" + stamp + ":" + body))
		req, _ := http.NewRequest(http.MethodPost, ts.base+"/webhooks/slack/interactive", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", stamp)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the button press answered %d", resp.StatusCode)
		}

		is, err := st.IssueGet(ctx, ts.boot.Organization.ID, issueID)
		if err != nil || is.Status != store.StatusResolved {
			t.Fatalf("issue after Resolve: %+v, %v", is, err)
		}
		acts, _ := st.ActivityList(ctx, issueID, 5)
		if len(acts) == 0 || acts[0].Kind != "set_resolved" || acts[0].UserID == nil || *acts[0].UserID != ops.ID {
			t.Errorf("the resolution is not recorded as the member's: %+v", acts[0])
		}
		waitFor(t, "the Slack message to be updated", func() bool { return slackFake.count("chat.update") >= 1 })
		slackFake.mu.Lock()
		up := slackFake.updated[0]
		slackFake.mu.Unlock()
		if up.Get("channel") != "C0OPS" || up.Get("ts") != "1700000000.000001" {
			t.Errorf("updated %s at %s, want the alert C0OPS 1700000000.000001", up.Get("channel"), up.Get("ts"))
		}
		if n := slackFake.count("chat.postMessage"); n > 2 {
			t.Errorf("%d posts: the alert and at most one thread reply expected", n)
		}
	})
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
