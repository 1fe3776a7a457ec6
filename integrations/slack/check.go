package slack

import (
	"context"

	"github.com/tocsin/tocsin/integrations"
)

// Check tells whether the integration can post, for `tocsin check` and
// the integration's status: auth.test with a bot token; with an incoming
// webhook, only the URL's shape (posting would show a message). Failures
// are classified as Notify's are.
// https://api.slack.com/methods/auth.test
func (n *Notifier) Check(ctx context.Context) error {
	if n.cfg.WebhookURL != "" {
		if err := validateWebhookURL(n.cfg.WebhookURL); err != nil {
			return &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
		}
		return nil
	}
	_, err := n.call(ctx, "auth.test", func(ctx context.Context, a *attempt) error {
		_, err := a.api.AuthTestContext(ctx)
		return err
	})
	return err
}
