package api_test

import (
	"bytes"
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
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/server/api"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// integrationsEnv is an API server with the integration endpoints on: the
// providers of a deployment that allows private webhooks (the receivers
// listen on loopback) and has SMTP, and the box that seals secrets.
type integrationsEnv struct {
	*env
	box *integrations.SecretBox
}

// setupIntegrations is setup with the integration endpoints enabled.
func setupIntegrations(t *testing.T, fn func(t *testing.T, e *integrationsEnv)) {
	t.Helper()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		box, err := integrations.NewSecretBox("api-tests-secret-key-0123456789abcdef")
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		var handler http.Handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handler.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		a := api.New(st, srv.URL, slog.New(slog.DiscardHandler))
		a.SetIntegrations(&api.Integrations{Box: box, Providers: providers.New(providers.Options{
			AllowPrivateWebhooks: true, SMTP: &email.SMTP{Host: "127.0.0.1", Port: 2525, TLS: email.TLSNone},
			MailFrom: "tocsin@example.com", InstallationUUID: "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"})})
		a.Register(mux)
		handler = a.WithNotFound(mux)
		u, err := url.Parse(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		client := srv.Client()
		client.Timeout = 30 * time.Second
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		fn(t, &integrationsEnv{env: &env{url: srv.URL, host: u.Host, st: st, client: client}, box: box})
	})
}

// raw sends a request (body as JSON, or as is when a string) and returns
// the status, the headers and the body as the server sent it.
func (e *env) raw(t *testing.T, method, path, token string, body any) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string: // sent as is
		r = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func integrationsPath(tn *tenant) string {
	return "/api/0/organizations/" + tn.org.Slug + "/integrations/"
}

func deliveriesPath(tn *tenant) string {
	return "/api/0/organizations/" + tn.org.Slug + "/deliveries/"
}

// sealed opens an integration's stored secrets with the box.
func (e *integrationsEnv) sealed(t *testing.T, org *store.Organization, id string) map[string]any {
	t.Helper()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		t.Fatalf("integration id %q: %v", id, err)
	}
	in, err := e.st.IntegrationGet(context.Background(), org.ID, n)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := e.box.Open(in.Secrets, in.ID)
	if err != nil {
		t.Fatalf("open the secrets of integration %s: %v", id, err)
	}
	var out map[string]any
	if err := json.Unmarshal(plain, &out); err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "the stored secrets", in.Secrets, out)
	noSecrets(t, "the stored settings", []byte(in.Config), out)
	return out
}

// noSecrets fails when a body shows any of the secret values.
func noSecrets(t *testing.T, what string, body []byte, secrets map[string]any) {
	t.Helper()
	for k, v := range secrets {
		if s, _ := v.(string); s != "" && bytes.Contains(body, []byte(s)) {
			t.Errorf("%s shows the secret %s: %s", what, k, body)
		}
	}
}

// providerSettings are valid settings per provider: the non-secret ones
// and the secret ones, which the API must never return.
func providerSettings(hookURL string) map[string][2]map[string]any {
	return map[string][2]map[string]any{
		"slack": {{"default_channel": "#ops"},
			{"bot_token": "xoxb-1111-2222-SECRETbottoken", "signing_secret": "SECRETsigning8f742231b10e8888"}},
		"github": {{"owner": "acme", "repo": "shop", "labels": []any{"bug", "tocsin"}},
			{"token": "ghp_SECRETgithubtoken", "webhook_secret": "SECRETgithubhook"}},
		"trello": {{"api_key": "0123456789abcdef0123456789abcdef", "board_id": "aBcD1234", "list_id": "5f1a2b3c4d5e6f7a8b9c0d1e"},
			{"token": "SECRETtrellotoken", "webhook_secret": "SECRETtrellohook"}},
		"email":   {{"to": []any{"ops@example.com"}}, {}},
		"webhook": {{"url": hookURL, "events": []any{"issue.created", "event_alert.triggered"}}, {"secret": "SECRETwebhook"}},
		"sentry":  {{"project": "acme-web"}, {"client_secret": "0123456789abcdefSECRETbridge"}},
	}
}

func merged(parts [2]map[string]any) map[string]any {
	out := map[string]any{}
	for _, p := range parts {
		for k, v := range p {
			out[k] = v
		}
	}
	return out
}

func TestIntegrations_Create(t *testing.T) {
	t.Parallel()
	setupIntegrations(t, func(t *testing.T, e *integrationsEnv) {
		a := e.tenant(t, "acme")
		for provider, parts := range providerSettings("https://hooks.example.com/tocsin") {
			t.Run(provider, func(t *testing.T) {
				plain, secrets := parts[0], parts[1]
				code, _, body := e.raw(t, "POST", integrationsPath(a), a.token,
					map[string]any{"provider": provider, "name": "Our " + provider, "config": merged(parts)})
				if code != http.StatusCreated {
					t.Fatalf("POST %s: %d %s", provider, code, body)
				}
				noSecrets(t, "the created integration", body, secrets)
				var v map[string]any
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatal(err)
				}
				id := str(t, v, "id")
				if _, err := strconv.ParseInt(id, 10, 64); err != nil ||
					v["provider"] != provider || v["name"] != "Our "+provider || v["status"] != "active" {
					t.Errorf("created %v, want id, provider %s, name and status active", v, provider)
				}
				if cfg := get(v, "config"); !reflect.DeepEqual(cfg, plain) {
					t.Errorf("config %v, want the non-secret settings %v", cfg, plain)
				}
				if got := e.sealed(t, a.org, id); !reflect.DeepEqual(got, secrets) {
					t.Errorf("stored secrets %v, want %v", got, secrets)
				}
				for _, path := range []string{integrationsPath(a) + id + "/", integrationsPath(a)} {
					code, _, body := e.raw(t, "GET", path, a.token, nil)
					if code != http.StatusOK {
						t.Fatalf("GET %s: %d %s", path, code, body)
					}
					noSecrets(t, "GET "+path, body, secrets)
				}
			})
		}
		// Without a name the provider names it.
		v := e.want(t, http.StatusCreated, "POST", integrationsPath(a), a.token,
			map[string]any{"provider": "email", "config": map[string]any{"to": []any{"dev@example.com"}}})
		if v := get(v, "name"); v != "email" {
			t.Errorf("name %v, want the provider's", v)
		}
		if l := list(t, e.want(t, http.StatusOK, "GET", integrationsPath(a), a.token, nil)); len(l) != 7 {
			t.Errorf("%d integrations listed, want 7", len(l))
		}
	})
}

func TestIntegrations_Update(t *testing.T) {
	t.Parallel()
	setupIntegrations(t, func(t *testing.T, e *integrationsEnv) {
		ctx := context.Background()
		a := e.tenant(t, "acme")
		secrets := map[string]any{"bot_token": "xoxb-1111-2222-SECRETbottoken", "signing_secret": "SECRETsigning8f742231b10e8888"}
		v := e.want(t, http.StatusCreated, "POST", integrationsPath(a), a.token, map[string]any{"provider": "slack",
			"name": "Slack", "config": merged([2]map[string]any{{"default_channel": "#ops"}, secrets})})
		id := str(t, v, "id")
		path := integrationsPath(a) + id + "/"

		// Settings without the secrets keep them.
		code, _, body := e.raw(t, "PUT", path, a.token, map[string]any{"name": "Slack (ops)", "config": map[string]any{"default_channel": "#alerts"}})
		if code != http.StatusOK {
			t.Fatalf("PUT: %d %s", code, body)
		}
		noSecrets(t, "the updated integration", body, secrets)
		if got := e.sealed(t, a.org, id); !reflect.DeepEqual(got, secrets) {
			t.Errorf("secrets after an update without them: %v, want kept %v", got, secrets)
		}
		v = e.want(t, http.StatusOK, "GET", path, a.token, nil)
		if get(v, "name") != "Slack (ops)" || get(v, "config", "default_channel") != "#alerts" {
			t.Errorf("after PUT: %v", v)
		}

		// A new secret replaces the old one; the others stay.
		e.want(t, http.StatusOK, "PUT", path, a.token, map[string]any{"config": map[string]any{"bot_token": "xoxb-9999-SECRETrotated", "default_channel": "#alerts"}})
		want := map[string]any{"bot_token": "xoxb-9999-SECRETrotated", "signing_secret": secrets["signing_secret"]}
		if got := e.sealed(t, a.org, id); !reflect.DeepEqual(got, want) {
			t.Errorf("secrets after rotating the token: %v, want %v", got, want)
		}

		// A name alone leaves the settings.
		e.want(t, http.StatusOK, "PUT", path, a.token, map[string]any{"name": "Slack"})
		if got := e.sealed(t, a.org, id); !reflect.DeepEqual(got, want) {
			t.Errorf("secrets after renaming: %v, want %v", got, want)
		}
		if v := e.want(t, http.StatusOK, "GET", path, a.token, nil); get(v, "config", "default_channel") != "#alerts" {
			t.Errorf("settings after renaming: %v", get(v, "config"))
		}

		// Fixing an unhealthy integration makes it active again.
		n, _ := strconv.ParseInt(id, 10, 64)
		if err := e.st.IntegrationSetStatus(ctx, n, store.IntegrationUnhealthy, "invalid_auth"); err != nil {
			t.Fatal(err)
		}
		if v := e.want(t, http.StatusOK, "GET", path, a.token, nil); get(v, "status") != "unhealthy" || get(v, "statusReason") != "invalid_auth" {
			t.Errorf("unhealthy integration shows %v (%v)", get(v, "status"), get(v, "statusReason"))
		}
		v = e.want(t, http.StatusOK, "PUT", path, a.token, map[string]any{"config": map[string]any{"bot_token": "xoxb-9999-SECRETfixed"}})
		if get(v, "status") != "active" {
			t.Errorf("after new credentials the integration is %v, want active", get(v, "status"))
		}

		// Refused updates change nothing.
		before := e.sealed(t, a.org, id)
		for _, body := range []map[string]any{
			{"provider": "github"},
			{"config": map[string]any{"webhook_url": "https://hooks.slack.com/services/T0/B0/X"}}, // and the kept bot token
			{"config": map[string]any{"nope": "x"}},
			{"name": ""},
		} {
			wantDetail(t, e.want(t, http.StatusBadRequest, "PUT", path, a.token, body))
		}
		if got := e.sealed(t, a.org, id); !reflect.DeepEqual(got, before) {
			t.Errorf("a refused update changed the secrets to %v", got)
		}

		// Deleted: gone from the API.
		e.want(t, http.StatusNoContent, "DELETE", path, a.token, nil)
		e.want(t, http.StatusNotFound, "GET", path, a.token, nil)
		e.want(t, http.StatusNotFound, "PUT", path, a.token, map[string]any{"name": "x"})
		e.want(t, http.StatusNotFound, "DELETE", path, a.token, nil)
	})
}

func TestIntegrations_Validation(t *testing.T) {
	t.Parallel()
	setupIntegrations(t, func(t *testing.T, e *integrationsEnv) {
		a := e.tenant(t, "acme")
		for _, tc := range []struct {
			name  string
			body  any
			parts []string // what the detail names
		}{
			{"no provider", map[string]any{"config": map[string]any{}}, []string{"provider", "required"}},
			{"unknown provider", map[string]any{"provider": "pagerduty"}, []string{"provider", "pagerduty", "slack"}},
			{"blank name", map[string]any{"provider": "email", "name": " ", "config": map[string]any{"to": []any{"a@example.com"}}}, []string{"name"}},
			{"unknown setting", map[string]any{"provider": "slack", "config": map[string]any{"bot_token": "xoxb-1", "channel": "#ops"}},
				[]string{"config.channel"}},
			{"wrong type", map[string]any{"provider": "github", "config": map[string]any{"token": "t", "owner": 42, "repo": "shop"}},
				[]string{"config.owner", "string"}},
			{"string for a list", map[string]any{"provider": "email", "config": map[string]any{"to": "ops@example.com"}},
				[]string{"config.to", "list"}},
			{"required setting missing", map[string]any{"provider": "github", "config": map[string]any{"owner": "acme", "repo": "shop"}},
				[]string{"config.token", "required"}},
			{"required list missing", map[string]any{"provider": "email", "config": map[string]any{}}, []string{"config.to", "required"}},
			{"slack without credentials", map[string]any{"provider": "slack", "config": map[string]any{"default_channel": "#ops"}},
				[]string{"bot_token", "webhook_url"}},
			{"webhook url", map[string]any{"provider": "webhook", "config": map[string]any{"url": "ftp://hooks.example.com/"}},
				[]string{"url"}},
			{"webhook event", map[string]any{"provider": "webhook", "config": map[string]any{"url": "https://h.example.com/", "events": []any{"issue.boom"}}},
				[]string{"issue.boom"}},
			{"trello list", map[string]any{"provider": "trello", "config": map[string]any{"api_key": "k", "token": "SECRETtok", "list_id": "inbox"}},
				[]string{"list_id"}},
			{"not JSON", "{", nil},
			{"not an object", []any{"slack"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, _, body := e.raw(t, "POST", integrationsPath(a), a.token, tc.body)
				if code != http.StatusBadRequest {
					t.Fatalf("%d %s, want 400", code, body)
				}
				var v any
				if err := json.Unmarshal(body, &v); err != nil {
					t.Fatalf("error body %q: %v", body, err)
				}
				wantDetail(t, v, tc.parts...)
				if bytes.Contains(body, []byte("SECRETtok")) {
					t.Errorf("the error shows a secret: %s", body)
				}
			})
		}
		if l := list(t, e.want(t, http.StatusOK, "GET", integrationsPath(a), a.token, nil)); len(l) != 0 {
			t.Errorf("refused integrations were stored: %v", l)
		}
	})
}

// hookReceiver is a webhook consumer: it records requests and answers
// 401 on /unauthorized, 200 elsewhere.
type hookReceiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	t.Helper()
	rc := &hookReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, hookRequest{header: r.Header.Clone(), body: b})
		rc.mu.Unlock()
		if r.URL.Path == "/unauthorized" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) requests() []hookRequest {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookRequest(nil), rc.got...)
}

func TestIntegrations_Test(t *testing.T) {
	t.Parallel()
	setupIntegrations(t, func(t *testing.T, e *integrationsEnv) {
		a := e.tenant(t, "acme")
		rc := newHookReceiver(t)
		v := e.want(t, http.StatusCreated, "POST", integrationsPath(a), a.token, map[string]any{"provider": "webhook",
			"config": map[string]any{"url": rc.URL + "/hook", "secret": "SECRETwebhook"}})
		code, _, body := e.raw(t, "POST", integrationsPath(a)+str(t, v, "id")+"/test/", a.token, nil)
		if code != http.StatusOK {
			t.Fatalf("test: %d %s", code, body)
		}
		var answer map[string]any
		if err := json.Unmarshal(body, &answer); err != nil {
			t.Fatal(err)
		}
		if answer["ok"] != true || answer["status"] != 200.0 {
			t.Errorf("test answered %s, want ok with the receiver's status 200", body)
		}
		got := rc.requests()
		if len(got) != 1 {
			t.Fatalf("the receiver got %d requests, want 1", len(got))
		}
		mac := hmac.New(sha256.New, []byte("SECRETwebhook"))
		mac.Write(got[0].body)
		if sig := got[0].header.Get("Sentry-Hook-Signature"); sig != hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("Sentry-Hook-Signature %q does not sign the body", sig)
		}
		if got[0].header.Get("Sentry-Hook-Resource") == "" || !bytes.Contains(got[0].body, []byte("Test notification")) {
			t.Errorf("the test request: %v %s", got[0].header, got[0].body)
		}

		// A refusing service: the answer says why, without the secret.
		v = e.want(t, http.StatusCreated, "POST", integrationsPath(a), a.token, map[string]any{"provider": "webhook",
			"config": map[string]any{"url": rc.URL + "/unauthorized", "secret": "SECRETwebhook"}})
		code, _, body = e.raw(t, "POST", integrationsPath(a)+str(t, v, "id")+"/test/", a.token, map[string]any{})
		if err := json.Unmarshal(body, &answer); err != nil || code != http.StatusOK {
			t.Fatalf("test: %d %s", code, body)
		}
		if answer["ok"] != false || answer["reason"] != integrations.ReasonAuth || answer["status"] != 401.0 || answer["error"] == "" {
			t.Errorf("test against a refusing receiver answered %s, want ok false, reason auth, status 401", body)
		}
		noSecrets(t, "the test answer", body, map[string]any{"secret": "SECRETwebhook"})
	})
}

// delivery queues a delivery of the organization to an integration.
func (e *integrationsEnv) delivery(t *testing.T, org *store.Organization, integrationID string, n int) {
	t.Helper()
	iid, _ := strconv.ParseInt(integrationID, 10, 64)
	if err := e.st.DeliveryCreate(context.Background(), &store.Delivery{OrganizationID: org.ID, IntegrationID: &iid,
		Provider: "webhook", Kind: "new_issue", IdempotencyKey: fmt.Sprintf("test:%s:%d:%d", org.Slug, iid, n)}); err != nil {
		t.Fatal(err)
	}
}

func deliveryIDs(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, d := range list(t, v) {
		out = append(out, str(t, d, "id"))
	}
	return out
}

func TestIntegrations_Deliveries(t *testing.T) {
	t.Parallel()
	setupIntegrations(t, func(t *testing.T, e *integrationsEnv) {
		ctx := context.Background()
		a := e.tenant(t, "acme")
		hook := func() string {
			return str(t, e.want(t, http.StatusCreated, "POST", integrationsPath(a), a.token, map[string]any{"provider": "webhook",
				"config": map[string]any{"url": "https://hooks.example.com/x"}}), "id")
		}
		one, two := hook(), hook()
		for i := range 5 {
			e.delivery(t, a.org, one, i)
		}
		for i := range 2 {
			e.delivery(t, a.org, two, i)
		}
		all := e.want(t, http.StatusOK, "GET", deliveriesPath(a), a.token, nil)
		ids := deliveryIDs(t, all)
		if len(ids) != 7 {
			t.Fatalf("%d deliveries, want 7", len(ids))
		}
		for i := 1; i < len(ids); i++ {
			p, _ := strconv.Atoi(ids[i-1])
			n, _ := strconv.Atoi(ids[i])
			if p <= n {
				t.Fatalf("deliveries %v are not newest first", ids)
			}
		}
		first := list(t, all)[0]
		for _, k := range []string{"id", "integration", "provider", "issue", "rule", "status", "attempts", "lastError", "dateCreated", "dateDelivered"} {
			if _, ok := first.(map[string]any)[k]; !ok {
				t.Errorf("a delivery has no %q: %v", k, first)
			}
		}
		if get(first, "integration") != two || get(first, "provider") != "webhook" || get(first, "status") != "pending" ||
			get(first, "attempts") != 0.0 {
			t.Errorf("newest delivery %v, want a pending delivery to integration %s", first, two)
		}

		// One fails, one is delivered.
		failedID, _ := strconv.ParseInt(ids[6], 10, 64)
		deliveredID, _ := strconv.ParseInt(ids[5], 10, 64)
		now := time.Now().UTC()
		if err := e.st.DeliveryRecord(ctx, &store.Attempt{DeliveryID: failedID, Started: now, Outcome: store.OutcomeFailed,
			Reason: "auth", StatusCode: 401, Error: "HTTP 401 (permanent, auth): refused"}); err != nil {
			t.Fatal(err)
		}
		if err := e.st.DeliveryRecord(ctx, &store.Attempt{DeliveryID: deliveredID, Started: now, Outcome: store.OutcomeDelivered,
			StatusCode: 200}); err != nil {
			t.Fatal(err)
		}
		v := e.want(t, http.StatusOK, "GET", deliveriesPath(a)+"?status=failed", a.token, nil)
		if got := deliveryIDs(t, v); len(got) != 1 || got[0] != ids[6] || get(v, 0, "lastError") != "HTTP 401 (permanent, auth): refused" ||
			get(v, 0, "attempts") != 1.0 {
			t.Errorf("failed deliveries %v, want only %s with its error", v, ids[6])
		}
		v = e.want(t, http.StatusOK, "GET", deliveriesPath(a)+"?status=delivered", a.token, nil)
		if got := deliveryIDs(t, v); len(got) != 1 || got[0] != ids[5] || get(v, 0, "dateDelivered") == nil {
			t.Errorf("delivered deliveries %v, want only %s with its date", v, ids[5])
		}
		if got := deliveryIDs(t, e.want(t, http.StatusOK, "GET", deliveriesPath(a)+"?integration="+two, a.token, nil)); !reflect.DeepEqual(got, ids[:2]) {
			t.Errorf("deliveries of integration %s: %v, want %v", two, got, ids[:2])
		}
		if got := deliveryIDs(t, e.want(t, http.StatusOK, "GET", deliveriesPath(a)+"?integration="+one+"&status=pending", a.token, nil)); !reflect.DeepEqual(got, ids[2:5]) {
			t.Errorf("pending deliveries of integration %s: %v, want %v", one, got, ids[2:5])
		}
		wantDetail(t, e.want(t, http.StatusBadRequest, "GET", deliveriesPath(a)+"?status=lost", a.token, nil), "status")
		wantDetail(t, e.want(t, http.StatusBadRequest, "GET", deliveriesPath(a)+"?integration=slack", a.token, nil), "integration")

		// Pages of 3 follow the Link header to the end.
		var paged []string
		next := deliveriesPath(a) + "?per_page=3"
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("the pages do not end")
			}
			code, hdr, v := e.do(t, "GET", next, a.token, nil)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d", next, code)
			}
			paged = append(paged, deliveryIDs(t, v)...)
			_, nl := links(t, hdr.Get("Link"))
			if !nl.results {
				break
			}
			next = nl.url
		}
		if !reflect.DeepEqual(paged, ids) {
			t.Errorf("paged deliveries %v, want %v", paged, ids)
		}

		// One delivery with its attempt log.
		v = e.want(t, http.StatusOK, "GET", deliveriesPath(a)+ids[6]+"/", a.token, nil)
		if get(v, "id") != ids[6] || get(v, "attemptLog", 0, "outcome") != "failed" ||
			get(v, "attemptLog", 0, "httpStatus") != 401.0 || get(v, "attemptLog", 0, "reason") != "auth" ||
			get(v, "attemptLog", 0, "error") != "HTTP 401 (permanent, auth): refused" {
			t.Errorf("delivery %s with its attempts: %v", ids[6], v)
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", deliveriesPath(a)+"999999/", a.token, nil))

		// Retry: pending again at once.
		code, _, body := e.raw(t, "POST", deliveriesPath(a)+ids[6]+"/retry/", a.token, nil)
		if code != http.StatusAccepted {
			t.Fatalf("retry: %d %s", code, body)
		}
		var d map[string]any
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatal(err)
		}
		if d["id"] != ids[6] || d["status"] != "pending" || d["nextAttempt"] == nil {
			t.Errorf("retried delivery %s, want pending with a next attempt", body)
		}
		if got := deliveryIDs(t, e.want(t, http.StatusOK, "GET", deliveriesPath(a)+"?status=failed", a.token, nil)); len(got) != 0 {
			t.Errorf("failed deliveries after the retry: %v", got)
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "POST", deliveriesPath(a)+"999999/retry/", a.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "POST", deliveriesPath(a)+"x/retry/", a.token, nil))

		// Deleting an integration removes its deliveries from the log.
		e.want(t, http.StatusNoContent, "DELETE", integrationsPath(a)+one+"/", a.token, nil)
		if got := deliveryIDs(t, e.want(t, http.StatusOK, "GET", deliveriesPath(a), a.token, nil)); !reflect.DeepEqual(got, ids[:2]) {
			t.Errorf("deliveries after deleting integration %s: %v, want %v", one, got, ids[:2])
		}
	})
}

func TestIntegrations_Tenancy(t *testing.T) {
	t.Parallel()
	setupIntegrations(t, func(t *testing.T, e *integrationsEnv) {
		a, b := e.tenant(t, "acme"), e.tenant(t, "globex")
		rc := newHookReceiver(t)
		create := func(tn *tenant) string {
			return str(t, e.want(t, http.StatusCreated, "POST", integrationsPath(tn), tn.token, map[string]any{"provider": "webhook",
				"config": map[string]any{"url": rc.URL + "/hook", "secret": "SECRETwebhook"}}), "id")
		}
		aID, bID := create(a), create(b)
		e.delivery(t, a.org, aID, 0)
		e.delivery(t, b.org, bID, 0)
		aDelivery := str(t, e.want(t, http.StatusOK, "GET", deliveriesPath(a), a.token, nil), 0, "id")
		bDelivery := str(t, e.want(t, http.StatusOK, "GET", deliveriesPath(b), b.token, nil), 0, "id")
		update := map[string]any{"name": "taken over", "config": map[string]any{"url": "https://evil.example.com/"}}

		for _, tc := range []struct {
			method, path string
			body         any
		}{
			// Globex's token on acme's paths.
			{"GET", integrationsPath(a), nil},
			{"POST", integrationsPath(a), map[string]any{"provider": "email", "config": map[string]any{"to": []any{"x@example.com"}}}},
			{"GET", integrationsPath(a) + aID + "/", nil},
			{"PUT", integrationsPath(a) + aID + "/", update},
			{"DELETE", integrationsPath(a) + aID + "/", nil},
			{"POST", integrationsPath(a) + aID + "/test/", nil},
			{"GET", deliveriesPath(a), nil},
			{"POST", deliveriesPath(a) + aDelivery + "/retry/", nil},
			{"GET", deliveriesPath(a) + aDelivery + "/", nil},
			// Acme's ids under globex's own organization.
			{"GET", integrationsPath(b) + aID + "/", nil},
			{"PUT", integrationsPath(b) + aID + "/", update},
			{"DELETE", integrationsPath(b) + aID + "/", nil},
			{"POST", integrationsPath(b) + aID + "/test/", nil},
			{"POST", deliveriesPath(b) + aDelivery + "/retry/", nil},
			{"GET", deliveriesPath(b) + aDelivery + "/", nil},
		} {
			wantDetail(t, e.want(t, http.StatusNotFound, tc.method, tc.path, b.token, tc.body))
		}
		if got := deliveryIDs(t, e.want(t, http.StatusOK, "GET", deliveriesPath(b)+"?integration="+aID, b.token, nil)); len(got) != 0 {
			t.Errorf("globex filtering by acme's integration sees %v", got)
		}
		if got := deliveryIDs(t, e.want(t, http.StatusOK, "GET", deliveriesPath(b), b.token, nil)); !reflect.DeepEqual(got, []string{bDelivery}) {
			t.Errorf("globex's log %v, want only its own %s", got, bDelivery)
		}
		// Nothing of acme's changed, and no test went out for globex.
		v := e.want(t, http.StatusOK, "GET", integrationsPath(a)+aID+"/", a.token, nil)
		if get(v, "name") != "webhook" || get(v, "config", "url") != rc.URL+"/hook" {
			t.Errorf("acme's integration changed: %v", v)
		}
		if n := len(rc.requests()); n != 0 {
			t.Errorf("the receiver got %d requests", n)
		}
		if l := list(t, e.want(t, http.StatusOK, "GET", integrationsPath(a), a.token, nil)); len(l) != 1 {
			t.Errorf("acme has %d integrations, want 1", len(l))
		}
	})
}

func TestIntegrations_Scopes(t *testing.T) {
	t.Parallel()
	setupIntegrations(t, func(t *testing.T, e *integrationsEnv) {
		a := e.tenant(t, "acme")
		id := str(t, e.want(t, http.StatusCreated, "POST", integrationsPath(a), a.token, map[string]any{"provider": "webhook",
			"config": map[string]any{"url": "https://hooks.example.com/x"}}), "id")
		e.delivery(t, a.org, id, 0)
		delivery := str(t, e.want(t, http.StatusOK, "GET", deliveriesPath(a), a.token, nil), 0, "id")
		create := map[string]any{"provider": "email", "config": map[string]any{"to": []any{"x@example.com"}}}
		writes := []struct {
			method, path string
			body         any
		}{
			{"POST", integrationsPath(a), create},
			{"PUT", integrationsPath(a) + id + "/", map[string]any{"name": "x"}},
			{"POST", integrationsPath(a) + id + "/test/", nil},
			{"POST", deliveriesPath(a) + delivery + "/retry/", nil},
			{"DELETE", integrationsPath(a) + id + "/", nil},
		}
		reads := []string{integrationsPath(a), integrationsPath(a) + id + "/", deliveriesPath(a)}

		projectRead := e.token(t, a.user, "project:read")
		for _, w := range writes {
			wantDetail(t, e.want(t, http.StatusForbidden, w.method, w.path, projectRead, w.body), "permission")
		}
		for _, path := range reads {
			e.want(t, http.StatusForbidden, "GET", path, projectRead, nil)
		}
		orgRead := e.token(t, a.user, "org:read")
		for _, w := range writes {
			e.want(t, http.StatusForbidden, w.method, w.path, orgRead, w.body)
		}
		for _, path := range reads {
			e.want(t, http.StatusOK, "GET", path, orgRead, nil)
		}
		e.want(t, http.StatusCreated, "POST", integrationsPath(a), e.token(t, a.user, "org:integrations"), create)
		e.want(t, http.StatusUnauthorized, "GET", integrationsPath(a), "", nil)
	})
}

// Without integrations (a process built without them) the endpoints that
// need the secret box answer 503; the log still reads.
func TestIntegrations_Unavailable(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		wantDetail(t, e.want(t, http.StatusServiceUnavailable, "POST", integrationsPath(a), a.token,
			map[string]any{"provider": "email", "config": map[string]any{"to": []any{"x@example.com"}}}))
		e.want(t, http.StatusOK, "GET", integrationsPath(a), a.token, nil)
		e.want(t, http.StatusOK, "GET", deliveriesPath(a), a.token, nil)
	})
}
