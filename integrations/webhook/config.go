// Package webhook posts notifications as signed JSON webhooks in the shape
// of Sentry's integration-platform webhooks, so that receivers written for
// Sentry work unchanged:
// https://docs.sentry.io/organization/integrations/integration-platform/webhooks/
package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/tocsin/tocsin/integrations/httpclient"
)

// Events a webhook can subscribe to, as Sentry names them
// ("{Sentry-Hook-Resource}.{action}").
const (
	EventIssueCreated        = "issue.created"
	EventIssueResolved       = "issue.resolved"
	EventIssueAssigned       = "issue.assigned"
	EventIssueIgnored        = "issue.ignored"
	EventIssueUnresolved     = "issue.unresolved"
	EventEventAlertTriggered = "event_alert.triggered"
)

// Events lists every event, in the order the API shows them.
var Events = []string{
	EventIssueCreated, EventIssueResolved, EventIssueAssigned,
	EventIssueIgnored, EventIssueUnresolved, EventEventAlertTriggered,
}

// Config is a webhook integration's settings (INTERFACES.md: url, secret,
// events).
type Config struct {
	URL string `json:"url"`
	// Secret keys Sentry-Hook-Signature; write-only in the API.
	Secret string `json:"secret"`
	// Events the receiver wants; empty means all of them.
	Events []string `json:"events"`
}

// Validate checks that the URL is an absolute http or https URL and that
// every event is known. Whether the URL's host is private is decided when
// connecting, after DNS (see httpclient).
func (c Config) Validate() error {
	if err := validateURL(c.URL); err != nil {
		return err
	}
	for _, e := range c.Events {
		if !slices.Contains(Events, e) {
			return fmt.Errorf("webhook: unknown event %q, want one of %s", e, strings.Join(Events, ", "))
		}
	}
	return nil
}

func validateURL(raw string) error {
	if raw == "" {
		return errors.New("webhook: url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("webhook: url %s cannot be parsed", httpclient.Redact(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("webhook: url scheme %q, want http or https", u.Scheme)
	}
	if u.Hostname() == "" {
		return errors.New("webhook: url has no host")
	}
	return nil
}

// wants reports whether the webhook subscribed to event.
func (c Config) wants(event string) bool {
	return len(c.Events) == 0 || slices.Contains(c.Events, event)
}

// String shows the config without the secret or the URL's user info, path
// and query (which often carry tokens).
func (c Config) String() string {
	secret := ""
	if c.Secret != "" {
		secret = "(redacted)"
	}
	events := "all"
	if len(c.Events) > 0 {
		events = strings.Join(c.Events, ",")
	}
	return fmt.Sprintf("webhook{url=%s secret=%s events=%s}", httpclient.Redact(c.URL), secret, events)
}

// GoString keeps %#v from printing the secret.
func (c Config) GoString() string { return c.String() }
