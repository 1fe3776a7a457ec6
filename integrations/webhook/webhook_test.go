package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/httpclient"
	"github.com/tocsin/tocsin/integrations/notifiertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	testSecret       = "whsec-7f3a9c"
	testInstallation = "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"
)

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// received is one request the fake receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a fake webhook consumer: it records requests and answers
// with the Answer it was given (Hang: no answer until the client leaves).
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

func newReceiver(t *testing.T, a notifiertest.Answer) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		rc.mu.Unlock()
		if a.Hang {
			<-r.Context().Done()
			return
		}
		if a.RetryAfter != "" {
			w.Header().Set("Retry-After", a.RetryAfter)
		}
		status := a.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"detail": "answered `+strconv.Itoa(status)+`"}`)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// setup is the bundle most tests need: a receiver and a Notifier posting
// to it through the real client, with private addresses allowed
// (httptest listens on loopback).
func setup(t *testing.T, cfg Config, a notifiertest.Answer) (*Notifier, *receiver) {
	t.Helper()
	rc := newReceiver(t, a)
	if cfg.URL == "" {
		cfg.URL = rc.srv.URL + "/hooks/tocsin"
	}
	if cfg.Secret == "" {
		cfg.Secret = testSecret
	}
	w, err := New(cfg, httpclient.New(httpclient.Options{AllowPrivate: true}), testInstallation)
	if err != nil {
		t.Fatal(err)
	}
	w.NowFunc = func() time.Time { return testNow }
	return w, rc
}

func notification(kind string) *integrations.Notification {
	return &integrations.Notification{
		Kind:           kind,
		IdempotencyKey: "rule-7.issue-42.webhook-3.1710428966",
		Issue: integrations.Issue{
			ID:           42,
			ShortID:      "BACKEND-1A",
			Title:        `ValueError: bad "input" <script>alert(1)</script>`,
			Culprit:      "app.views in checkout",
			Level:        "error",
			Status:       "unresolved",
			Substatus:    "new",
			Platform:     "python",
			Count:        12,
			UserCount:    3,
			FirstSeen:    time.Date(2026, 3, 14, 14, 0, 0, 391000000, time.UTC),
			LastSeen:     time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC),
			FirstRelease: "backend@1.4.0",
			LastRelease:  "backend@1.4.2",
			Project:      integrations.Project{ID: 7, Slug: "backend", Name: "Backend"},
			Organization: "acme",
			URL:          "https://tocsin.example.com/organizations/acme/issues/42/",
		},
		Event: &integrations.Event{
			ID:          "e4874d664c3540c1a32eab185f12c5ab",
			Message:     "bad \"input\"\n\t<script>alert(1)</script> & \u2028 done",
			Environment: "production",
			Release:     "backend@1.4.2",
			Timestamp:   time.Date(2026, 3, 14, 15, 9, 0, 677000000, time.UTC),
			Tags:        [][2]string{{"browser", "Chrome 124"}, {"level", "error"}},
			Stacktrace:  []string{"app.views in checkout at line 12"},
			URL:         "https://tocsin.example.com/organizations/acme/issues/42/events/e4874d664c3540c1a32eab185f12c5ab/",
		},
		At: testNow,
	}
}

func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("body differs from %s (go test -update rewrites it):\n%s", path, pretty.Bytes())
	}
}

func TestNotifier_Notify(t *testing.T) {
	t.Parallel()
	withRule := func(n *integrations.Notification) {
		n.Rule = &integrations.Rule{ID: 7, Name: "Page on new <b>errors</b>", URL: "https://tocsin.example.com/alerts/7/"}
	}
	for _, tc := range []struct {
		golden, kind, resource, action string
		change                         func(*integrations.Notification)
	}{
		{"issue_created", integrations.KindAlert, "issue", "created", nil},
		{"event_alert_triggered", integrations.KindAlert, "event_alert", "triggered", withRule},
		{"issue_resolved", integrations.KindResolved, "issue", "resolved", func(n *integrations.Notification) {
			n.Event, n.Actor = nil, "jane@example.com"
			n.Issue.Status, n.Issue.Substatus = "resolved", ""
		}},
		{"issue_assigned", integrations.KindAssigned, "issue", "assigned", func(n *integrations.Notification) {
			n.Event, n.Actor, n.Issue.Assignee = nil, "jane@example.com", "team:payments"
		}},
		{"issue_regression", integrations.KindRegression, "issue", "unresolved", func(n *integrations.Notification) {
			n.Issue.Substatus = "regressed"
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			t.Parallel()
			w, rc := setup(t, Config{}, notifiertest.Answer{})
			n := notification(tc.kind)
			if tc.change != nil {
				tc.change(n)
			}
			res, err := w.Notify(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusOK {
				t.Errorf("result status %d, want 200", res.Status)
			}
			got := rc.requests()
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1", len(got))
			}
			h, body := got[0].header, got[0].body

			mac := hmac.New(sha256.New, []byte(testSecret))
			mac.Write(body)
			wantSig := hex.EncodeToString(mac.Sum(nil))
			for name, want := range map[string]string{
				"Content-Type":          "application/json",
				"Request-ID":            n.IdempotencyKey,
				"Sentry-Hook-Resource":  tc.resource,
				"Sentry-Hook-Timestamp": strconv.FormatInt(testNow.Unix(), 10),
				"Sentry-Hook-Signature": wantSig,
				"User-Agent":            UserAgent,
			} {
				if h.Get(name) != want {
					t.Errorf("%s: %q, want %q", name, h.Get(name), want)
				}
			}
			if Sign(body, testSecret) != wantSig {
				t.Errorf("Sign disagrees with HMAC-SHA256")
			}

			var p struct {
				Action       string
				Installation struct{ UUID string }
				Actor        struct{ Type, ID, Name string }
				Data         map[string]json.RawMessage
			}
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Action != tc.action || p.Installation.UUID != testInstallation {
				t.Errorf("action %q installation %q", p.Action, p.Installation.UUID)
			}
			wantActor := "application"
			if n.Actor != "" {
				wantActor = "user"
			}
			if p.Actor.Type != wantActor {
				t.Errorf("actor type %q, want %q", p.Actor.Type, wantActor)
			}
			if bytes.Contains(body, []byte("<script>")) {
				t.Errorf("body carries a raw <script>: %s", body)
			}
			checkGolden(t, tc.golden, body)
		})
	}
}

func TestNotifier_Notify_events(t *testing.T) {
	t.Parallel()
	w, rc := setup(t, Config{Events: []string{EventIssueResolved}}, notifiertest.Answer{})

	for _, kind := range []string{integrations.KindAlert, integrations.KindRegression, integrations.KindAssigned} {
		res, err := w.Notify(context.Background(), notification(kind))
		if err != nil || res == nil || res.Status != 0 {
			t.Errorf("%s: want a skip (status 0, no error), got %+v, %v", kind, res, err)
		}
	}
	if n := len(rc.requests()); n != 0 {
		t.Fatalf("%d requests for unsubscribed events, want 0", n)
	}

	res, err := w.Notify(context.Background(), notification(integrations.KindResolved))
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("resolved: %+v, %v", res, err)
	}
	res, err = w.Notify(context.Background(), notification(integrations.KindTest))
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("test: %+v, %v", res, err)
	}
	got := rc.requests()
	if len(got) != 2 || got[0].header.Get("Sentry-Hook-Resource") != "issue" {
		t.Fatalf("want the resolution and the test delivered, got %d requests", len(got))
	}
}

func TestNotifier_Notify_classification(t *testing.T) {
	t.Parallel()
	notifiertest.Run(t, func(t *testing.T, a notifiertest.Answer) (integrations.Notifier, *integrations.Notification, []string) {
		rc := newReceiver(t, a)
		url := strings.Replace(rc.srv.URL, "http://", "http://hookuser:hookpass@", 1) + "/hooks/t0ken?key=qs3cret"
		w, err := New(Config{URL: url, Secret: testSecret}, httpclient.New(httpclient.Options{AllowPrivate: true}), testInstallation)
		if err != nil {
			t.Fatal(err)
		}
		return w, notification(integrations.KindAlert), []string{testSecret, "hookpass", "t0ken", "qs3cret"}
	})
}

func TestNotifier_Notify_privateRefused(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, notifiertest.Answer{})
	url := strings.Replace(rc.srv.URL, "http://", "http://hookuser:hookpass@", 1) + "/hooks/t0ken"
	w, err := New(Config{URL: url, Secret: testSecret}, httpclient.New(httpclient.Options{}), testInstallation)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Notify(context.Background(), notification(integrations.KindAlert))
	notifiertest.Check(t, notifiertest.Case{Want: "permanent", Reason: integrations.ReasonConfig}, err, []string{testSecret, "hookpass", "t0ken"})
	if !strings.Contains(err.Error(), "refused to connect to private address 127.0.0.1") {
		t.Errorf("error %q does not name the refused address", err)
	}
	if n := len(rc.requests()); n != 0 {
		t.Errorf("the private receiver got %d requests", n)
	}

	// The default client (nil) guards too.
	w, err = New(Config{URL: url, Secret: testSecret}, nil, testInstallation)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Notify(context.Background(), notification(integrations.KindAlert))
	if !integrations.IsPermanent(err) {
		t.Errorf("nil client: want a permanent refusal, got %v", err)
	}
}

func TestNotifier_Notify_attemptTimeout(t *testing.T) {
	t.Parallel()
	w, _ := setup(t, Config{}, notifiertest.Answer{Hang: true})
	w.Timeout = 50 * time.Millisecond
	_, err := w.Notify(context.Background(), notification(integrations.KindAlert))
	notifiertest.Check(t, notifiertest.Case{Want: "retry", Reason: integrations.ReasonNetwork}, err, nil)
	if !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("error %q does not report the attempt's deadline", err)
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	rule := &integrations.Rule{Name: "r"}
	for _, tc := range []struct {
		kind             string
		rule             *integrations.Rule
		resource, action string
	}{
		{integrations.KindAlert, rule, "event_alert", "triggered"},
		{integrations.KindAlert, nil, "issue", "created"},
		{integrations.KindRegression, rule, "issue", "unresolved"},
		{integrations.KindResolved, nil, "issue", "resolved"},
		{integrations.KindAssigned, nil, "issue", "assigned"},
		{integrations.KindIgnored, nil, "issue", "ignored"},
		{integrations.KindUnresolved, nil, "issue", "unresolved"},
		{integrations.KindTest, nil, "issue", "created"},
	} {
		resource, action, err := Route(&integrations.Notification{Kind: tc.kind, Rule: tc.rule})
		if err != nil || resource != tc.resource || action != tc.action {
			t.Errorf("Route(%s, rule %v) = %s, %s, %v; want %s, %s", tc.kind, tc.rule != nil, resource, action, err, tc.resource, tc.action)
		}
	}
	if _, _, err := Route(&integrations.Notification{Kind: "digest"}); err == nil {
		t.Error("an unknown kind must be refused")
	}
}

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"https", Config{URL: "https://hooks.example.com/x", Secret: "s"}, true},
		{"http with events", Config{URL: "http://hooks.example.com:8080/x", Events: []string{"issue.created", "event_alert.triggered"}}, true},
		{"empty", Config{}, false},
		{"relative", Config{URL: "/hooks"}, false},
		{"ftp", Config{URL: "ftp://hooks.example.com/"}, false},
		{"javascript", Config{URL: "javascript:alert(1)"}, false},
		{"no host", Config{URL: "https:///path"}, false},
		{"unknown event", Config{URL: "https://hooks.example.com/", Events: []string{"issue.deleted"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestConfig_String(t *testing.T) {
	t.Parallel()
	c := Config{URL: "https://u:p4ss@hooks.example.com/t0ken?k=v", Secret: "whsec-123", Events: []string{"issue.created"}}
	for _, s := range []string{c.String(), fmtV(c), fmtSharpV(c)} {
		for _, secret := range []string{"p4ss", "t0ken", "whsec-123"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q reveals %q", s, secret)
			}
		}
	}
	if want := "webhook{url=https://hooks.example.com/… secret=(redacted) events=issue.created}"; c.String() != want {
		t.Errorf("String() = %q, want %q", c.String(), want)
	}
}

func fmtV(c Config) string      { return fmt.Sprintf("%v %+v %s", c, c, c) }
func fmtSharpV(c Config) string { return fmt.Sprintf("%#v", c) }
