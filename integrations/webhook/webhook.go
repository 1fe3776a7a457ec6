package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/httpclient"
)

// DefaultTimeout bounds one delivery attempt when Notifier.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// UserAgent is sent with every webhook.
const UserAgent = "Tocsin-Webhook/1.0"

// Notifier posts notifications to one webhook.
type Notifier struct {
	cfg          Config
	client       *http.Client
	installation string

	// Timeout bounds one attempt (its own deadline, whatever the caller's
	// context allows); DefaultTimeout when zero.
	Timeout time.Duration
	// NowFunc is the clock of Sentry-Hook-Timestamp and of Retry-After
	// dates; time.Now when nil.
	NowFunc func() time.Time
}

// New returns a Notifier for cfg that posts with client — which should be
// the httpclient client, whose guard refuses private addresses — and names
// installationUUID as the Sentry installation in every body. A nil client
// means httpclient.New with the guard on.
func New(cfg Config, client *http.Client, installationUUID string) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		client = httpclient.New(httpclient.Options{})
	}
	return &Notifier{cfg: cfg, client: client, installation: installationUUID}, nil
}

// Sign is Sentry-Hook-Signature: the lowercase hex HMAC-SHA256 of body
// keyed with secret. Receivers compare it with hmac.Equal.
func Sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Route maps a notification to Sentry's resource (Sentry-Hook-Resource)
// and action: an alert fired by a rule is event_alert/triggered; an alert
// without a rule (a new issue) is issue/created; resolved, assigned,
// ignored and unresolved are issue/that; a regression is issue/unresolved
// (Sentry's substatus "regressed" tells it apart). A test goes out as the
// alert it would be.
func Route(n *integrations.Notification) (resource, action string, err error) {
	switch n.Kind {
	case integrations.KindAlert, integrations.KindTest:
		if n.Rule != nil {
			return "event_alert", "triggered", nil
		}
		return "issue", "created", nil
	case integrations.KindRegression:
		return "issue", "unresolved", nil
	case integrations.KindResolved, integrations.KindAssigned, integrations.KindIgnored, integrations.KindUnresolved:
		return "issue", n.Kind, nil
	}
	return "", "", fmt.Errorf("webhook: no Sentry webhook for notification kind %q", n.Kind)
}

// Notify posts one notification. Kinds that the webhook did not subscribe
// to (Config.Events) are skipped: Notify then returns a Result with Status
// 0 and no error, and sends nothing. Test notifications are always sent.
//
// A non-empty Notification.Target replaces the configured URL. Failures
// are classified with integrations.Classify (status and Retry-After);
// a private address refused by the client's guard is a permanent config
// failure; timeouts and connection failures are retried.
func (w *Notifier) Notify(ctx context.Context, n *integrations.Notification) (*integrations.Result, error) {
	resource, action, err := Route(n)
	if err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
	}
	if n.Kind != integrations.KindTest && !w.cfg.wants(resource+"."+action) {
		return &integrations.Result{}, nil
	}
	target := w.cfg.URL
	if n.Target != "" {
		if err := validateURL(n.Target); err != nil {
			return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
		}
		target = n.Target
	}
	where := httpclient.Redact(target)

	body, warning, err := w.body(n, resource, action)
	if err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient, Err: fmt.Errorf("webhook: encode %s.%s: %w", resource, action, err)}
	}

	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("no answer within %s", timeout))
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: fmt.Errorf("webhook: post to %s: %w", where, httpclient.RedactURL(err))}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Request-ID", requestID(n.IdempotencyKey))
	req.Header.Set("Sentry-Hook-Resource", resource)
	req.Header.Set("Sentry-Hook-Timestamp", strconv.FormatInt(w.now().Unix(), 10))
	req.Header.Set("Sentry-Hook-Signature", Sign(body, w.cfg.Secret))

	resp, err := w.client.Do(req)
	if err != nil {
		return nil, transportError(ctx, where, err)
	}
	defer resp.Body.Close()
	text := readSnippet(resp.Body)
	res := &integrations.Result{Status: resp.StatusCode, Warning: warning}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return res, nil
	}
	cause := fmt.Errorf("webhook: post to %s: %s", where, text)
	if resp.StatusCode < 400 {
		return res, &integrations.PermanentError{Reason: integrations.ReasonClient, Status: resp.StatusCode, Err: cause}
	}
	return res, integrations.Classify(resp.StatusCode, resp.Header.Get("Retry-After"), w.now(), cause)
}

func (w *Notifier) now() time.Time {
	if w.NowFunc != nil {
		return w.NowFunc()
	}
	return time.Now()
}

// body renders the payload from the resource's template: the
// integration's override when it works, else the built-in one, whose
// output is exactly Sentry's shape. warning says why an override was set
// aside.
func (w *Notifier) body(n *integrations.Notification, resource, action string) (body []byte, warning string, err error) {
	t := issueTemplate
	if resource == "event_alert" {
		t = eventAlertTemplate
	}
	out, warning, err := t.RenderView(n, newView(n, resource, action, w.installation))
	return []byte(out), warning, err
}

// requestID is the Request-ID header: the idempotency key, so that
// receivers can drop a retried delivery they already processed. A key
// that is not a plain header token is hashed; a missing one is random.
func requestID(key string) string {
	if key == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	for _, r := range key {
		if r <= ' ' || r > '~' {
			sum := sha256.Sum256([]byte(key))
			return hex.EncodeToString(sum[:16])
		}
	}
	if len(key) > 200 {
		sum := sha256.Sum256([]byte(key))
		return hex.EncodeToString(sum[:16])
	}
	return key
}

// transportError classifies a failure to get an answer at all.
func transportError(ctx context.Context, where string, err error) error {
	err = httpclient.RedactURL(err)
	switch {
	case errors.Is(err, httpclient.ErrPrivateAddress):
		return &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: fmt.Errorf("webhook: post to %s: %w (set TOCSIN_ALLOW_PRIVATE_WEBHOOKS=true to allow)", where, err)}
	case errors.Is(err, httpclient.ErrTooManyRedirects):
		return &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: fmt.Errorf("webhook: post to %s: %w", where, err)}
	case ctx.Err() != nil:
		return &integrations.RetryError{Reason: integrations.ReasonNetwork, Err: fmt.Errorf("webhook: post to %s: %w: %w", where, context.Cause(ctx), err)}
	}
	return &integrations.RetryError{Reason: integrations.ReasonNetwork, Err: fmt.Errorf("webhook: post to %s: %w", where, err)}
}

// readSnippet reads the start of an answer for the delivery log, as one
// line of valid UTF-8, and drains a little more so the connection can be
// reused.
func readSnippet(r io.Reader) string {
	const limit = 512
	b, _ := io.ReadAll(io.LimitReader(r, limit))
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Join(strings.Fields(s), " ")
	if len(b) == limit {
		s += "…"
	}
	if s == "" {
		return "empty answer"
	}
	return s
}
