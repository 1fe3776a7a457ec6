// Package providers puts the service packages together: for each provider
// name of INTERFACES.md (slack, github, trello, email, webhook) it says
// which settings exist and which are secret, validates them with the
// service's own Config, and builds its Notifier against the configured API
// base and the one outgoing HTTP client.
package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/github"
	"github.com/tocsin/tocsin/integrations/httpclient"
	"github.com/tocsin/tocsin/integrations/slack"
	"github.com/tocsin/tocsin/integrations/trello"
	"github.com/tocsin/tocsin/integrations/webhook"
)

// Options are the deployment's settings that providers need.
type Options struct {
	SlackAPIURL          string
	GitHubAPIURL         string
	TrelloAPIURL         string
	AllowPrivateWebhooks bool
	// SMTP and MailFrom configure email; SMTP nil means email is off.
	SMTP     *email.SMTP
	MailFrom string
	// InstallationUUID identifies this Tocsin in webhook bodies.
	InstallationUUID string
}

// New returns the providers by name.
func New(o Options) map[string]*integrations.Provider {
	// Services Tocsin is configured for (Slack, GitHub, Trello) are reached
	// with a plain client; webhooks, whose URLs users type, go through the
	// guard against private addresses.
	services := httpclient.New(httpclient.Options{Timeout: time.Minute, AllowPrivate: true})
	webhooks := httpclient.New(httpclient.Options{Timeout: time.Minute, AllowPrivate: o.AllowPrivateWebhooks})
	out := map[string]*integrations.Provider{
		"slack": {
			Name:    "slack",
			Digests: true,
			Fields: append([]integrations.Field{{Name: "bot_token", Secret: true}, {Name: "webhook_url", Secret: true},
				{Name: "signing_secret", Secret: true}, {Name: "default_channel"}}, integrations.DeliveryFields...),
			Validate: func(c, s map[string]any) error {
				if err := integrations.ValidateDelivery(c); err != nil {
					return err
				}
				return validate[slack.Config](c, s)
			},
			Build: func(c, s map[string]any) (integrations.Notifier, error) {
				cfg, err := decode[slack.Config](c, s)
				if err != nil {
					return nil, err
				}
				// An incoming-webhook URL is typed by users, like a
				// webhook's: it goes through the guard.
				client := services
				if cfg.WebhookURL != "" {
					client = webhooks
				}
				return slack.New(cfg, o.SlackAPIURL, client)
			},
			Check: func(ctx context.Context, n integrations.Notifier) error { return n.(*slack.Notifier).Check(ctx) },
		},
		"github": {
			Name: "github",
			Fields: []integrations.Field{{Name: "token", Secret: true, Required: true}, {Name: "owner", Required: true},
				{Name: "repo", Required: true}, {Name: "labels", List: true}, {Name: "webhook_secret", Secret: true}},
			Validate: func(c, s map[string]any) error { return validate[github.Config](c, s) },
			Build: func(c, s map[string]any) (integrations.Notifier, error) {
				cfg, err := decode[github.Config](c, s)
				if err != nil {
					return nil, err
				}
				cfg.Installation = o.InstallationUUID
				return github.New(cfg, o.GitHubAPIURL, services)
			},
			Check:     func(ctx context.Context, n integrations.Notifier) error { return n.(*github.Notifier).Check(ctx) },
			PerTarget: true,
		},
		"trello": {
			Name: "trello",
			Fields: []integrations.Field{{Name: "api_key", Required: true}, {Name: "token", Secret: true, Required: true},
				{Name: "board_id"}, {Name: "list_id", Required: true}, {Name: "resolved_list_id"},
				{Name: "webhook_secret", Secret: true}, {Name: "language"}, {Name: "timezone"}},
			Validate: func(c, s map[string]any) error {
				if err := integrations.ValidateLanguage(c); err != nil {
					return err
				}
				return validate[trello.Config](c, s)
			},
			Build: func(c, s map[string]any) (integrations.Notifier, error) {
				cfg, err := decode[trello.Config](c, s)
				if err != nil {
					return nil, err
				}
				cfg.Installation = o.InstallationUUID
				return trello.New(cfg, o.TrelloAPIURL, services)
			},
			Check: func(ctx context.Context, n integrations.Notifier) error { return n.(*trello.Notifier).Check(ctx) },
		},
		"webhook": {
			Name: "webhook",
			Fields: []integrations.Field{{Name: "url", Required: true}, {Name: "secret", Secret: true},
				{Name: "events", List: true}},
			Validate: func(c, s map[string]any) error { return validate[webhook.Config](c, s) },
			Build: func(c, s map[string]any) (integrations.Notifier, error) {
				cfg, err := decode[webhook.Config](c, s)
				if err != nil {
					return nil, err
				}
				return webhook.New(cfg, webhooks, o.InstallationUUID)
			},
			PerTarget: true,
		},
		// sentry is the bridge from an existing Sentry server: it only takes
		// webhooks in (POST /webhooks/sentry/{id}) and sends nothing.
		"sentry": {
			Name: "sentry",
			Fields: []integrations.Field{{Name: "client_secret", Secret: true, Required: true},
				{Name: "project", Required: true}},
			Validate: func(c, s map[string]any) error {
				if p, _ := c["project"].(string); p == "" {
					return fmt.Errorf("project: name the Tocsin project that mirrors the Sentry issues")
				}
				if cs, _ := s["client_secret"].(string); len(cs) < 16 {
					return fmt.Errorf("client_secret: the Sentry integration's client secret is required")
				}
				return nil
			},
		},
		"email": {
			Name:    "email",
			Digests: true,
			Fields:  append([]integrations.Field{{Name: "to", List: true, Required: true}}, integrations.DeliveryFields...),
			Validate: func(c, _ map[string]any) error {
				if err := integrations.ValidateDelivery(c); err != nil {
					return err
				}
				if o.SMTP == nil {
					return fmt.Errorf("email needs TOCSIN_SMTP_URL and TOCSIN_MAIL_FROM")
				}
				to, _ := c["to"].([]any)
				if len(to) == 0 {
					return fmt.Errorf("to: give at least one address")
				}
				return nil
			},
			Build: func(c, _ map[string]any) (integrations.Notifier, error) {
				n, err := Email(o)
				if err != nil {
					return nil, err
				}
				list, _ := c["to"].([]any)
				if len(list) == 0 {
					return nil, fmt.Errorf("to: give at least one address")
				}
				var to []string
				for _, v := range list {
					to = append(to, fmt.Sprint(v))
				}
				return withDefaultTarget(n, strings.Join(to, ",")), nil
			},
		},
	}
	return out
}

// Email is the built-in email notifier of TOCSIN_SMTP_URL; an error when
// email is not configured.
func Email(o Options) (integrations.Notifier, error) {
	if o.SMTP == nil {
		return nil, fmt.Errorf("email needs TOCSIN_SMTP_URL and TOCSIN_MAIL_FROM")
	}
	return email.New(*o.SMTP, o.MailFrom)
}

// withDefaultTarget sends to the integration's addresses when the rule
// names none.
func withDefaultTarget(n integrations.Notifier, target string) integrations.Notifier {
	return integrations.NotifierFunc(func(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
		if note.Target == "" {
			c := *note
			c.Target = target
			note = &c
		}
		return n.Notify(ctx, note)
	})
}

// validator is a service Config that checks itself.
type validator interface{ Validate() error }

// decode reads the settings into the service's Config through its JSON
// field names, which are the API's.
func decode[C any](config, secrets map[string]any) (C, error) {
	var cfg C
	all := map[string]any{}
	for k, v := range config {
		all[k] = v
	}
	for k, v := range secrets {
		all[k] = v
	}
	b, err := json.Marshal(all)
	if err != nil {
		return cfg, fmt.Errorf("settings: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("settings: %w", err)
	}
	return cfg, nil
}

func validate[C any](config, secrets map[string]any) error {
	cfg, err := decode[C](config, secrets)
	if err != nil {
		return err
	}
	if v, ok := any(cfg).(validator); ok {
		return v.Validate()
	}
	if v, ok := any(&cfg).(validator); ok {
		return v.Validate()
	}
	return nil
}
