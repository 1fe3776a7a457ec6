package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations/github/githubtest"
	"github.com/tocsin/tocsin/integrations/slack/slacktest"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// Fault tests of the delivery path with the real binary: a fake Slack Web
// API (the real slack-go client in the binary talks to it through
// TOCSIN_SLACK_API_URL) and a webhook receiver on loopback.

const faultSlackToken = "xoxb-7777-SECRETfaultbottoken"

// hub is a first run of `tocsin run` with a Slack integration.
type hub struct {
	proc    *process
	dir     string
	environ []string
	target  ingestTarget
	token   string
	slack   *slacktest.Server
	slackID string
}

func startHub(t *testing.T, e store.Engine, extra ...string) *hub {
	t.Helper()
	h := &hub{dir: t.TempDir(), slack: slacktest.NewServer(t, faultSlackToken, "")}
	// A fixed public address: the process listens on another port after a
	// restart, and links in what it sent (which a retry recognises its
	// GitHub issue by) must stay the same, as behind a real proxy.
	h.environ = append(engineEnv(t, e), append([]string{"TOCSIN_BASE_URL=https://tocsin.example.com",
		"TOCSIN_ADMIN_EMAIL=ops@example.com",
		"TOCSIN_ADMIN_PASSWORD=correct-horse-battery", "TOCSIN_SLACK_API_URL=" + h.slack.APIURL()}, extra...)...)
	h.proc, h.target = firstRun(t, h.dir, h.environ)
	h.token = token(t, h.dir, h.environ)
	h.slackID = h.integration(t, map[string]any{"provider": "slack", "name": "Slack",
		"config": map[string]any{"bot_token": faultSlackToken, "default_channel": "#ops"}})
	return h
}

// integration creates one through the API and returns its id.
func (h *hub) integration(t *testing.T, body map[string]any) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if code := api(t, http.MethodPost, h.proc.base+"/api/0/organizations/default/integrations/", h.token, body, &out); code != http.StatusCreated {
		t.Fatalf("create integration %v: %d", body["provider"], code)
	}
	return out.ID
}

// newIssueRule alerts the actions on every new issue.
func (h *hub) newIssueRule(t *testing.T, actions ...map[string]any) {
	t.Helper()
	as := make([]any, len(actions))
	for i, a := range actions {
		as[i] = a
	}
	if code := api(t, http.MethodPost, h.proc.base+"/api/0/projects/default/default/rules/", h.token, map[string]any{
		"name": "New issues", "actionMatch": "all", "filterMatch": "all", "frequency": 30,
		"conditions": []any{map[string]any{"id": rules.FirstSeen}}, "actions": as,
	}, nil); code != http.StatusCreated {
		t.Fatalf("create the rule: %d", code)
	}
}

func (h *hub) sendEvent(t *testing.T) {
	t.Helper()
	code, _, err := postEvent(http.DefaultClient, h.proc.base, h.target, randomEventID(t))
	if err != nil || code != http.StatusOK {
		t.Fatalf("send an event: %d %v", code, err)
	}
}

type loggedDelivery struct {
	ID          string  `json:"id"`
	Integration *string `json:"integration"`
	Status      string  `json:"status"`
	Attempts    int     `json:"attempts"`
	Handle      string  `json:"handle"`
	LastStatus  int     `json:"lastStatus"`
	LastError   *string `json:"lastError"`
}

// deliveries reads the delivery log of the integration.
func (h *hub) deliveries(t *testing.T, integration string) []loggedDelivery {
	t.Helper()
	var out []loggedDelivery
	if code := api(t, http.MethodGet, h.proc.base+"/api/0/organizations/default/deliveries/?integration="+integration,
		h.token, nil, &out); code != http.StatusOK {
		t.Fatalf("read the delivery log: %d", code)
	}
	return out
}

// eventually polls cond until it holds or limit passes; show, when not
// nil, says what was seen last.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool, show ...func() any) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			var last []any
			for _, f := range show {
				last = append(last, f())
			}
			t.Fatalf("timed out after %s waiting for %s; last seen: %+v", limit, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRun_WorkerKilledMidDeliveryPostsOnce: Slack takes the alert and
// GitHub files the issue, the process is killed before either answer
// arrives, and the store never learns that they went through. After a
// restart the deliveries are claimed again once their lease runs out, find
// what the first attempt left (Slack's message by its metadata mark, the
// GitHub issue by its body's marker) and are recorded delivered: one
// Slack message, one GitHub issue.
func TestRun_WorkerKilledMidDeliveryPostsOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for a delivery lease (2 minutes) to run out")
	}
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			gh := githubtest.NewServer(t)
			h := startHub(t, e, "TOCSIN_GITHUB_API_URL="+gh.APIURL())
			ghID := h.integration(t, map[string]any{"provider": "github", "name": "GitHub",
				"config": map[string]any{"token": githubtest.Token, "owner": "octo", "repo": "app"}})
			h.newIssueRule(t, map[string]any{"id": rules.SlackNotify, "workspace": h.slackID, "channel": "#ops"},
				map[string]any{"id": rules.GitHubTicket, "integration": ghID})
			h.slack.Set("chat.postMessage", slacktest.Answer{Hang: true, Times: 1})
			gh.Fail(githubtest.RouteCreateIssue, githubtest.Answer{Hang: true, Commit: true})
			h.sendEvent(t)
			eventually(t, time.Minute, "the alert to reach Slack and GitHub", func() bool {
				return h.slack.Calls("chat.postMessage") >= 1 && gh.IssueCount("octo/app") >= 1
			})
			h.proc.kill(t)
			gh.ClearFails()

			h.proc = start(t, h.dir, h.environ)
			// The lease is two minutes; the worker looks every second.
			var ds, gds []loggedDelivery
			eventually(t, 4*time.Minute, "the deliveries to be recorded delivered after the restart", func() bool {
				ds, gds = h.deliveries(t, h.slackID), h.deliveries(t, ghID)
				return len(ds) == 1 && ds[0].Status == store.DeliveryDelivered &&
					len(gds) == 1 && gds[0].Status == store.DeliveryDelivered
			}, func() any { return []any{ds, gds} })
			if n, creates := gh.IssueCount("octo/app"), gh.Count(githubtest.RouteCreateIssue); n != 1 || creates != 1 {
				t.Errorf("GitHub has %d issues after %d creations, want the one", n, creates)
			}
			msgs := h.slack.Messages(slacktest.ChannelID("#ops"))
			if len(msgs) != 1 {
				t.Fatalf("Slack holds %d messages in #ops, want the one alert", len(msgs))
			}
			if n := h.slack.Calls("chat.postMessage"); n != 1 {
				t.Errorf("chat.postMessage called %d times, want once", n)
			}
			if n := h.slack.Calls("conversations.history"); n == 0 {
				t.Error("the retry did not look for the earlier post")
			}
			if want := slacktest.ChannelID("#ops") + ":" + msgs[0].TS; ds[0].Handle != "" && ds[0].Handle != want {
				t.Errorf("the delivery's handle is %q, want the message's %q", ds[0].Handle, want)
			}
		})
	}
}

// hookReceiver is a webhook endpoint that checks Tocsin's signature.
type hookReceiver struct {
	*httptest.Server
	secret string
	mu     sync.Mutex
	got    []bool // signature valid, per request
}

func newHookReceiver(t *testing.T, secret string) *hookReceiver {
	t.Helper()
	r := &hookReceiver{secret: secret}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		ok := hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(req.Header.Get("Sentry-Hook-Signature")))
		r.mu.Lock()
		r.got = append(r.got, ok)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *hookReceiver) requests() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.got...)
}

// TestRun_SlackRateLimitHoldsOnlySlack: Slack answers the first alert 429
// with Retry-After: 5. The webhook of the same rule goes out meanwhile;
// Slack's delivery waits out the five seconds, spends no attempt on the
// 429, and is then delivered once.
func TestRun_SlackRateLimitHoldsOnlySlack(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			h := startHub(t, e, "TOCSIN_ALLOW_PRIVATE_WEBHOOKS=true")
			hooks := newHookReceiver(t, "whsec-fault-SECRET")
			hookID := h.integration(t, map[string]any{"provider": "webhook", "name": "Hook",
				"config": map[string]any{"url": hooks.URL + "/alerts", "secret": "whsec-fault-SECRET"}})
			h.newIssueRule(t, map[string]any{"id": rules.SlackNotify, "workspace": h.slackID, "channel": "#ops"},
				map[string]any{"id": rules.NotifyIntegration, "integration": hookID})
			h.slack.Set("chat.postMessage", slacktest.Answer{Status: http.StatusTooManyRequests, RetryAfter: "5", Times: 1})
			h.sendEvent(t)

			eventually(t, time.Minute, "Slack's 429", func() bool { return h.slack.Calls("chat.postMessage") >= 1 })
			limited := time.Now()
			eventually(t, time.Minute, "the webhook", func() bool { return len(hooks.requests()) >= 1 })
			hooked := time.Now()
			var ds []loggedDelivery
			eventually(t, time.Minute, "Slack's delivery", func() bool {
				ds = h.deliveries(t, h.slackID)
				return len(ds) == 1 && ds[0].Status == store.DeliveryDelivered
			})
			delivered := time.Now()
			if !hooked.Before(delivered) {
				t.Error("the webhook was not delivered before Slack's held alert: it waited for Slack")
			}
			if held := delivered.Sub(limited); held < 4500*time.Millisecond {
				t.Errorf("Slack's alert was delivered %s after the 429, before its Retry-After of 5 s", held)
			}
			if ds[0].Attempts != 1 {
				t.Errorf("Slack's delivery took %d attempts, want 1: a 429 spends none", ds[0].Attempts)
			}
			if msgs := h.slack.Messages(slacktest.ChannelID("#ops")); len(msgs) != 1 {
				t.Errorf("Slack holds %d messages, want the one alert", len(msgs))
			}
			if n := h.slack.Calls("chat.postMessage"); n != 2 {
				t.Errorf("chat.postMessage called %d times, want the 429 and one post", n)
			}
			reqs := hooks.requests()
			if len(reqs) == 0 || !reqs[0] {
				t.Errorf("webhook requests %v, want the alert with a valid signature", reqs)
			}
		})
	}
}

// TestRun_PrivateWebhookRefused: without TOCSIN_ALLOW_PRIVATE_WEBHOOKS a
// webhook to a loopback address is never requested.
func TestRun_PrivateWebhookRefused(t *testing.T) {
	t.Parallel()
	h := startHub(t, store.SQLite)
	hooks := newHookReceiver(t, "whsec-fault-SECRET")
	var out struct {
		ID string `json:"id"`
	}
	code := api(t, http.MethodPost, h.proc.base+"/api/0/organizations/default/integrations/", h.token, map[string]any{
		"provider": "webhook", "name": "Loopback", "config": map[string]any{"url": hooks.URL + "/alerts", "secret": "whsec-fault-SECRET"},
	}, &out)
	switch code {
	case http.StatusBadRequest:
		// Refused when configured: nothing to deliver to.
	case http.StatusCreated:
		h.newIssueRule(t, map[string]any{"id": rules.NotifyIntegration, "integration": out.ID})
		h.sendEvent(t)
		// The rule's alert, and issue.created as Sentry's integration
		// platform sends it: both refused, at once, for good.
		var ds []loggedDelivery
		eventually(t, time.Minute, "the webhook deliveries to fail", func() bool {
			ds = h.deliveries(t, out.ID)
			for _, d := range ds {
				if d.Status != store.DeliveryFailed {
					return false
				}
			}
			return len(ds) == 2
		}, func() any { return ds })
		for _, d := range ds {
			if d.Attempts != 1 || d.LastError == nil || !strings.Contains(*d.LastError, "private address") {
				t.Errorf("delivery %s: %d attempts, error %v; want one attempt refused as a private address", d.ID, d.Attempts, d.LastError)
			}
		}
	default:
		t.Fatalf("create a loopback webhook: %d", code)
	}
	if n := len(hooks.requests()); n != 0 {
		t.Errorf("the loopback receiver got %d requests", n)
	}
}

// TestRun_KilledBeforeEvaluationAlertsOnce: `tocsin run` answers an event
// once it is stored, with its activity in the outbox leased to the process
// and handed to its rules engine in memory. Killed the moment after the
// answer (before the engine, which waits up to 20 ms for more activities,
// has evaluated it, or just after), the process loses no alert: after a
// restart the outbox entry is taken once its one-minute lease runs out
// (or the notification already recorded is delivered), and Slack gets
// exactly one message.
func TestRun_KilledBeforeEvaluationAlertsOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits for an outbox lease (1 minute) to run out")
	}
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			h := startHub(t, e)
			h.newIssueRule(t, map[string]any{"id": rules.SlackNotify, "workspace": h.slackID, "channel": "#ops"})
			h.sendEvent(t)
			h.proc.kill(t)

			h.proc = start(t, h.dir, h.environ)
			var ds []loggedDelivery
			eventually(t, 3*time.Minute, "the alert to be delivered after the restart", func() bool {
				ds = h.deliveries(t, h.slackID)
				return len(ds) == 1 && ds[0].Status == store.DeliveryDelivered
			}, func() any { return ds })
			if msgs := h.slack.Messages(slacktest.ChannelID("#ops")); len(msgs) != 1 {
				t.Fatalf("Slack holds %d messages in #ops, want the one alert", len(msgs))
			}
			// Which way the activity came after the restart, for the log:
			// from the outbox when the kill came before the evaluation.
			resp, err := http.Get(h.proc.base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			for line := range strings.SplitSeq(string(b), "\n") {
				if strings.HasPrefix(line, "tocsin_worker_activities_total") {
					t.Log(line)
				}
			}
		})
	}
}
