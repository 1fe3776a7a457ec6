// Package slack delivers notifications to Slack through slack-go: with a
// bot token (chat.postMessage, threads, chat.update, buttons) or an
// incoming-webhook URL (post only). This file holds the integration's
// settings.
package slack

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"unicode"

	"github.com/slack-go/slack"
)

// DefaultAPIURL is Slack's Web API base, used when TOCSIN_SLACK_API_URL is
// empty.
const DefaultAPIURL = slack.APIURL

// Config is one Slack integration's settings (INTERFACES.md, provider
// "slack"). Exactly one of BotToken and WebhookURL is set. It prints
// without its secrets.
type Config struct {
	BotToken      string `json:"bot_token,omitempty"`      // xoxb-…, secret
	WebhookURL    string `json:"webhook_url,omitempty"`    // incoming webhook, secret
	SigningSecret string `json:"signing_secret,omitempty"` // verifies button clicks, secret
	// DefaultChannel is where notifications go when the rule action names
	// no channel; with a bot token one of the two is needed. Incoming
	// webhooks post to the channel they were made for.
	DefaultChannel string `json:"default_channel,omitempty"`
}

// Validate reports settings that cannot work. A missing channel is not one
// of them: rule actions may name theirs.
func (c Config) Validate() error {
	switch {
	case c.BotToken == "" && c.WebhookURL == "":
		return errors.New("slack: bot_token or webhook_url is required")
	case c.BotToken != "" && c.WebhookURL != "":
		return errors.New("slack: set bot_token or webhook_url, not both")
	case strings.IndexFunc(c.BotToken, unicode.IsSpace) >= 0:
		return errors.New("slack: bot_token contains white space")
	case strings.IndexFunc(c.SigningSecret, unicode.IsSpace) >= 0:
		return errors.New("slack: signing_secret contains white space")
	case strings.IndexFunc(c.DefaultChannel, unicode.IsSpace) >= 0 || len(c.DefaultChannel) > 81:
		return fmt.Errorf("slack: default_channel %q is not a channel name or id", c.DefaultChannel)
	}
	if c.WebhookURL != "" {
		return validateWebhookURL(c.WebhookURL)
	}
	return nil
}

// validateWebhookURL checks the shape of an incoming-webhook URL without
// saying what it is: the URL is the secret.
func validateWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return errors.New("slack: webhook_url is not an http(s) URL")
	}
	if strings.Trim(u.Path, "/") == "" {
		return errors.New("slack: webhook_url has no path")
	}
	return nil
}

// mode names how the integration posts.
func (c Config) mode() string {
	if c.WebhookURL != "" {
		return "webhook"
	}
	return "bot"
}

// String shows the settings with their secrets redacted.
func (c Config) String() string {
	return fmt.Sprintf("slack(%s, default_channel=%q, bot_token=%s, webhook_url=%s, signing_secret=%s)",
		c.mode(), c.DefaultChannel, redacted(c.BotToken), redacted(c.WebhookURL), redacted(c.SigningSecret))
}

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string { return c.String() }

// LogValue logs the settings with their secrets redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("mode", c.mode()),
		slog.String("default_channel", c.DefaultChannel),
		slog.String("bot_token", redacted(c.BotToken)),
		slog.String("webhook_url", redacted(c.WebhookURL)),
		slog.String("signing_secret", redacted(c.SigningSecret)),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return "unset"
	}
	return "REDACTED"
}

// NormalizeAPIURL checks TOCSIN_SLACK_API_URL, the Web API base with its
// trailing /api/ as slack.OptionAPIURL wants it (https://slack.com/api/),
// and adds a missing final slash; "" means DefaultAPIURL.
func NormalizeAPIURL(raw string) (string, error) {
	if raw == "" {
		return DefaultAPIURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return "", errors.New("slack: api url must be an http(s) URL such as https://slack.com/api/")
	}
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	return raw, nil
}
