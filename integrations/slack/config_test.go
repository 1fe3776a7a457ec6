package slack

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "bot token", cfg: Config{BotToken: testToken, DefaultChannel: "#ops"}},
		{name: "bot token without channel", cfg: Config{BotToken: testToken}},
		{name: "webhook", cfg: Config{WebhookURL: "https://hooks.slack.com" + testWebhookPath, SigningSecret: testSigning}},
		{name: "neither", cfg: Config{DefaultChannel: "#ops"}, wantErr: "required"},
		{name: "both", cfg: Config{BotToken: testToken, WebhookURL: "https://hooks.slack.com" + testWebhookPath}, wantErr: "not both"},
		{name: "token with space", cfg: Config{BotToken: testToken + " "}, wantErr: "white space"},
		{name: "channel with space", cfg: Config{BotToken: testToken, DefaultChannel: "#o ps"}, wantErr: "default_channel"},
		{name: "webhook not a URL", cfg: Config{WebhookURL: "hooks.slack.com" + testWebhookPath}, wantErr: "not an http(s) URL"},
		{name: "webhook without path", cfg: Config{WebhookURL: "https://hooks.slack.com/"}, wantErr: "no path"},
		{name: "webhook ftp", cfg: Config{WebhookURL: "ftp://hooks.slack.com" + testWebhookPath}, wantErr: "not an http(s) URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.cfg.Validate()
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, c.wantErr)
			}
			if err != nil {
				for _, s := range []string{testToken, testWebhookPath} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q reveals a secret", err)
					}
				}
			}
		})
	}
}

func TestConfig_String(t *testing.T) {
	t.Parallel()
	cfgs := []Config{
		{BotToken: testToken, SigningSecret: testSigning, DefaultChannel: "#ops"},
		{WebhookURL: "https://hooks.slack.com" + testWebhookPath, SigningSecret: testSigning},
	}
	for _, cfg := range cfgs {
		t.Run(cfg.mode(), func(t *testing.T) {
			t.Parallel()
			var logged bytes.Buffer
			slog.New(slog.NewTextHandler(&logged, nil)).Info("integration", "slack", cfg)
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("integration", "slack", cfg)
			outputs := map[string]string{
				"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "%#v": fmt.Sprintf("%#v", cfg),
				"%s": fmt.Sprintf("%s", cfg), "pointer": fmt.Sprintf("%v", &cfg), "slog": logged.String(),
			}
			for how, out := range outputs {
				for _, s := range []string{testToken, testSigning, testWebhookPath} {
					if strings.Contains(out, s) {
						t.Errorf("%s prints a secret: %s", how, out)
					}
				}
				if !strings.Contains(out, "REDACTED") {
					t.Errorf("%s does not say the secrets are redacted: %s", how, out)
				}
			}
			if !strings.Contains(outputs["slog"], "mode=") {
				t.Errorf("slog output lacks the fields: %s", outputs["slog"])
			}
		})
	}
}

func TestNormalizeAPIURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"", DefaultAPIURL},
		{"https://slack.com/api/", "https://slack.com/api/"},
		{"http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api/"},
		{"slack.com/api/", ""},
		{"https://user:pw@slack.com/api/", ""},
		{"https://slack.com/api/?x=1", ""},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeAPIURL(c.in)
			if (err != nil) != (c.want == "") || got != c.want {
				t.Errorf("NormalizeAPIURL(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}
