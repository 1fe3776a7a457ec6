// Package notifiertest is the suite every Notifier passes: failures are
// classified the same way whatever the service (STYLE.md: 5xx, 429,
// timeouts and connection errors retry, with the service's wait; other
// 4xx are permanent, with a reason), and no error text carries a secret.
package notifiertest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
)

// Answer is what a fake service answers to the notifier's request.
type Answer struct {
	Status     int
	RetryAfter string // the Retry-After header, "" for none
	// Hang makes the fake never answer, to test the notifier's deadline.
	Hang bool
}

// Case is one row of the classification table.
type Case struct {
	Name   string
	Answer Answer
	// Want is the classification: "retry", "permanent" or "" for success.
	Want   string
	Reason string        // the wanted reason
	After  time.Duration // the wanted wait of a retry, 0 for any
}

// Cases are the answers every notifier is checked against.
var Cases = []Case{
	{Name: "rate limited with seconds", Answer: Answer{Status: 429, RetryAfter: "5"}, Want: "retry", Reason: integrations.ReasonRateLimited, After: 5 * time.Second},
	{Name: "server error", Answer: Answer{Status: 500}, Want: "retry", Reason: integrations.ReasonServer},
	{Name: "bad gateway", Answer: Answer{Status: 502}, Want: "retry", Reason: integrations.ReasonServer},
	{Name: "unauthorized", Answer: Answer{Status: 401}, Want: "permanent", Reason: integrations.ReasonAuth},
	{Name: "forbidden", Answer: Answer{Status: 403}, Want: "permanent", Reason: integrations.ReasonAuth},
	{Name: "not found", Answer: Answer{Status: 404}, Want: "permanent", Reason: integrations.ReasonNotFound},
	{Name: "bad request", Answer: Answer{Status: 400}, Want: "permanent", Reason: integrations.ReasonClient},
	{Name: "timeout", Answer: Answer{Hang: true}, Want: "retry", Reason: integrations.ReasonNetwork},
}

// Setup builds a notifier that talks to a fake answering a, and the
// notification to send. Secrets are the strings no error may contain
// (tokens, webhook secrets, passwords, URLs with credentials).
type Setup func(t *testing.T, a Answer) (n integrations.Notifier, notification *integrations.Notification, secrets []string)

// Timeout bounds each attempt in the suite; notifiers must honour the
// context's deadline.
const Timeout = 2 * time.Second

// Run checks classification and secret hygiene over Cases. Services that
// speak something other than HTTP status codes (Slack's {"ok": false},
// SMTP replies) map their answers to these statuses in their fakes.
func Run(t *testing.T, setup Setup) {
	t.Helper()
	for _, c := range Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			n, notification, secrets := setup(t, c.Answer)
			ctx, cancel := context.WithTimeout(context.Background(), Timeout)
			defer cancel()
			_, err := n.Notify(ctx, notification)
			Check(t, c, err, secrets)
		})
	}
}

// Check asserts one classification.
func Check(t *testing.T, c Case, err error, secrets []string) {
	t.Helper()
	var (
		re *integrations.RetryError
		pe *integrations.PermanentError
	)
	switch c.Want {
	case "":
		if err != nil {
			t.Fatalf("want success, got %v", err)
		}
		return
	case "retry":
		if !errors.As(err, &re) {
			t.Fatalf("want a RetryError, got %T: %v", err, err)
		}
		if re.Reason != c.Reason {
			t.Errorf("reason %q, want %q", re.Reason, c.Reason)
		}
		if c.After > 0 && re.After != c.After {
			t.Errorf("retry after %s, want %s", re.After, c.After)
		}
	case "permanent":
		if !errors.As(err, &pe) {
			t.Fatalf("want a PermanentError, got %T: %v", err, err)
		}
		if pe.Reason != c.Reason {
			t.Errorf("reason %q, want %q", pe.Reason, c.Reason)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q reveals a secret", err)
		}
	}
}
