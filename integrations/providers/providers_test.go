package providers_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/httpclient"
	"github.com/tocsin/tocsin/integrations/providers"
)

// Sample settings per provider, as the API receives them (JSON decoded).
var samples = map[string]map[string]any{
	"slack": {"bot_token": "xoxb-1111-2222-SECRETbottoken", "signing_secret": "8f742231b10e8888abcd99yyyzzz85a5",
		"default_channel": "#ops"},
	"github": {"token": "ghp_SECRETgithubtoken", "owner": "acme", "repo": "shop", "labels": []any{"bug", "tocsin"},
		"webhook_secret": "SECRETgithubhook"},
	"trello": {"api_key": "0123456789abcdef0123456789abcdef", "token": "SECRETtrellotoken",
		"board_id": "aBcD1234", "list_id": "5f1a2b3c4d5e6f7a8b9c0d1e", "resolved_list_id": "5f1a2b3c4d5e6f7a8b9c0d1f",
		"webhook_secret": "SECRETtrellohook"},
	"email":   {"to": []any{"ops@example.com", "dev@example.com"}},
	"webhook": {"url": "https://hooks.example.com/tocsin", "secret": "SECRETwebhook", "events": []any{"issue.created"}},
}

func testSMTP() *email.SMTP {
	return &email.SMTP{Host: "127.0.0.1", Port: 2525, TLS: email.TLSNone}
}

func options() providers.Options {
	return providers.Options{SMTP: testSMTP(), MailFrom: "tocsin@example.com",
		InstallationUUID: "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"}
}

func copyMap(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestNew_Fields(t *testing.T) {
	t.Parallel()
	ps := providers.New(options())
	// INTERFACES.md: each provider's settings, secrets marked.
	for _, tc := range []struct {
		provider  string
		secret    []string
		plain     []string
		required  []string
		lists     []string
		perTarget bool
	}{
		// Slack and email render digests, and so take quiet hours and digest delays.
		{"slack", []string{"bot_token", "signing_secret", "webhook_url"}, []string{"default_channel", "digest_increment",
			"digest_max_delay", "digest_min_delay", "language", "quiet_days", "quiet_hours", "timezone"}, nil, []string{"quiet_days"}, false},
		{"github", []string{"token", "webhook_secret"}, []string{"labels", "owner", "repo"},
			[]string{"owner", "repo", "token"}, []string{"labels"}, true},
		{"trello", []string{"token", "webhook_secret"}, []string{"api_key", "board_id", "language", "list_id", "resolved_list_id", "timezone"},
			[]string{"api_key", "list_id", "token"}, nil, false},
		{"email", nil, []string{"digest_increment", "digest_max_delay", "digest_min_delay", "language", "quiet_days", "quiet_hours",
			"timezone", "to"}, []string{"to"}, []string{"quiet_days", "to"}, false},
		{"webhook", []string{"secret"}, []string{"events", "url"}, []string{"url"}, []string{"events"}, true},
		// The bridge from an existing Sentry only takes webhooks in.
		{"sentry", []string{"client_secret"}, []string{"project"}, []string{"client_secret", "project"}, nil, false},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			p := ps[tc.provider]
			if p == nil || p.Name != tc.provider || p.Validate == nil || (p.Build == nil) != (tc.provider == "sentry") {
				t.Fatalf("provider %q: %+v", tc.provider, p)
			}
			var secret, plain, required, lists []string
			for _, f := range p.Fields {
				if f.Secret {
					secret = append(secret, f.Name)
				} else {
					plain = append(plain, f.Name)
				}
				if f.Required {
					required = append(required, f.Name)
				}
				if f.List {
					lists = append(lists, f.Name)
				}
			}
			for _, l := range [][]string{secret, plain, required, lists} {
				slices.Sort(l)
			}
			if !slices.Equal(secret, tc.secret) || !slices.Equal(plain, tc.plain) || !slices.Equal(required, tc.required) ||
				!slices.Equal(lists, tc.lists) {
				t.Errorf("fields: secret %v plain %v required %v lists %v; want %v %v %v %v",
					secret, plain, required, lists, tc.secret, tc.plain, tc.required, tc.lists)
			}
			if p.PerTarget != tc.perTarget {
				t.Errorf("PerTarget %t, want %t", p.PerTarget, tc.perTarget)
			}
		})
	}
	if len(ps) != 6 {
		t.Errorf("%d providers, want slack, github, trello, email, webhook and sentry", len(ps))
	}
}

func TestProvider_Split(t *testing.T) {
	t.Parallel()
	ps := providers.New(options())
	for _, tc := range []struct {
		name        string
		provider    string
		in          map[string]any
		wantConfig  map[string]any
		wantSecrets map[string]any
		wantErr     string // a part of the error; "" for none
	}{
		{name: "slack secrets separated", provider: "slack", in: samples["slack"],
			wantConfig:  map[string]any{"default_channel": "#ops"},
			wantSecrets: map[string]any{"bot_token": "xoxb-1111-2222-SECRETbottoken", "signing_secret": "8f742231b10e8888abcd99yyyzzz85a5"}},
		{name: "github secrets separated", provider: "github", in: samples["github"],
			wantConfig:  map[string]any{"owner": "acme", "repo": "shop", "labels": []any{"bug", "tocsin"}},
			wantSecrets: map[string]any{"token": "ghp_SECRETgithubtoken", "webhook_secret": "SECRETgithubhook"}},
		{name: "trello secrets separated", provider: "trello", in: samples["trello"],
			wantConfig: map[string]any{"api_key": "0123456789abcdef0123456789abcdef", "board_id": "aBcD1234",
				"list_id": "5f1a2b3c4d5e6f7a8b9c0d1e", "resolved_list_id": "5f1a2b3c4d5e6f7a8b9c0d1f"},
			wantSecrets: map[string]any{"token": "SECRETtrellotoken", "webhook_secret": "SECRETtrellohook"}},
		{name: "email has no secret", provider: "email", in: samples["email"],
			wantConfig: samples["email"], wantSecrets: map[string]any{}},
		{name: "webhook secret separated", provider: "webhook", in: samples["webhook"],
			wantConfig:  map[string]any{"url": "https://hooks.example.com/tocsin", "events": []any{"issue.created"}},
			wantSecrets: map[string]any{"secret": "SECRETwebhook"}},
		{name: "null is left out", provider: "webhook", in: map[string]any{"url": "https://h.example.com/", "secret": nil},
			wantConfig: map[string]any{"url": "https://h.example.com/"}, wantSecrets: map[string]any{}},
		{name: "empty", provider: "slack", in: nil, wantConfig: map[string]any{}, wantSecrets: map[string]any{}},
		{name: "unknown field", provider: "slack", in: map[string]any{"bot_token": "xoxb-1", "channel": "#ops"},
			wantErr: "config.channel: unknown setting for slack"},
		{name: "a secret of another provider", provider: "webhook", in: map[string]any{"url": "https://h.example.com/", "token": "x"},
			wantErr: "config.token: unknown setting"},
		{name: "number for a string", provider: "github", in: map[string]any{"token": "t", "owner": 42, "repo": "shop"},
			wantErr: "config.owner: expected a string"},
		{name: "object for a secret", provider: "slack", in: map[string]any{"bot_token": map[string]any{"v": "x"}},
			wantErr: "config.bot_token: expected a string"},
		{name: "string for a list", provider: "email", in: map[string]any{"to": "ops@example.com"},
			wantErr: "config.to: expected a list of strings"},
		{name: "number in a list", provider: "github", in: map[string]any{"labels": []any{"bug", 7.0}},
			wantErr: "config.labels: expected a list of strings"},
		{name: "list for a string", provider: "webhook", in: map[string]any{"url": []any{"https://h.example.com/"}},
			wantErr: "config.url: expected a string"},
		{name: "too long", provider: "slack", in: map[string]any{"default_channel": strings.Repeat("c", 4097)},
			wantErr: "config.default_channel: too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			config, secrets, err := ps[tc.provider].Split(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Split: %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			if !reflect.DeepEqual(config, tc.wantConfig) || !reflect.DeepEqual(secrets, tc.wantSecrets) {
				t.Errorf("Split: config %v secrets %v, want %v %v", config, secrets, tc.wantConfig, tc.wantSecrets)
			}
		})
	}
}

// with returns a sample's settings changed: nil values remove a field.
func with(provider string, changes map[string]any) map[string]any {
	out := copyMap(samples[provider])
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestProvider_Validate(t *testing.T) {
	t.Parallel()
	noSMTP := options()
	noSMTP.SMTP = nil
	for _, tc := range []struct {
		name     string
		provider string
		o        *providers.Options // nil: options()
		in       map[string]any
		wantErr  string // a part of the error; "" for none
	}{
		{name: "slack bot", provider: "slack", in: samples["slack"]},
		{name: "slack incoming webhook", provider: "slack",
			in: map[string]any{"webhook_url": "https://hooks.slack.com/services/T0/B0/SECRET"}},
		{name: "slack without credentials", provider: "slack", in: map[string]any{"default_channel": "#ops"},
			wantErr: "bot_token or webhook_url"},
		{name: "slack with both", provider: "slack", in: with("slack", map[string]any{"webhook_url": "https://hooks.slack.com/services/T0/B0/X"}),
			wantErr: "not both"},
		{name: "slack webhook_url not a URL", provider: "slack", in: map[string]any{"webhook_url": "ftp://hooks.slack.com/x"},
			wantErr: "webhook_url"},
		{name: "github", provider: "github", in: samples["github"]},
		{name: "github without token", provider: "github", in: with("github", map[string]any{"token": nil}),
			wantErr: "token is required"},
		{name: "github bad owner", provider: "github", in: with("github", map[string]any{"owner": "ac me"}),
			wantErr: "owner"},
		{name: "github blank label", provider: "github", in: with("github", map[string]any{"labels": []any{" "}}),
			wantErr: "label"},
		{name: "trello", provider: "trello", in: samples["trello"]},
		{name: "trello without list", provider: "trello", in: with("trello", map[string]any{"list_id": nil}),
			wantErr: "list_id is required"},
		{name: "trello bad list id", provider: "trello", in: with("trello", map[string]any{"list_id": "inbox"}),
			wantErr: "list_id"},
		{name: "trello without token", provider: "trello", in: with("trello", map[string]any{"token": nil}),
			wantErr: "token is required"},
		{name: "email", provider: "email", in: samples["email"]},
		{name: "email needs SMTP", provider: "email", o: &noSMTP, in: samples["email"], wantErr: "TOCSIN_SMTP_URL"},
		{name: "email with nobody", provider: "email", in: map[string]any{"to": []any{}}, wantErr: "to:"},
		{name: "email without to", provider: "email", in: map[string]any{}, wantErr: "to:"},
		{name: "webhook", provider: "webhook", in: samples["webhook"]},
		{name: "webhook without url", provider: "webhook", in: with("webhook", map[string]any{"url": nil}),
			wantErr: "url is required"},
		{name: "webhook url scheme", provider: "webhook", in: with("webhook", map[string]any{"url": "file:///etc/passwd"}),
			wantErr: "url scheme"},
		{name: "sentry bridge", provider: "sentry", in: map[string]any{"client_secret": "0123456789abcdefSECRET", "project": "mirror"}},
		{name: "sentry bridge without project", provider: "sentry", in: map[string]any{"client_secret": "0123456789abcdefSECRET"},
			wantErr: "project"},
		{name: "sentry bridge short secret", provider: "sentry", in: map[string]any{"client_secret": "short", "project": "mirror"},
			wantErr: "client_secret"},
		{name: "webhook unknown event", provider: "webhook", in: with("webhook", map[string]any{"events": []any{"issue.exploded"}}),
			wantErr: "issue.exploded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := options()
			if tc.o != nil {
				o = *tc.o
			}
			p := providers.New(o)[tc.provider]
			config, secrets, err := p.Split(tc.in)
			if err != nil {
				t.Fatalf("Split: %v", err)
			}
			err = p.Validate(config, secrets)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate: %v, want an error with %q", err, tc.wantErr)
			}
			for _, v := range secrets {
				if s, ok := v.(string); ok && s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("the error %q shows the secret %q", err, s)
				}
			}
			// What does not validate does not build either.
			if p.Build == nil {
				return
			}
			if _, err := p.Build(config, secrets); err == nil {
				t.Errorf("Build accepted settings that Validate refused")
			}
		})
	}
}

// refusing is a service that refuses every credential, for Check.
func refusing(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/auth.test") {
			// Slack answers 200 with ok false.
			_, _ = io.WriteString(w, `{"ok": false, "error": "invalid_auth"}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"message": "Bad credentials"}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestProvider_Build(t *testing.T) {
	t.Parallel()
	srv := refusing(t)
	o := options()
	o.SlackAPIURL, o.GitHubAPIURL, o.TrelloAPIURL = srv.URL+"/api/", srv.URL+"/", srv.URL+"/1"
	ps := providers.New(o)
	for name, settings := range samples {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := ps[name]
			config, secrets, err := p.Split(settings)
			if err != nil {
				t.Fatal(err)
			}
			n, err := p.Build(config, secrets)
			if err != nil || n == nil {
				t.Fatalf("Build: %v (%v)", n, err)
			}
			if p.Check == nil {
				return
			}
			// Check takes what Build made and asks the service.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = p.Check(ctx, n)
			if err == nil {
				t.Fatal("Check passed against a service that refuses the credentials")
			}
			for _, v := range secrets {
				if s, _ := v.(string); s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("Check's error %q shows a secret", err)
				}
			}
		})
	}
	t.Run("email needs SMTP", func(t *testing.T) {
		t.Parallel()
		o := options()
		o.SMTP = nil
		p := providers.New(o)["email"]
		if _, err := p.Build(map[string]any{"to": []any{"ops@example.com"}}, nil); err == nil ||
			!strings.Contains(err.Error(), "TOCSIN_SMTP_URL") {
			t.Errorf("Build without SMTP: %v, want an error naming TOCSIN_SMTP_URL", err)
		}
		if _, err := providers.Email(o); err == nil {
			t.Error("Email without SMTP built a notifier")
		}
	})
}

// receiver records the requests it gets and answers 200.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{path: r.URL.Path, header: r.Header.Clone(), body: b})
		rc.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

func sampleNotification() *integrations.Notification {
	return &integrations.Notification{Kind: integrations.KindAlert, IdempotencyKey: "fire:1:int:2:",
		At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Issue: integrations.Issue{ID: 42, ShortID: "SHOP-1A", Title: "ValueError: card declined", Level: "error",
			Status: "unresolved", Count: 3, UserCount: 1, Organization: "acme",
			FirstSeen: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), LastSeen: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
			Project: integrations.Project{ID: 1, Slug: "shop", Name: "Shop"},
			URL:     "https://tocsin.example.com/organizations/acme/issues/42/"}}
}

// User-typed URLs (a webhook's, a Slack incoming webhook's) go through the
// guard against private addresses unless the deployment allows them.
func TestProvider_PrivateAddresses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider string
		settings func(url string) map[string]any
	}{
		{"webhook", func(u string) map[string]any { return map[string]any{"url": u + "/hook", "secret": "SECRETwebhook"} }},
		{"slack", func(u string) map[string]any { return map[string]any{"webhook_url": u + "/services/T0/B0/SECRET"} }},
	} {
		for _, allow := range []bool{false, true} {
			t.Run(tc.provider+"/allow="+strconv.FormatBool(allow), func(t *testing.T) {
				t.Parallel()
				rc := newReceiver(t)
				o := options()
				o.AllowPrivateWebhooks = allow
				p := providers.New(o)[tc.provider]
				config, secrets, err := p.Split(tc.settings(rc.URL))
				if err != nil {
					t.Fatal(err)
				}
				n, err := p.Build(config, secrets)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err = n.Notify(ctx, sampleNotification())
				if allow {
					if err != nil || len(rc.got()) != 1 {
						t.Fatalf("allowed: %v, %d requests; want delivered", err, len(rc.got()))
					}
					return
				}
				if err == nil || len(rc.got()) != 0 {
					t.Fatalf("to %s: %v, %d requests; want refused before connecting", rc.URL, err, len(rc.got()))
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("the refusal %q shows the URL's secret", err)
				}
				// Retrying cannot help: the integration's settings must change.
				var pe *integrations.PermanentError
				if !errors.Is(err, httpclient.ErrPrivateAddress) || !errors.As(err, &pe) || pe.Reason != integrations.ReasonConfig {
					t.Errorf("the refusal %v is not the guard's, as a permanent config failure", err)
				}
			})
		}
	}
}

func TestProvider_WebhookSigns(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	o := options()
	o.AllowPrivateWebhooks = true
	p := providers.New(o)["webhook"]
	config, secrets, err := p.Split(map[string]any{"url": rc.URL + "/hook", "secret": "SECRETwebhook"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Build(config, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), sampleNotification()); err != nil {
		t.Fatal(err)
	}
	got := rc.got()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	mac := hmac.New(sha256.New, []byte("SECRETwebhook"))
	mac.Write(got[0].body)
	if sig := got[0].header.Get("Sentry-Hook-Signature"); sig != hex.EncodeToString(mac.Sum(nil)) {
		t.Errorf("Sentry-Hook-Signature %q does not sign the body with the secret", sig)
	}
	var body struct {
		Installation struct {
			UUID string `json:"uuid"`
		} `json:"installation"`
	}
	if err := json.Unmarshal(got[0].body, &body); err != nil || body.Installation.UUID != o.InstallationUUID {
		t.Errorf("installation %q (%v), want the deployment's %s", body.Installation.UUID, err, o.InstallationUUID)
	}
}

// smtpRecorder is an in-process SMTP server that accepts every message
// and records its recipients.
type smtpRecorder struct {
	host string
	port int
	mu   sync.Mutex
	rcpt [][]string
}

func newSMTPRecorder(t *testing.T) *smtpRecorder {
	t.Helper()
	rec := &smtpRecorder{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{rec: rec}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(l.Addr().String())
	rec.host = host
	rec.port, _ = strconv.Atoi(port)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return rec
}

func (rec *smtpRecorder) recipients() [][]string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([][]string(nil), rec.rcpt...)
}

type smtpSession struct {
	rec *smtpRecorder
	to  []string
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	if _, err := io.ReadAll(r); err != nil {
		return err
	}
	s.rec.mu.Lock()
	s.rec.rcpt = append(s.rec.rcpt, append([]string(nil), s.to...))
	s.rec.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.to = nil }
func (s *smtpSession) Logout() error { return nil }

// An email integration sends to its own addresses unless the rule names others.
func TestProvider_EmailTargets(t *testing.T) {
	t.Parallel()
	rec := newSMTPRecorder(t)
	o := options()
	o.SMTP = &email.SMTP{Host: rec.host, Port: rec.port, TLS: email.TLSNone}
	p := providers.New(o)["email"]
	config, secrets, err := p.Split(samples["email"])
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Build(config, secrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"", "oncall@example.com"} {
		note := sampleNotification()
		note.Target = target
		if _, err := n.Notify(context.Background(), note); err != nil {
			t.Fatalf("to %q: %v", target, err)
		}
	}
	got := rec.recipients()
	want := [][]string{{"ops@example.com", "dev@example.com"}, {"oncall@example.com"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recipients %v, want %v", got, want)
	}
}

// Quiet hours and digest delays are checked when an integration is saved.
func TestNew_DeliverySettingsValidated(t *testing.T) {
	t.Parallel()
	ps := providers.New(providers.Options{})
	secrets := map[string]any{"bot_token": "xoxb-1-SECRET"}
	if err := ps["slack"].Validate(map[string]any{"quiet_hours": "22:00-07:00", "timezone": "Europe/Paris",
		"quiet_days": []any{"sat", "sun"}, "digest_min_delay": "2m"}, secrets); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
	for _, bad := range []map[string]any{{"quiet_hours": "late"}, {"timezone": "Nowhere/Else", "quiet_hours": "22:00-07:00"},
		{"digest_max_delay": "3 days"}, {"language": "fr"}} {
		if err := ps["slack"].Validate(bad, secrets); err == nil {
			t.Errorf("settings %v accepted", bad)
		}
	}
}
