package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/httpclient"
)

// Slack's error codes ({"ok": false, "error": "…"} from the Web API, the
// body of a refused incoming webhook) and what they mean for delivery. Any
// other code is a permanent client error.
// https://api.slack.com/methods/chat.postMessage#errors,
// https://api.slack.com/messaging/webhooks#handling_errors
var codeReasons = map[string]string{
	"invalid_auth":     integrations.ReasonAuth,
	"not_authed":       integrations.ReasonAuth,
	"account_inactive": integrations.ReasonAuth,
	"token_revoked":    integrations.ReasonAuth,
	"token_expired":    integrations.ReasonAuth,
	"invalid_token":    integrations.ReasonAuth, // webhook
	"team_disabled":    integrations.ReasonAuth, // webhook

	"channel_not_found":   integrations.ReasonNotFound,
	"is_archived":         integrations.ReasonNotFound,
	"not_in_channel":      integrations.ReasonNotFound,
	"user_not_found":      integrations.ReasonNotFound,
	"no_service":          integrations.ReasonNotFound, // webhook removed
	"channel_is_archived": integrations.ReasonNotFound, // webhook

	"ratelimited":  integrations.ReasonRateLimited,
	"rate_limited": integrations.ReasonRateLimited,

	"internal_error":      integrations.ReasonServer,
	"fatal_error":         integrations.ReasonServer,
	"service_unavailable": integrations.ReasonServer,
	"request_timeout":     integrations.ReasonServer,
}

// parentGone are the chat.update codes that say the thread's parent can no
// longer be updated (deleted, too old); the reply in the thread still
// goes out.
var parentGone = map[string]bool{
	"message_not_found":   true,
	"cant_update_message": true,
	"edit_window_closed":  true,
}

// maxWait caps the wait of a rate limit, as integrations.ParseRetryAfter
// does.
const maxWait = time.Hour

// codeRE is the shape of a Slack error code in a webhook's answer; other
// bodies (HTML error pages) are not repeated in errors.
var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// recorder keeps what the service answered to the last request of one
// attempt, which slack-go's errors leave out: the status, Retry-After (in
// any form) and, for a refusal, Slack's error code.
type recorder struct {
	next       http.RoundTripper
	status     int
	retryAfter string
	code       string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.status, r.retryAfter, r.code = resp.StatusCode, resp.Header.Get("Retry-After"), ""
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 128))
		if c := strings.TrimSpace(string(b)); codeRE.MatchString(c) {
			r.code = c
		}
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
	}
	return resp, nil
}

// attempt is one call to Slack: the clients it uses, bound to its
// recorder.
type attempt struct {
	api     *slack.Client
	http    *http.Client
	rec     *recorder
	timeout error // the cause of the attempt's deadline
}

// call runs fn under its own deadline and classifies its failure; op says
// what was being done ("post to #ops").
func (n *Notifier) call(ctx context.Context, op string, fn func(ctx context.Context, a *attempt) error) (status int, err error) {
	cause := fmt.Errorf("slack: no answer within %s", n.timeout)
	ctx, cancel := context.WithTimeoutCause(ctx, n.timeout, cause)
	defer cancel()
	next := n.http.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	rec := &recorder{next: next}
	hc := *n.http
	hc.Transport = rec
	a := &attempt{
		api:     slack.New(n.cfg.BotToken, slack.OptionAPIURL(n.apiURL), slack.OptionHTTPClient(&hc)),
		http:    &hc,
		rec:     rec,
		timeout: cause,
	}
	if err := fn(ctx, a); err != nil {
		return rec.status, n.classify(ctx, op, a, err)
	}
	return rec.status, nil
}

// classify turns what slack-go returned into an integrations.PermanentError
// or integrations.RetryError (STYLE.md: once, at the edge) whose text
// holds no secret.
func (n *Notifier) classify(ctx context.Context, op string, a *attempt, err error) error {
	rec := a.rec
	var (
		rl   *slack.RateLimitedError
		se   slack.SlackErrorResponse
		wrap = func(e error) error { return n.scrub(fmt.Errorf("slack: %s: %w", op, e)) }
	)
	switch {
	case errors.Is(err, httpclient.ErrPrivateAddress):
		// An incoming-webhook URL the guard refuses: retrying cannot help.
		return &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: wrap(n.sanitize(err))}
	case errors.As(err, &rl):
		return &integrations.RetryError{Reason: integrations.ReasonRateLimited, Status: http.StatusTooManyRequests,
			After: min(max(rl.RetryAfter, 0), maxWait), Err: wrap(err)}
	case errors.As(err, &se):
		return byCode(se.Err, rec.status, rec.retryAfter, wrap(errors.New(se.Err)), n)
	case rec.status >= 400 && rec.status != http.StatusTooManyRequests && rec.status < 500 && codeReasons[rec.code] != "":
		return byCode(rec.code, rec.status, rec.retryAfter, wrap(fmt.Errorf("%s: %w", rec.code, n.sanitize(err))), n)
	case rec.status != 0 && rec.status != http.StatusOK:
		e := n.sanitize(err)
		if rec.code != "" {
			e = fmt.Errorf("%w (%s)", e, rec.code)
		}
		return integrations.Classify(rec.status, rec.retryAfter, n.now(), wrap(e))
	case ctx.Err() != nil:
		if cause := context.Cause(ctx); cause == a.timeout {
			err = fmt.Errorf("%w (%s)", cause, op)
		} else {
			err = wrap(cause)
		}
		return &integrations.RetryError{Reason: integrations.ReasonNetwork, Err: n.scrub(err)}
	case rec.status == http.StatusOK:
		// An answer that slack-go could not read.
		return &integrations.RetryError{Reason: integrations.ReasonServer, Status: rec.status, Err: wrap(n.sanitize(err))}
	}
	return &integrations.RetryError{Reason: integrations.ReasonNetwork, Err: wrap(n.sanitize(err))}
}

// byCode classifies one of Slack's error codes.
func byCode(code string, status int, retryAfter string, err error, n *Notifier) error {
	switch reason := codeReasons[code]; reason {
	case integrations.ReasonRateLimited, integrations.ReasonServer:
		return &integrations.RetryError{Reason: reason, Status: status, After: integrations.ParseRetryAfter(retryAfter, n.now()), Err: err}
	case "":
		return &integrations.PermanentError{Reason: integrations.ReasonClient, Status: status, Err: err}
	default:
		return &integrations.PermanentError{Reason: reason, Status: status, Err: err}
	}
}

// sanitize strips URLs from transport errors (the webhook URL is a
// secret; slack-go puts request URLs in its errors), keeping what went
// wrong.
func (n *Notifier) sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
	}
	return err
}

// scrub is the last guard: an error whose text still holds a secret is
// replaced by its text with the secret cut out.
func (n *Notifier) scrub(err error) error {
	msg := err.Error()
	leak := false
	for _, s := range n.secrets() {
		if s != "" && strings.Contains(msg, s) {
			msg, leak = strings.ReplaceAll(msg, s, "REDACTED"), true
		}
	}
	if leak {
		return errors.New(msg)
	}
	return err
}

// secrets are the strings no error may show.
func (n *Notifier) secrets() []string {
	s := []string{n.cfg.BotToken, n.cfg.SigningSecret, n.cfg.WebhookURL}
	if u, err := url.Parse(n.cfg.WebhookURL); err == nil && n.cfg.WebhookURL != "" {
		s = append(s, u.String(), u.EscapedPath(), u.Path)
	}
	return s
}

// redactURL keeps the scheme and host of a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "REDACTED"
	}
	return u.Scheme + "://" + u.Host + "/REDACTED"
}
