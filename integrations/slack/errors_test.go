package slack

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/notifiertest"
	"github.com/tocsin/tocsin/integrations/slack/slacktest"
)

func TestNotifier_Notify_classification(t *testing.T) {
	t.Parallel()
	for _, webhook := range []bool{false, true} {
		t.Run(map[bool]string{false: "bot", true: "webhook"}[webhook], func(t *testing.T) {
			t.Parallel()
			notifiertest.Run(t, func(t *testing.T, a notifiertest.Answer) (integrations.Notifier, *integrations.Notification, []string) {
				b := setup(t, webhook)
				method := map[bool]string{false: "chat.postMessage", true: "webhook"}[webhook]
				b.fake.Set(method, slacktest.Answer{Status: a.Status, RetryAfter: a.RetryAfter, Hang: a.Hang})
				return b.notifier, notification(), []string{testToken, testSigning, testWebhookPath, b.fake.URL + testWebhookPath}
			})
		})
	}
}

// TestNotifier_Notify_slackErrors covers Slack's own answers: error codes
// in {"ok": false}, a webhook's refusal, Retry-After as a date, a dead
// server.
func TestNotifier_Notify_slackErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		webhook bool
		method  string
		answer  slacktest.Answer
		token   string // "" for the right one
		down    bool   // the server is gone
		nc      notifiertest.Case
	}{
		{name: "invalid_auth", method: "chat.postMessage", answer: slacktest.Answer{Error: "invalid_auth"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{name: "wrong token", method: "chat.postMessage", token: "xoxb-wrong",
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{name: "token_revoked", method: "chat.postMessage", answer: slacktest.Answer{Error: "token_revoked"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{name: "channel_not_found", method: "chat.postMessage", answer: slacktest.Answer{Error: "channel_not_found"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonNotFound}},
		{name: "is_archived", method: "chat.postMessage", answer: slacktest.Answer{Error: "is_archived"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonNotFound}},
		{name: "not_in_channel", method: "chat.postMessage", answer: slacktest.Answer{Error: "not_in_channel"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonNotFound}},
		{name: "other code", method: "chat.postMessage", answer: slacktest.Answer{Error: "msg_too_long"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonClient}},
		{name: "ratelimited code", method: "chat.postMessage", answer: slacktest.Answer{Error: "ratelimited"},
			nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited}},
		{name: "internal_error code", method: "chat.postMessage", answer: slacktest.Answer{Error: "internal_error"},
			nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonServer}},
		{name: "429 with a date", method: "chat.postMessage",
			answer: slacktest.Answer{Status: 429, RetryAfter: testNow.Add(30 * time.Second).Format(http.TimeFormat)},
			nc:     notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited, After: 30 * time.Second}},
		{name: "429 without Retry-After", method: "chat.postMessage", answer: slacktest.Answer{Status: 429},
			nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited}},
		{name: "429 capped", method: "chat.postMessage", answer: slacktest.Answer{Status: 429, RetryAfter: "86400"},
			nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited, After: time.Hour}},
		{name: "garbled answer", method: "chat.postMessage", answer: slacktest.Answer{Body: "<html>"},
			nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonServer}},
		{name: "server gone", method: "chat.postMessage", down: true,
			nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonNetwork}},
		{name: "webhook channel_not_found", webhook: true, method: "webhook", answer: slacktest.Answer{Status: 404, Error: "channel_not_found"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonNotFound}},
		{name: "webhook invalid_token", webhook: true, method: "webhook", answer: slacktest.Answer{Status: 403, Error: "invalid_token"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{name: "webhook invalid_payload", webhook: true, method: "webhook", answer: slacktest.Answer{Status: 400, Error: "invalid_payload"},
			nc: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonClient}},
		{name: "webhook gone", webhook: true, method: "webhook", down: true,
			nc: notifiertest.Case{Want: "retry", Reason: integrations.ReasonNetwork}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, c.webhook)
			b.fake.Set(c.method, c.answer)
			if c.token != "" {
				b.notifier.cfg.BotToken = c.token
			}
			if c.down {
				b.fake.CloseClientConnections()
				b.fake.Close()
			}
			_, err := b.notifier.Notify(context.Background(), notification())
			notifiertest.Check(t, c.nc, err, []string{testToken, c.token, testSigning, testWebhookPath})
			if c.answer.Error != "" && !strings.Contains(err.Error(), c.answer.Error) {
				t.Errorf("error %q does not say Slack's %q", err, c.answer.Error)
			}
			if c.webhook && !strings.Contains(err.Error(), "webhook") {
				t.Errorf("error %q does not say what was done", err)
			}
		})
	}
}

func TestNotifier_Notify_deadline(t *testing.T) {
	t.Parallel()
	b := setup(t, false)
	b.fake.Set("chat.postMessage", slacktest.Answer{Hang: true})
	b.notifier.timeout = 50 * time.Millisecond
	_, err := b.notifier.Notify(context.Background(), notification())
	notifiertest.Check(t, notifiertest.Case{Want: "retry", Reason: integrations.ReasonNetwork}, err, nil)
	if want := "slack: no answer within 50ms (post to #ops)"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not give the cause %q", err, want)
	}
}

func TestRecorder_keepsBody(t *testing.T) {
	t.Parallel()
	// The recorder peeks at refusals; slack-go must still read them whole.
	b := setup(t, true)
	b.fake.Set("webhook", slacktest.Answer{Status: 500, Error: strings.Repeat("x", 300)})
	_, err := b.notifier.Notify(context.Background(), notification())
	var re *integrations.RetryError
	if !errors.As(err, &re) || re.Status != 500 {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "xxx") {
		t.Errorf("an error page reached the error text: %v", err)
	}
}
