package github

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/github/githubtest"
	"github.com/tocsin/tocsin/integrations/notifiertest"
)

func TestNotifier_Notify_suite(t *testing.T) {
	t.Parallel()
	for name, handle := range map[string]string{"create": "", "follow-up": "octo/app#1"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			notifiertest.Run(t, func(t *testing.T, a notifiertest.Answer) (integrations.Notifier, *integrations.Notification, []string) {
				b := setup(t)
				b.fake.Seed("octo/app", githubtest.Issue{Title: "filed", Author: githubtest.Login})
				ans := githubtest.Answer{Status: a.Status, Hang: a.Hang}
				if a.RetryAfter != "" {
					ans.Header = map[string]string{"Retry-After": a.RetryAfter}
				}
				b.fake.Fail(githubtest.AnyRoute, ans)
				if a.Hang {
					b.notifier.Timeout = 500 * time.Millisecond
				}
				nt := sample()
				if handle != "" {
					nt.Kind, nt.Handle = integrations.KindResolved, handle
				}
				return b.notifier, nt, []string{githubtest.Token, testWebhookSecret}
			})
		})
	}
}

// GitHub's own ways of saying no, as go-github reports them.
func TestNotifier_Notify_classification(t *testing.T) {
	t.Parallel()
	reset := strconv.FormatInt(testNow.Add(90*time.Second).Unix(), 10)
	secondaryDoc := "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	for _, c := range []struct {
		name   string
		answer githubtest.Answer
		want   notifiertest.Case
	}{
		{"primary rate limit", githubtest.Answer{Status: 403, Header: map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
			Body: `{"message":"API rate limit exceeded for user ID 4242.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`},
			notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited, After: 90 * time.Second}},
		{"primary rate limit as 429", githubtest.Answer{Status: 429, Header: map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}},
			notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited, After: 90 * time.Second}},
		{"secondary rate limit", githubtest.Answer{Status: 403, Header: map[string]string{"Retry-After": "60"},
			Body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"` + secondaryDoc + `"}`},
			notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited, After: time.Minute}},
		{"secondary rate limit as 429", githubtest.Answer{Status: 429, Header: map[string]string{"Retry-After": "30"},
			Body: `{"message":"You have exceeded a secondary rate limit.","documentation_url":"` + secondaryDoc + `"}`},
			notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited, After: 30 * time.Second}},
		{"secondary rate limit without a wait", githubtest.Answer{Status: 403,
			Body: `{"message":"You have exceeded a secondary rate limit and have been temporarily blocked from content creation."}`},
			notifiertest.Case{Want: "retry", Reason: integrations.ReasonRateLimited}},
		{"bad credentials", githubtest.Answer{Status: 401, Body: `{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`},
			notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{"two-factor", githubtest.Answer{Status: 401, Header: map[string]string{"X-GitHub-OTP": "required; app"}},
			notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{"no access", githubtest.Answer{Status: 403, Body: `{"message":"Resource not accessible by personal access token","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment"}`},
			notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{"no such repository", githubtest.Answer{Status: 404}, notifiertest.Case{Want: "permanent", Reason: integrations.ReasonNotFound}},
		{"issue deleted", githubtest.Answer{Status: 410, Body: `{"message":"This issue was deleted"}`}, notifiertest.Case{Want: "permanent", Reason: integrations.ReasonNotFound}},
		{"validation failed", githubtest.Answer{Status: 422, Body: `{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","field":"body","message":"body is too long"}]}`},
			notifiertest.Case{Want: "permanent", Reason: integrations.ReasonClient}},
		{"server error", githubtest.Answer{Status: 500}, notifiertest.Case{Want: "retry", Reason: integrations.ReasonServer}},
		{"unavailable with a wait", githubtest.Answer{Status: 503, Header: map[string]string{"Retry-After": "20"}},
			notifiertest.Case{Want: "retry", Reason: integrations.ReasonServer, After: 20 * time.Second}},
		{"unreadable answer", githubtest.Answer{Status: 201, Body: `<html>proxy</html>`, Commit: true},
			notifiertest.Case{Want: "retry", Reason: integrations.ReasonServer}},
		{"hang", githubtest.Answer{Hang: true}, notifiertest.Case{Want: "retry", Reason: integrations.ReasonNetwork}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Seed("octo/app", githubtest.Issue{Title: "filed", Author: githubtest.Login})
			b.fake.Fail(githubtest.RouteComment, c.answer)
			if c.answer.Hang {
				b.notifier.Timeout = 500 * time.Millisecond
			}
			nt := sample()
			nt.Handle = "octo/app#1"
			_, err := b.notifier.Notify(context.Background(), nt)
			notifiertest.Check(t, c.want, err, []string{githubtest.Token, testWebhookSecret})
			if err != nil && !strings.HasPrefix(errors.Unwrap(err).Error(), "github: comment on octo/app#1: ") {
				t.Errorf("error %q does not say what was being done", err)
			}
		})
	}
}

func TestNotifier_Notify_connectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	n, err := New(Config{Token: githubtest.Token, Owner: "octo", Repo: "app"}, srv.URL+"/api/v3/", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Notify(context.Background(), sample())
	notifiertest.Check(t, notifiertest.Case{Want: "retry", Reason: integrations.ReasonNetwork}, err, []string{githubtest.Token})
}
