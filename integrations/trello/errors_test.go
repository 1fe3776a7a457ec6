package trello

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/notifiertest"
	"github.com/tocsin/tocsin/integrations/trello/trellotest"
)

func TestNotifier_Notify_classification(t *testing.T) {
	t.Parallel()
	// The same table at each step of a delivery: looking for the card
	// (GET), creating it (POST with query parameters), moving it (PUT)
	// and commenting (POST); adlio/trello attaches no context to POST and
	// PUT, so the hang rows check the transport's.
	for _, step := range []struct {
		name   string
		prefix string
		handle bool
	}{
		{"find", "GET /1/lists/", false},
		{"create", "POST /1/cards", false},
		{"move", "PUT /1/cards/", true},
		{"comment", "POST /1/cards/", true},
	} {
		t.Run(step.name, func(t *testing.T) {
			t.Parallel()
			notifiertest.Run(t, func(t *testing.T, a notifiertest.Answer) (integrations.Notifier, *integrations.Notification, []string) {
				b := setup(t)
				n := alert()
				if step.handle {
					card := "5c0000000000000000000042"
					b.fake.Put(trellotest.Card{ID: card, Desc: "tocsin:issue:42", IDList: trellotest.ResolvedListID})
					n.Kind, n.Handle = integrations.KindRegression, card
				}
				b.fake.SetAnswer(trellotest.FailOn(step.prefix, a), "")
				return b.n, n, []string{trellotest.Key, trellotest.Token, b.cfg.WebhookSecret}
			})
		})
	}
}

func TestNotifier_Notify_errors(t *testing.T) {
	t.Parallel()
	t.Run("rate limited without Retry-After", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.SetAnswer(trellotest.FailAll(notifiertest.Answer{Status: 429}), "")
		_, err := b.n.Notify(context.Background(), alert())
		var re *integrations.RetryError
		if !errors.As(err, &re) || re.Reason != integrations.ReasonRateLimited || re.After != 0 || re.Status != 429 {
			t.Fatalf("got %#v, want a rate-limited retry with no wait", err)
		}
	})
	t.Run("rate limited until a date", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.SetAnswer(trellotest.FailAll(notifiertest.Answer{Status: 429,
			RetryAfter: testNow.Add(90 * time.Second).Format(http.TimeFormat)}), "")
		_, err := b.n.Notify(context.Background(), alert())
		var re *integrations.RetryError
		if !errors.As(err, &re) || re.After != 90*time.Second {
			t.Fatalf("got %v, want a retry after 1m30s", err)
		}
	})
	t.Run("invalid token", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		n, err := New(Config{APIKey: trellotest.Key, Token: "ATTAwrong", ListID: trellotest.ListID}, b.fake.APIURL(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Notify(context.Background(), alert())
		var pe *integrations.PermanentError
		if !errors.As(err, &pe) || pe.Reason != integrations.ReasonAuth || pe.Status != 401 {
			t.Fatalf("got %v, want a permanent auth error", err)
		}
		if !strings.Contains(err.Error(), "invalid token") || strings.Contains(err.Error(), "ATTAwrong") {
			t.Errorf("error %q: want Trello's reason without the token", err)
		}
	})
	t.Run("an answer that repeats the credentials", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.fake.SetAnswer(trellotest.FailAll(notifiertest.Answer{Status: 400}),
			"invalid request ?key="+trellotest.Key+"&token="+trellotest.Token)
		_, err := b.n.Notify(context.Background(), alert())
		var pe *integrations.PermanentError
		if !errors.As(err, &pe) || pe.Reason != integrations.ReasonClient {
			t.Fatalf("got %v, want a permanent client error", err)
		}
		if s := err.Error(); strings.Contains(s, trellotest.Key) || strings.Contains(s, trellotest.Token) {
			t.Errorf("error %q reveals the credentials", s)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		n, err := New(Config{APIKey: trellotest.Key, Token: trellotest.Token, ListID: trellotest.ListID}, srv.URL+"/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Notify(context.Background(), alert())
		var re *integrations.RetryError
		if !errors.As(err, &re) || re.Reason != integrations.ReasonNetwork {
			t.Fatalf("got %v, want a network retry", err)
		}
		if s := err.Error(); strings.Contains(s, trellotest.Key) || strings.Contains(s, trellotest.Token) || strings.Contains(s, "?") {
			t.Errorf("error %q reveals the query string", s)
		}
	})
	t.Run("own deadline", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.n.timeout = 50 * time.Millisecond
		b.fake.SetAnswer(trellotest.FailOn("POST /1/cards", notifiertest.Answer{Hang: true}), "")
		_, err := b.n.Notify(context.Background(), alert())
		var re *integrations.RetryError
		if !errors.As(err, &re) || re.Reason != integrations.ReasonNetwork {
			t.Fatalf("got %v, want a network retry", err)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
			t.Errorf("error %q: want the attempt's deadline as the cause", err)
		}
		if strings.Contains(err.Error(), trellotest.Token) {
			t.Errorf("error %q reveals the token", err)
		}
	})
	t.Run("redirect", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Errorf("the redirect was followed: %s", r.URL)
		}))
		defer elsewhere.Close()
		b.fake.SetAnswer(nil, "")
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+r.URL.RequestURI(), http.StatusFound)
		}))
		defer srv.Close()
		n, err := New(b.cfg, srv.URL+"/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Notify(context.Background(), alert())
		var pe *integrations.PermanentError
		if !errors.As(err, &pe) || pe.Reason != integrations.ReasonConfig || pe.Status != http.StatusFound {
			t.Fatalf("got %v, want a permanent config error", err)
		}
	})
	t.Run("card gone", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		n := alert()
		n.Kind, n.Handle = integrations.KindRegression, "5c00000000000000000000ff"
		_, err := b.n.Notify(context.Background(), n)
		var pe *integrations.PermanentError
		if !errors.As(err, &pe) || pe.Reason != integrations.ReasonNotFound {
			t.Fatalf("got %v, want a permanent not-found error", err)
		}
	})
}

func TestNotifier_Check(t *testing.T) {
	t.Parallel()
	for _, c := range append([]notifiertest.Case{{Name: "ok", Answer: notifiertest.Answer{}}}, notifiertest.Cases...) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if c.Answer != (notifiertest.Answer{}) {
				b.fake.SetAnswer(trellotest.FailOn("GET /1/members/me", c.Answer), "")
			}
			ctx, cancel := context.WithTimeout(context.Background(), notifiertest.Timeout)
			defer cancel()
			err := b.n.Check(ctx)
			notifiertest.Check(t, c, err, []string{trellotest.Key, trellotest.Token})
			if l := b.fake.Requests(); len(l) != 1 || l[0] != "GET /1/members/me" {
				t.Errorf("requests %q, want GET /1/members/me", l)
			}
		})
	}
}
