package slack

import (
	"context"
	"errors"
	"strings"

	"github.com/tocsin/tocsin/integrations"
)

// UserEmail returns the email address of a Slack user (users.info, which
// needs the users:read.email scope), so that a button press can be done
// as the Tocsin user with that address.
func (n *Notifier) UserEmail(ctx context.Context, userID string) (string, error) {
	if n.cfg.BotToken == "" {
		return "", &integrations.PermanentError{Reason: integrations.ReasonConfig,
			Err: errors.New("slack: an incoming webhook cannot look users up")}
	}
	var email string
	_, err := n.call(ctx, "users.info", func(ctx context.Context, a *attempt) error {
		u, err := a.api.GetUserInfoContext(ctx, userID)
		if err != nil {
			return err
		}
		email = strings.ToLower(strings.TrimSpace(u.Profile.Email))
		return nil
	})
	return email, err
}
