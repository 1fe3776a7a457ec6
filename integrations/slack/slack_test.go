package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/notifiertest"
	"github.com/tocsin/tocsin/integrations/slack/slacktest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// bundle is a Notifier talking to a fake Slack.
type bundle struct {
	fake     *slacktest.Server
	notifier *Notifier
}

// setup builds a bot-token notifier, or a webhook one when webhook is set.
func setup(t *testing.T, webhook bool) *bundle {
	t.Helper()
	f := newFake(t)
	cfg := Config{BotToken: testToken, SigningSecret: testSigning, DefaultChannel: "#ops"}
	if webhook {
		cfg = Config{WebhookURL: f.URL + testWebhookPath}
	}
	n, err := New(cfg, f.URL+"/api/", f.Client())
	if err != nil {
		t.Fatal(err)
	}
	n.now = func() time.Time { return testNow }
	return &bundle{fake: f, notifier: n}
}

var testNow = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// notification is a full alert of a new issue.
func notification() *integrations.Notification {
	return &integrations.Notification{
		Kind:           integrations.KindAlert,
		IdempotencyKey: "rule-7:issue-42:#ops:1",
		Issue: integrations.Issue{
			ID:           42,
			ShortID:      "BACKEND-1A",
			Title:        "ZeroDivisionError: division by zero",
			Culprit:      "app.billing in compute_invoice",
			Level:        "error",
			Status:       "unresolved",
			Count:        1284,
			UserCount:    37,
			FirstSeen:    time.Date(2025, 3, 13, 22, 4, 5, 0, time.UTC),
			LastSeen:     testNow,
			FirstRelease: "backend@1.4.0",
			Project:      integrations.Project{ID: 3, Slug: "backend", Name: "Backend"},
			Organization: "acme",
			URL:          "https://tocsin.example.com/organizations/acme/issues/42/?referrer=slack&x=<1>",
		},
		Event: &integrations.Event{
			ID:          "c0ffee00c0ffee00c0ffee00c0ffee00",
			Message:     "division by zero while computing invoice 2025-0031",
			Environment: "production",
			Release:     "backend@1.4.2",
			Tags:        [][2]string{{"browser", "Firefox 124"}, {"server_name", "web-3"}, {"customer", "Big & Co <VIP>"}},
		},
		Rule:    &integrations.Rule{ID: 7, Name: "New errors in production", URL: "https://tocsin.example.com/rules/7/"},
		Options: map[string]any{"tags": "server_name, customer, missing", "notes": "<@U024BE7LH> is on call; do not <!channel>"},
		At:      testNow,
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", name, got)
	}
}

// payload is what a request carried, in a stable order for golden files.
func payload(t *testing.T, r slacktest.Request) []byte {
	t.Helper()
	v := map[string]any{"method": r.Method}
	for k, vals := range r.Form {
		var js any
		if err := json.Unmarshal([]byte(vals[0]), &js); err == nil && (k == "attachments" || k == "blocks") {
			v[k] = js
		} else {
			v[k] = vals[0]
		}
	}
	for k, js := range r.JSON {
		v[k] = js
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep Slack's own escapes readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestNotifier_Notify_message(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		webhook bool
		modify  func(n *integrations.Notification)
		golden  string
	}{
		{name: "alert", golden: "alert.json"},
		{name: "regression without event", modify: func(n *integrations.Notification) {
			n.Kind, n.Event, n.Rule, n.Options, n.Issue.Level = integrations.KindRegression, nil, nil, nil, "fatal"
		}, golden: "regression.json"},
		{name: "webhook alert", webhook: true, golden: "webhook-alert.json"},
		{name: "webhook resolved", webhook: true, modify: func(n *integrations.Notification) {
			n.Kind, n.Event, n.Actor = integrations.KindResolved, nil, "jane@example.com"
		}, golden: "webhook-resolved.json"},
		// The integration's language: labels, buttons and footer in
		// Chinese; event data as sent.
		{name: "alert in Chinese", modify: func(n *integrations.Notification) { n.Language = "zh-CN" },
			golden: "alert.zh-CN.json"},
		{name: "webhook resolved in Chinese", webhook: true, modify: func(n *integrations.Notification) {
			n.Kind, n.Event, n.Actor, n.Language = integrations.KindResolved, nil, "jane@example.com", "zh-CN"
		}, golden: "webhook-resolved.zh-CN.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, c.webhook)
			n := notification()
			if c.modify != nil {
				c.modify(n)
			}
			res, err := b.notifier.Notify(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusOK {
				t.Errorf("status %d", res.Status)
			}
			reqs := b.fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			golden(t, c.golden, payload(t, reqs[0]))
		})
	}
}

func TestNotifier_Notify_content(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		webhook       bool
		want, notWant []string
		buttons       map[string]string // action_id: value
		modify        func(n *integrations.Notification)
	}{
		{
			name: "bot",
			want: []string{
				`*<https://tocsin.example.com/organizations/acme/issues/42/?referrer=slack&amp;x=%3C1%3E|ZeroDivisionError: division by zero>*`,
				"app.billing in compute_invoice", `"color":"#e03e2f"`, "*Project*\nBackend", "*Environment*\nproduction",
				"*Events*\n1284", "*Users*\n37", "<!date^1741903445^", "*Release*\nbackend@1.4.2",
				"*server_name*\nweb-3", "*customer*\nBig &amp; Co &lt;VIP&gt;",
				"<@U024BE7LH> is on call; do not &lt;!channel&gt;",
			},
			buttons: map[string]string{"resolve": "42", "ignore": "42", "assign_me": "42"},
			notWant: []string{"*browser*", "missing", "<!channel>"},
		},
		{
			name:    "test notification has no buttons",
			modify:  func(n *integrations.Notification) { n.Kind = integrations.KindTest },
			want:    []string{"Test notification · BACKEND-1A"},
			notWant: []string{"action_id"},
		},
		{
			name:    "webhook has no buttons",
			webhook: true,
			want:    []string{"ZeroDivisionError: division by zero", `"color":"#e03e2f"`},
			notWant: []string{"action_id", `"type":"actions"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, c.webhook)
			n := notification()
			if c.modify != nil {
				c.modify(n)
			}
			if _, err := b.notifier.Notify(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			var got string
			if r := b.fake.Requests()[0]; r.JSON != nil {
				js, _ := json.Marshal(r.JSON["attachments"])
				got = string(js)
			} else {
				got = r.Form.Get("attachments")
				if r.Form.Get("channel") != "#ops" {
					t.Errorf("channel %q, want the default #ops", r.Form.Get("channel"))
				}
			}
			var decoded any
			if err := json.Unmarshal([]byte(got), &decoded); err != nil {
				t.Fatal(err)
			}
			compact, _ := json.Marshal(decoded) // with \n and & as JSON has them
			text := string(compact)
			unquoted := strings.NewReplacer(`\n`, "\n", `\u0026`, "&", `\u003c`, "<", `\u003e`, ">").Replace(text)
			for _, w := range c.want {
				if !strings.Contains(unquoted, w) {
					t.Errorf("message lacks %q:\n%s", w, unquoted)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(unquoted, w) {
					t.Errorf("message has %q", w)
				}
			}
			var atts []struct {
				Blocks []struct {
					Type     string `json:"type"`
					Elements []struct {
						ActionID string `json:"action_id"`
						Value    string `json:"value"`
					} `json:"elements"`
				} `json:"blocks"`
			}
			if err := json.Unmarshal([]byte(got), &atts); err != nil {
				t.Fatal(err)
			}
			buttons := map[string]string{}
			for _, a := range atts {
				for _, b := range a.Blocks {
					for _, e := range b.Elements {
						if b.Type == "actions" {
							buttons[e.ActionID] = e.Value
						}
					}
				}
			}
			if len(buttons) != len(c.buttons) {
				t.Errorf("buttons %v, want %v", buttons, c.buttons)
			}
			for id, v := range c.buttons {
				if buttons[id] != v {
					t.Errorf("button %s has value %q, want %q", id, buttons[id], v)
				}
			}
		})
	}
}

func TestNotifier_Notify_threading(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		kind    string
		options map[string]any
		// want is the methods called after the first post, with the
		// fields each one must carry.
		want []slacktest.Request
	}{
		{
			name: "event replies in the thread",
			kind: integrations.KindAlert,
			want: []slacktest.Request{{Method: "chat.postMessage", Form: map[string][]string{"channel": {"C0OPS"}, "thread_ts": {"1700000000.000001"}}}},
		},
		{
			name:    "broadcast",
			kind:    integrations.KindAlert,
			options: map[string]any{"broadcast": true},
			want: []slacktest.Request{{Method: "chat.postMessage", Form: map[string][]string{
				"thread_ts": {"1700000000.000001"}, "reply_broadcast": {"true"}}}},
		},
		{
			name: "resolution updates the parent and replies",
			kind: integrations.KindResolved,
			want: []slacktest.Request{
				{Method: "chat.update", Form: map[string][]string{"channel": {"C0OPS"}, "ts": {"1700000000.000001"}}},
				{Method: "chat.postMessage", Form: map[string][]string{"thread_ts": {"1700000000.000001"}}},
			},
		},
		{
			name: "assignment updates the parent",
			kind: integrations.KindAssigned,
			want: []slacktest.Request{
				{Method: "chat.update", Form: map[string][]string{"ts": {"1700000000.000001"}}},
				{Method: "chat.postMessage", Form: map[string][]string{"thread_ts": {"1700000000.000001"}}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			first, err := b.notifier.Notify(context.Background(), notification())
			if err != nil {
				t.Fatal(err)
			}
			if first.Handle != "C0OPS:1700000000.000001" {
				t.Fatalf("handle %q, want CHANNEL_ID:ts", first.Handle)
			}
			if got := b.fake.Requests()[0].Form.Get("thread_ts"); got != "" {
				t.Errorf("first post has thread_ts %q", got)
			}
			n := notification()
			n.Kind, n.Handle, n.Options, n.Actor, n.Target = c.kind, first.Handle, c.options, "jane@example.com", "#elsewhere"
			if c.kind != integrations.KindAlert {
				n.Event = nil
			}
			if c.kind == integrations.KindAssigned {
				n.Issue.Assignee = "jane@example.com"
			}
			if c.kind == integrations.KindResolved {
				n.Issue.Status = "resolved"
			}
			res, err := b.notifier.Notify(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			if res.Handle != first.Handle {
				t.Errorf("handle %q, want the thread's %q", res.Handle, first.Handle)
			}
			got := b.fake.Requests()[1:]
			if len(got) != len(c.want) {
				t.Fatalf("%d requests after the first, want %d", len(got), len(c.want))
			}
			for i, w := range c.want {
				if got[i].Method != w.Method {
					t.Errorf("request %d: %s, want %s", i, got[i].Method, w.Method)
				}
				for k := range w.Form {
					if got[i].Form.Get(k) != w.Form.Get(k) {
						t.Errorf("request %d: %s=%q, want %q", i, k, got[i].Form.Get(k), w.Form.Get(k))
					}
				}
				if w.Form.Get("reply_broadcast") == "" && got[i].Form.Get("reply_broadcast") != "" {
					t.Errorf("request %d broadcasts", i)
				}
			}
			switch c.kind {
			case integrations.KindResolved:
				upd := got[0].Form.Get("attachments")
				for _, w := range []string{`Resolved`, `"color":"#2eb886"`, `"action_id":"assign_me"`} {
					if !strings.Contains(upd, w) {
						t.Errorf("updated parent lacks %s: %s", w, upd)
					}
				}
				if strings.Contains(upd, `"action_id":"resolve"`) {
					t.Errorf("resolved parent still offers Resolve")
				}
				if r := got[1].Form.Get("attachments"); !strings.Contains(r, "Resolved by jane@example.com") {
					t.Errorf("reply %s does not say who resolved", r)
				}
			case integrations.KindAssigned:
				if upd := got[0].Form.Get("attachments"); !strings.Contains(upd, "assigned to jane@example.com") {
					t.Errorf("updated parent does not show the assignee: %s", upd)
				}
			case integrations.KindAlert:
				if strings.Contains(got[0].Form.Get("attachments"), `"action_id"`) {
					t.Errorf("a reply has buttons; the parent keeps them")
				}
			}
		})
	}
}

func TestNotifier_Notify_parentGone(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.fake.Set("chat.update", slacktest.Answer{Error: "message_not_found"})
	n := notification()
	n.Kind, n.Handle, n.Event = integrations.KindResolved, "C0OPS:1700000000.000001", nil
	if _, err := b.notifier.Notify(context.Background(), n); err != nil {
		t.Fatalf("a deleted parent must not stop the reply: %v", err)
	}
	if reqs := b.fake.Requests(); len(reqs) != 2 || reqs[1].Method != "chat.postMessage" {
		t.Errorf("requests %+v, want update then reply", reqs)
	}
}

func TestNotifier_Notify_escaping(t *testing.T) {
	t.Parallel()
	hostile := "ValueError: <!channel> <!here> <@U123> <https://evil.example|click> @here @Channel @everyone & co"
	for _, webhook := range []bool{false, true} {
		t.Run(map[bool]string{false: "bot", true: "webhook"}[webhook], func(t *testing.T) {
			t.Parallel()
			b := setup(t, webhook)
			n := notification()
			n.Issue.Title, n.Issue.Culprit, n.Event.Message = hostile, hostile, hostile
			n.Event.Environment, n.Actor, n.Issue.Project.Name = hostile, hostile, hostile
			n.Event.Tags = append(n.Event.Tags, [2]string{"customer", hostile})
			if _, err := b.notifier.Notify(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			raw := payload(t, b.fake.Requests()[0])
			var all strings.Builder
			var walk func(v any)
			walk = func(v any) {
				switch v := v.(type) {
				case string:
					all.WriteString(v + "\n")
				case []any:
					for _, e := range v {
						walk(e)
					}
				case map[string]any:
					for _, e := range v {
						walk(e)
					}
				}
			}
			var js any
			if err := json.Unmarshal(raw, &js); err != nil {
				t.Fatal(err)
			}
			walk(js)
			text := all.String()
			for _, bad := range []string{"<!channel>", "<!here>", "<@U123>", "<https://evil", "@here", "@Channel", "@everyone"} {
				if strings.Contains(text, bad) {
					t.Errorf("%q reached Slack unescaped", bad)
				}
			}
			if !strings.Contains(text, "&lt;!channel&gt;") {
				t.Errorf("the escaped text is missing:\n%s", text)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"<@U123|bob>", "&lt;@U123|bob&gt;"},
		{"a & b", "a &amp; b"},
		{"&lt;", "&amp;lt;"},
		{"ping @here now", "ping @\u200bhere now"},
		{"@CHANNEL @everyone", "@\u200bCHANNEL @\u200beveryone"},
		{"mail bob@example.com", "mail bob@example.com"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			if got := Escape(c.in); got != c.want {
				t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestEscapeN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 5, "abcd…"},
		{"<<<<<<", 10, "&lt;&lt;…"},
		{"ééééé", 3, "éé…"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			if got := escapeN(c.in, c.limit); got != c.want {
				t.Errorf("escapeN(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
			}
		})
	}
}

func TestNotifier_Notify_config(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		modify func(n *integrations.Notification, b *bundle)
		reason string
	}{
		{name: "no channel", modify: func(n *integrations.Notification, b *bundle) { b.notifier.cfg.DefaultChannel = "" },
			reason: integrations.ReasonConfig},
		{name: "bad handle", modify: func(n *integrations.Notification, b *bundle) { n.Handle = "nots" },
			reason: integrations.ReasonClient},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, false)
			n := notification()
			c.modify(n, b)
			_, err := b.notifier.Notify(context.Background(), n)
			notifiertest.Check(t, notifiertest.Case{Want: "permanent", Reason: c.reason}, err, nil)
			if len(b.fake.Requests()) != 0 {
				t.Errorf("sent a request")
			}
		})
	}
}

func TestNotifier_Notify_target(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	n := notification()
	n.Target = "C0TARGET"
	res, err := b.notifier.Notify(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.fake.Requests()[0].Form.Get("channel"); got != "C0TARGET" {
		t.Errorf("posted to %q, want the action's channel", got)
	}
	if res.Handle != "C0TARGET:1700000000.000001" {
		t.Errorf("handle %q", res.Handle)
	}
}

func TestNotifier_Check(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		webhook bool
		answer  slacktest.Answer
		nc      notifiertest.Case
	}{
		{name: "ok", nc: notifiertest.Case{}},
		{name: "invalid_auth", answer: slacktest.Answer{Error: "invalid_auth"}, nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{name: "account_inactive", answer: slacktest.Answer{Error: "account_inactive"}, nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{name: "server error", answer: slacktest.Answer{Status: 503}, nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonServer}},
		{name: "rate limited", answer: slacktest.Answer{Status: 429, RetryAfter: "7"}, nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited, After: 7 * time.Second}},
		{name: "webhook", webhook: true, nc: notifiertest.Case{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, c.webhook)
			b.fake.Set("auth.test", c.answer)
			err := b.notifier.Check(context.Background())
			notifiertest.Check(t, c.nc, err, []string{testToken, testWebhookPath})
			reqs := b.fake.Requests()
			if c.webhook && len(reqs) != 0 {
				t.Errorf("checking a webhook posted %d messages", len(reqs))
			}
			if !c.webhook && (len(reqs) != 1 || reqs[0].Method != "auth.test") {
				t.Errorf("requests %+v, want one auth.test", reqs)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     Config
		apiURL  string
		wantURL string
		wantErr bool
	}{
		{name: "default api", cfg: Config{BotToken: testToken}, wantURL: "https://slack.com/api/"},
		{name: "api without slash", cfg: Config{BotToken: testToken}, apiURL: "http://127.0.0.1:9/api", wantURL: "http://127.0.0.1:9/api/"},
		{name: "api not a URL", cfg: Config{BotToken: testToken}, apiURL: "slack.com/api/", wantErr: true},
		{name: "bad config", cfg: Config{}, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n, err := New(c.cfg, c.apiURL, nil)
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want error %v", err, c.wantErr)
			}
			if err == nil && n.apiURL != c.wantURL {
				t.Errorf("api url %q, want %q", n.apiURL, c.wantURL)
			}
		})
	}
}
