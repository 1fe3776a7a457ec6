package github

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/tocsin/tocsin/integrations"
)

// maxWait caps a rate-limit wait, as integrations.ParseRetryAfter does.
const maxWait = time.Hour

// apiError is a failed request, its text stripped of secrets; it unwraps
// to go-github's error for callers that want the details.
type apiError struct {
	msg string
	err error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// fail classifies the failure of a request made while doing what, once,
// here at the edge (STYLE.md, Errors). See
// https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
// for the primary (X-RateLimit-*) and secondary (Retry-After) rate limits.
func (n *Notifier) fail(ctx context.Context, what string, resp *gh.Response, err error) error {
	now := n.now()
	msg := "github: " + what + ": " + n.scrub(err.Error())
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
			msg += " (" + n.scrub(cause.Error()) + ")"
		}
	}
	e := &apiError{msg: msg, err: err}

	var (
		primary   *gh.RateLimitError
		secondary *gh.AbuseRateLimitError
		twoFactor *gh.TwoFactorAuthError
		answer    *gh.ErrorResponse
	)
	switch {
	case errors.As(err, &primary):
		return &integrations.RetryError{Reason: integrations.ReasonRateLimited, Status: statusOf(primary.Response),
			After: clampWait(primary.Rate.Reset.Time.Sub(now)), Err: e}
	case errors.As(err, &secondary):
		after := time.Duration(0)
		if secondary.RetryAfter != nil {
			after = clampWait(*secondary.RetryAfter)
		} else if secondary.Response != nil {
			after = rateLimitWait(secondary.Response.Header, now)
		}
		return &integrations.RetryError{Reason: integrations.ReasonRateLimited, Status: statusOf(secondary.Response), After: after, Err: e}
	case errors.As(err, &twoFactor):
		return &integrations.PermanentError{Reason: integrations.ReasonAuth, Status: http.StatusUnauthorized, Err: e}
	case errors.As(err, &answer) && answer.Response != nil:
		status, h := answer.Response.StatusCode, answer.Response.Header
		if status == http.StatusTooManyRequests || status == http.StatusForbidden && isRateLimit(h, answer.Message) {
			return &integrations.RetryError{Reason: integrations.ReasonRateLimited, Status: status, After: rateLimitWait(h, now), Err: e}
		}
		return integrations.Classify(status, h.Get("Retry-After"), now, e)
	case resp != nil && resp.Response != nil && ctx.Err() == nil:
		// GitHub answered, but not with what go-github could read.
		return &integrations.RetryError{Reason: integrations.ReasonServer, Status: resp.StatusCode, Err: e}
	}
	return &integrations.RetryError{Reason: integrations.ReasonNetwork, Err: e}
}

// isRateLimit tells a 403 that is a rate limit go-github did not recognise
// (it looks for X-RateLimit-Remaining: 0 or the documentation URL) from a
// 403 that refuses access.
func isRateLimit(h http.Header, message string) bool {
	return h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0" ||
		strings.Contains(strings.ToLower(message), "rate limit")
}

// rateLimitWait reads the wait from Retry-After, or else from
// X-RateLimit-Reset (a Unix time) when no request is left.
func rateLimitWait(h http.Header, now time.Time) time.Duration {
	if d := integrations.ParseRetryAfter(h.Get("Retry-After"), now); d > 0 {
		return d
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return clampWait(time.Unix(reset, 0).Sub(now))
		}
	}
	return 0
}

func clampWait(d time.Duration) time.Duration { return min(max(d, 0), maxWait) }

func statusOf(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// scrub removes the secrets from an error text. go-github's errors carry
// the request's method and URL, never its Authorization header, and New
// refuses API URLs with credentials; this is for whatever else a server
// or transport might echo.
func (n *Notifier) scrub(s string) string {
	for _, secret := range []string{n.cfg.Token, n.cfg.WebhookSecret} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}
