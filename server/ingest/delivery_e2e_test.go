package ingest_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/prometheus/client_golang/prometheus"

	deliveries "github.com/tocsin/tocsin/delivery"
	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/server"
	"github.com/tocsin/tocsin/server/api"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
	"github.com/tocsin/tocsin/worker"
)

// The delivery end-to-end test runs `tocsin run`'s shape with integrations
// (see cmd/tocsin/serve.go): the server with the integration endpoints,
// and a worker with the rules engine and the delivery worker, against a
// fake Slack Web API and a webhook receiver on loopback.

const (
	e2eSlackToken  = "xoxb-4242-SECRETe2ebottoken"
	e2eHookSecret  = "whsec-SECRETe2e"
	e2eSecretKey   = "e2e-deliveries-secret-key-0123456789abcdef"
	e2eInstallUUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
)

// slackAPI is the part of Slack's Web API that a new-issue alert uses:
// chat.postMessage, with the bot token checked, each call recorded.
type slackAPI struct {
	*httptest.Server
	mu    sync.Mutex
	posts []url.Values
}

func newSlackAPI(t *testing.T) *slackAPI {
	t.Helper()
	f := &slackAPI{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		form := r.PostForm
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token == "" {
			token = form.Get("token")
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if token != e2eSlackToken {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		form.Del("token")
		f.mu.Lock()
		f.posts = append(f.posts, form)
		ts := fmt.Sprintf("1700000000.%06d", len(f.posts))
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": "C0OPS", "ts": ts,
			"message": map[string]any{"type": "message", "text": form.Get("text"), "ts": ts}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake Slack: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *slackAPI) messages() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.posts...)
}

// hookReceiver is a webhook consumer written for Sentry: it records each
// request and whether its Sentry-Hook-Signature is valid.
type hookReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	header   http.Header
	body     []byte
	signedOK bool
}

func newHookReceiver(t *testing.T, secret string) *hookReceiver {
	t.Helper()
	rc := &hookReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		got, _ := hex.DecodeString(r.Header.Get("Sentry-Hook-Signature"))
		rc.mu.Lock()
		rc.got = append(rc.got, hookRequest{header: r.Header.Clone(), body: body, signedOK: hmac.Equal(got, mac.Sum(nil))})
		rc.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) requests() []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookRequest(nil), rc.got...)
}

// serveIntegrations is serve with the integration endpoints enabled.
func (f *fixture) serveIntegrations(t *testing.T, in *api.Integrations) *tocsinServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	for attempt := 0; ; attempt++ {
		addr := freeAddr(t)
		srv, err := server.New(server.Config{Addr: addr, BaseURL: "http://" + addr, Role: server.RoleAll, Version: "test",
			Integrations: in}, f.st, prometheus.NewRegistry(), log)
		if err != nil {
			t.Fatalf("new server: %v", err)
		}
		if err := srv.Start(); err != nil {
			_ = srv.Stop(context.Background())
			if attempt < 5 {
				continue
			}
			t.Fatalf("start server: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Stop(ctx); err != nil {
				t.Errorf("stop server: %v", err)
			}
		})
		return &tocsinServer{fixture: f, base: "http://" + addr, host: addr, client: &http.Client{Timeout: time.Minute}}
	}
}

// startWorker starts the background side as `tocsin run` does: the rules
// engine and the status sync on the outbox, and the delivery worker as a
// periodic job.
func startWorker(t *testing.T, st *store.Store, baseURL string, in *api.Integrations) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg := prometheus.NewRegistry()
	engine, err := rules.NewEngine(st, log, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	dw, err := deliveries.New(deliveries.Config{BaseURL: baseURL}, st, in.Box, in.Providers, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	wk, err := worker.New(worker.Config{Role: "all", Version: "test",
		Handlers: []worker.ActivityHandler{engine, deliveries.NewStatusSync(st)},
		Periodic: []worker.Periodic{
			{Name: "rules sweep", Interval: time.Minute, Run: engine.Sweep},
			{Name: "deliveries", Interval: 20 * time.Millisecond, Run: dw.Run},
		},
	}, st, log, reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := wk.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		wk.Stop(ctx)
	})
}

// apiDelivery is a row of the delivery log, as far as the test reads it.
type apiDelivery struct {
	ID            string     `json:"id"`
	Integration   *string    `json:"integration"`
	Provider      string     `json:"provider"`
	Issue         *string    `json:"issue"`
	Rule          *string    `json:"rule"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     *string    `json:"lastError"`
	DateDelivered *time.Time `json:"dateDelivered"`
}

func (ts *tocsinServer) deliveries(t *testing.T, query string) []apiDelivery {
	t.Helper()
	var out []apiDelivery
	path := "/api/0/organizations/" + ts.boot.Organization.Slug + "/deliveries/" + query
	if code := ts.api(t, http.MethodGet, path, nil, &out); code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
	return out
}

func TestDeliveries_SentryGoSDK(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		slack := newSlackAPI(t)
		hooks := newHookReceiver(t, e2eHookSecret)
		box, err := integrations.NewSecretBox(e2eSecretKey)
		if err != nil {
			t.Fatal(err)
		}
		in := &api.Integrations{Box: box, Providers: providers.New(providers.Options{SlackAPIURL: slack.URL + "/api/",
			AllowPrivateWebhooks: true, InstallationUUID: e2eInstallUUID})}
		ts := newFixture(t, st).serveIntegrations(t, in)
		org, project := ts.boot.Organization.Slug, ts.boot.Project.Slug

		// Through the API: a Slack integration, a webhook, and a rule that
		// alerts both on new issues.
		var slackIn, hookIn struct {
			ID string `json:"id"`
		}
		if code := ts.api(t, http.MethodPost, "/api/0/organizations/"+org+"/integrations/", map[string]any{
			"provider": "slack", "name": "Slack", "config": map[string]any{"bot_token": e2eSlackToken, "default_channel": "#general"},
		}, &slackIn); code != http.StatusCreated {
			t.Fatalf("create the Slack integration: %d", code)
		}
		if code := ts.api(t, http.MethodPost, "/api/0/organizations/"+org+"/integrations/", map[string]any{
			"provider": "webhook", "name": "Hook", "config": map[string]any{"url": hooks.URL + "/sentry", "secret": e2eHookSecret},
		}, &hookIn); code != http.StatusCreated {
			t.Fatalf("create the webhook integration: %d", code)
		}
		var rule struct {
			ID string `json:"id"`
		}
		if code := ts.api(t, http.MethodPost, "/api/0/projects/"+org+"/"+project+"/rules/", map[string]any{
			"name": "New issues to #ops", "actionMatch": "all", "filterMatch": "all", "frequency": 30,
			"conditions": []any{map[string]any{"id": rules.FirstSeen}},
			"actions": []any{
				map[string]any{"id": rules.SlackNotify, "workspace": slackIn.ID, "channel": "#ops"},
				map[string]any{"id": rules.NotifyIntegration, "integration": hookIn.ID},
			},
		}, &rule); code != http.StatusCreated {
			t.Fatalf("create the rule: %d", code)
		}
		startWorker(t, st, ts.base, in)

		sdk := newSDK(t, ts.dsn(ts.boot.Key), sentry.ClientOptions{Environment: "production", Release: "shop@1.0"})
		const title = "checkout failed: card declined for order 1234"
		capture := func() string {
			hub := sdk.hub()
			hub.Scope().SetLevel(sentry.LevelError)
			return sdk.accepted(t, hub.CaptureMessage(title))
		}
		first := capture()

		waitFor(t, "the Slack alert", func() bool { return len(slack.messages()) >= 1 })
		// The webhook gets the rule's alert, and issue.created as Sentry's
		// integration platform sends it to subscribed apps.
		waitFor(t, "the webhooks", func() bool { return len(hooks.requests()) >= 2 })
		msg := slack.messages()[0]
		if msg.Get("channel") != "#ops" {
			t.Errorf("posted to %q, want the rule's #ops", msg.Get("channel"))
		}
		if !strings.Contains(msg.Get("text"), title) && !strings.Contains(msg.Get("attachments")+msg.Get("blocks"), title) {
			t.Errorf("the Slack message does not show the issue's title %q: %v", title, msg)
		}
		resources := map[string]int{}
		for _, hook := range hooks.requests() {
			if !hook.signedOK {
				t.Errorf("the webhook's Sentry-Hook-Signature %q does not verify", hook.header.Get("Sentry-Hook-Signature"))
			}
			var body struct {
				Action string `json:"action"`
			}
			if err := json.Unmarshal(hook.body, &body); err != nil || !strings.Contains(string(hook.body), title) {
				t.Errorf("the webhook body %s (%v) does not show the issue", hook.body, err)
			}
			resources[hook.header.Get("Sentry-Hook-Resource")+"."+body.Action]++
		}
		if resources["event_alert.triggered"] != 1 || resources["issue.created"] != 1 {
			t.Errorf("webhooks %v, want event_alert.triggered and issue.created once each", resources)
		}

		// The log shows them delivered, with the issue and the rule that
		// fired (none for issue.created).
		issueID := ts.event(t, first).GroupID
		delivered := func(id string) []apiDelivery {
			var out []apiDelivery
			for _, d := range ts.deliveries(t, "?integration="+id) {
				if d.Status == store.DeliveryDelivered {
					out = append(out, d)
				}
			}
			return out
		}
		waitFor(t, "the deliveries to be logged as delivered", func() bool {
			return len(delivered(slackIn.ID)) == 1 && len(delivered(hookIn.ID)) == 2
		})
		byRule := 0
		for _, d := range append(delivered(slackIn.ID), delivered(hookIn.ID)...) {
			if d.Issue == nil || *d.Issue != issueID || d.Attempts != 1 || d.DateDelivered == nil {
				t.Errorf("logged delivery %+v, want issue %s delivered after one attempt", d, issueID)
			}
			if d.Rule != nil && *d.Rule == rule.ID {
				byRule++
			}
		}
		if byRule != 2 {
			t.Errorf("%d logged deliveries name rule %s, want the Slack alert and the webhook alert", byRule, rule.ID)
		}

		// A second event of the issue is not a new issue: nothing more is sent.
		second := capture()
		if ts.event(t, second).GroupID != issueID {
			t.Fatalf("the second event made another issue")
		}
		waitFor(t, "the worker to evaluate the second event", func() bool {
			n, err := st.OutboxPending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n == 0
		})
		ruleID := ruleIDOf(t, rule.ID)
		all, err := st.NotificationList(ctx, ts.boot.Project.ID, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		fired := 0
		for _, n := range all {
			if n.RuleID != nil && *n.RuleID == ruleID {
				fired++
			}
		}
		if fired != 2 { // one request per action, of one firing
			t.Fatalf("the rule made %d notification requests, want 2 (one firing, two actions)", fired)
		}
		waitFor(t, "every delivery to be worked", func() bool {
			for _, d := range ts.deliveries(t, "") {
				if d.Status == store.DeliveryPending {
					return false
				}
			}
			return true
		})
		if n, h := len(slack.messages()), len(hooks.requests()); n != 1 || h != 2 {
			t.Errorf("Slack got %d messages and the webhook %d requests, want 1 and 2", n, h)
		}
		if ds := ts.deliveries(t, "?integration="+slackIn.ID); len(ds) != 1 {
			t.Errorf("%d Slack deliveries, want 1", len(ds))
		}
	})
}

func ruleIDOf(t *testing.T, id string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(id, &n); err != nil {
		t.Fatalf("rule id %q: %v", id, err)
	}
	return n
}
