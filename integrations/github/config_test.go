package github

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations/github/githubtest"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	ok := Config{Token: githubtest.Token, Owner: "octo-org", Repo: "my.app_2", Labels: []string{"bug", "from tocsin"}}
	for _, c := range []struct {
		name    string
		edit    func(*Config)
		wantErr string // "" for valid
	}{
		{name: "ok", edit: func(*Config) {}},
		{name: "enterprise login", edit: func(c *Config) { c.Owner = "jane_doe" }},
		{name: "no token", edit: func(c *Config) { c.Token = "" }, wantErr: "token is required"},
		{name: "token with a newline", edit: func(c *Config) { c.Token += "\nX-Evil: 1" }, wantErr: "control characters"},
		{name: "no owner", edit: func(c *Config) { c.Owner = "" }, wantErr: "want owner/repo"},
		{name: "no repo", edit: func(c *Config) { c.Repo = "" }, wantErr: "want owner/repo"},
		{name: "owner with a slash", edit: func(c *Config) { c.Owner = "a/b" }, wantErr: "bad repository name"},
		{name: "owner starting with a hyphen", edit: func(c *Config) { c.Owner = "-octo" }, wantErr: "not a GitHub login"},
		{name: "repo with a space", edit: func(c *Config) { c.Repo = "my app" }, wantErr: "bad repository name"},
		{name: "repo ..", edit: func(c *Config) { c.Repo = ".." }, wantErr: "bad repository name"},
		{name: "empty label", edit: func(c *Config) { c.Labels = []string{" "} }, wantErr: "label"},
		{name: "long label", edit: func(c *Config) { c.Labels = []string{strings.Repeat("x", 51)} }, wantErr: "label"},
		{name: "everything wrong", edit: func(c *Config) { *c = Config{} }, wantErr: "token is required\ngithub: repository \"/\": want owner/repo"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			cfg.Labels = append([]string(nil), ok.Labels...)
			c.edit(&cfg)
			err := cfg.Validate()
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("Validate: %v, want an error saying %q", err, c.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), githubtest.Token) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestConfig_String(t *testing.T) {
	t.Parallel()
	cfg := Config{Token: githubtest.Token, Owner: "octo", Repo: "app", Labels: []string{"bug"}, WebhookSecret: testWebhookSecret}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("integration", "github", cfg)
	for name, s := range map[string]string{
		"String": cfg.String(), "%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg), "pointer": fmt.Sprint(&cfg), "slog": logged.String(),
	} {
		for _, secret := range []string{githubtest.Token, testWebhookSecret} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows a secret: %s", name, s)
			}
		}
		if !strings.Contains(s, "octo") || !strings.Contains(s, "[redacted]") {
			t.Errorf("%s: %s", name, s)
		}
	}
}

func TestMergeLabels(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		extra   any
		want    string
		wantErr bool
	}{
		{extra: nil, want: "[tocsin]"},
		{extra: "bug, p1 ,,Tocsin", want: "[tocsin bug p1]"},
		{extra: []string{"bug"}, want: "[tocsin bug]"},
		{extra: []any{"bug", "p1"}, want: "[tocsin bug p1]"},
		{extra: []any{"bug", 3}, wantErr: true},
		{extra: 3, wantErr: true},
	} {
		got, err := mergeLabels([]string{"tocsin"}, c.extra)
		if (err != nil) != c.wantErr || err == nil && fmt.Sprint(got) != c.want {
			t.Errorf("mergeLabels(%#v) = %v, %v; want %s", c.extra, got, err, c.want)
		}
	}
}

func TestParseHandle(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"octo/app#12", "octo/app#12"},
		{" Octo/App#12 ", "octo/app#12"},
		{"https://github.com/Octo/App/issues/12", "octo/app#12"},
		{"https://ghe.example.com/octo/app/issues/12/", "octo/app#12"},
		{"https://github.com/octo/app/pull/12", ""},
		{"https://github.com/octo/app/issues/x", ""},
		{"octo/app", ""},
		{"12", ""},
		{"#12", ""},
		{"octo/app#0", ""},
		{"octo app#1", ""},
	} {
		got, err := ParseHandle(c.in)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("ParseHandle(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
