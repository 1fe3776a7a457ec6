package trello

// One attempt's connection to Trello, and the translation of its failures.
//
// adlio/trello v1.12.0 keeps a context in the Client (WithContext), but only
// GET requests carry it: Post, Put and Delete build their requests with
// http.NewRequest and never attach it. Its errors keep the status code
// unexported (only 401, 404 and 429 are visible through IsPermissionDenied,
// IsNotFound and IsRateLimit), drop Retry-After, and wrap *url.Error, whose
// text has the full URL with ?key=…&token=…. So each attempt gets its own
// copy of the client whose http.Client transport puts the attempt's context
// on every request and records what Trello answered; the failure is then
// classified from that record and described without the URL's query.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/adlio/trello"

	"github.com/tocsin/tocsin/integrations"
)

const (
	// maxAnswer bounds a successful answer (a list's cards are the
	// largest); adlio/trello reads answers whole.
	maxAnswer = 32 << 20
	// maxErrorText bounds how much of a failed answer's body is kept for
	// the delivery log.
	maxErrorText = 300
)

// errAnswerTooLarge stops reading an answer past maxAnswer.
var errAnswerTooLarge = fmt.Errorf("trello: answer larger than %d MiB", maxAnswer>>20)

// attempt is one Notify or Check: a copy of the adlio client bound to the
// attempt's context, and the record of Trello's last answer.
type attempt struct {
	ctx     context.Context
	client  *trello.Client
	rec     *recorder
	secrets []string
	now     func() time.Time
	// warning says why an override of a template was set aside.
	warning string
}

// begin starts an attempt with its own deadline: the caller's, or
// n.timeout from now if that comes first.
func (n *Notifier) begin(ctx context.Context) (*attempt, context.CancelFunc) {
	ctx, cancel := context.WithTimeoutCause(ctx, n.timeout,
		fmt.Errorf("trello: no answer within %s: %w", n.timeout, context.DeadlineExceeded))
	rec := &recorder{}
	hc := *n.http
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = &attemptTransport{ctx: ctx, base: base, rec: rec}
	// The key and token travel in the query string, which a redirect
	// would carry elsewhere; Trello's API does not redirect.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := n.client.WithContext(ctx) // a copy; its throttle is shared, as Trello limits per token
	c.Client = &hc
	return &attempt{ctx: ctx, client: c, rec: rec, secrets: []string{n.cfg.Token, n.cfg.APIKey}, now: n.now}, cancel
}

// attemptTransport puts the attempt's context on every request, whatever
// context adlio/trello gave it (a request keeps its own deadline too, e.g.
// http.Client.Timeout), and records each answer.
type attemptTransport struct {
	ctx  context.Context
	base http.RoundTripper
	rec  *recorder
}

func (t *attemptTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.rec.start()
	if t.ctx.Err() != nil {
		return nil, context.Cause(t.ctx)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	release := func() { stop(); cancel(nil) }
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Keep the start of the body for the error, and hand adlio the
		// same bytes.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		resp.Body.Close()
		release()
		t.rec.answer(resp.StatusCode, resp.Header.Get("Retry-After"), b)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		return resp, nil
	}
	t.rec.answer(resp.StatusCode, "", nil)
	resp.Body = &answerBody{r: resp.Body, left: maxAnswer, release: release}
	return resp, nil
}

// answerBody bounds a successful answer and ends the request's context
// when adlio closes it.
type answerBody struct {
	r       io.ReadCloser
	left    int64
	release func()
}

func (b *answerBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errAnswerTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *answerBody) Close() error {
	err := b.r.Close()
	b.release()
	return err
}

// recorder holds what Trello answered to the attempt's latest request;
// status 0 means no answer (yet).
type recorder struct {
	mu         sync.Mutex
	status     int
	retryAfter string
	body       []byte
}

func (r *recorder) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.retryAfter, r.body = 0, "", nil
}

func (r *recorder) answer(status int, retryAfter string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.retryAfter, r.body = status, retryAfter, body
}

func (r *recorder) last() (status int, retryAfter string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.retryAfter, r.body
}

// fail classifies the failure of op, once, at the edge: 429 and 5xx retry
// (429 with Retry-After), 401/403 are permanent auth failures, 404
// permanent not-found, other 4xx permanent client errors, timeouts and
// connection failures retry as network failures. No text it returns
// carries the key or the token.
func (a *attempt) fail(op string, err error) error {
	status, retryAfter, body := a.rec.last()
	if status == 0 {
		status = libraryStatus(err)
	}
	switch {
	case status >= 400:
		return integrations.Classify(status, retryAfter, a.now(),
			fmt.Errorf("trello: %s: %s", op, a.describe(status, body)))
	case status >= 300:
		return &integrations.PermanentError{Reason: integrations.ReasonConfig, Status: status,
			Err: fmt.Errorf("trello: %s: the API URL answers with a redirect", op)}
	case a.ctx.Err() != nil:
		// Our deadline or the caller's: report the cause.
		return &integrations.RetryError{Reason: integrations.ReasonNetwork,
			Err: fmt.Errorf("trello: %s: %w", op, context.Cause(a.ctx))}
	case status != 0:
		// Trello answered 2xx with something adlio could not read.
		return &integrations.RetryError{Reason: integrations.ReasonServer, Status: status,
			Err: fmt.Errorf("trello: %s: unreadable answer: %s", op, a.scrub(rootCause(err).Error()))}
	}
	return &integrations.RetryError{Reason: integrations.ReasonNetwork,
		Err: fmt.Errorf("trello: %s: %w", op, a.redact(err))}
}

// libraryStatus reads the status from adlio's error where the transport
// saw none (it always should).
func libraryStatus(err error) int {
	var (
		rl interface{ IsRateLimit() bool }
		nf interface{ IsNotFound() bool }
		pd interface{ IsPermissionDenied() bool }
	)
	switch {
	case errors.As(err, &rl) && rl.IsRateLimit():
		return http.StatusTooManyRequests
	case errors.As(err, &nf) && nf.IsNotFound():
		return http.StatusNotFound
	case errors.As(err, &pd) && pd.IsPermissionDenied():
		return http.StatusUnauthorized
	}
	return 0
}

// describe makes Trello's error body (plain text such as "invalid token",
// or JSON) one short line for the delivery log.
func (a *attempt) describe(status int, body []byte) string {
	s := strings.ToValidUTF8(string(body), "")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if s == "" {
		return http.StatusText(status)
	}
	if len(s) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return a.scrub(s)
}

// redact keeps a transport failure's meaning without the URL's query
// string (and so without the key and token).
func (a *attempt) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = &url.Error{Op: ue.Op, URL: stripQuery(ue.URL), Err: ue.Err}
	}
	return &scrubbed{err: err, secrets: a.secrets}
}

// scrub removes the credentials from s, wherever they came from.
func (a *attempt) scrub(s string) string {
	for _, secret := range a.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

// scrubbed is an error whose text has no credentials.
type scrubbed struct {
	err     error
	secrets []string
}

func (e *scrubbed) Error() string {
	s := e.err.Error()
	for _, secret := range e.secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

func (e *scrubbed) Unwrap() error { return e.err }

// stripQuery drops a URL's query, fragment and user info.
func stripQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		raw, _, _ = strings.Cut(raw, "?")
		return raw
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = "", "", "", nil
	return u.String()
}

// rootCause is the innermost error of a chain (a JSON syntax error rather
// than adlio's message that quotes the whole answer).
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
