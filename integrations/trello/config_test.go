package trello

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations/trello/trellotest"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	good := Config{APIKey: trellotest.Key, Token: trellotest.Token, BoardID: "5e0000000000000000000001", ListID: trellotest.ListID, ResolvedListID: trellotest.ResolvedListID, WebhookSecret: "s3cr3t"}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string // in the error; "" for none
	}{
		{"good", func(*Config) {}, ""},
		{"board short link", func(c *Config) { c.BoardID = "AbCd1234" }, ""},
		{"minimal", func(c *Config) {
			*c = Config{APIKey: trellotest.Key, Token: trellotest.Token, ListID: trellotest.ListID}
		}, ""},
		{"no key", func(c *Config) { c.APIKey = "" }, "api_key is required"},
		{"no token", func(c *Config) { c.Token = "" }, "token is required"},
		{"token with a space", func(c *Config) { c.Token = "a b" }, "token contains"},
		{"no list", func(c *Config) { c.ListID = "" }, "list_id is required"},
		{"list name", func(c *Config) { c.ListID = "To Do" }, "list_id"},
		{"resolved list url", func(c *Config) { c.ResolvedListID = "https://trello.com/b/x" }, "resolved_list_id"},
		{"board path", func(c *Config) { c.BoardID = "../me" }, "board_id"},
		{"everything", func(c *Config) { *c = Config{} }, "api_key is required\ntrello: token is required\ntrello: list_id is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), trellotest.Token) {
				t.Errorf("error %q reveals the token", err)
			}
		})
	}
}

func TestConfig_redacted(t *testing.T) {
	t.Parallel()
	c := Config{APIKey: trellotest.Key, Token: trellotest.Token, ListID: trellotest.ListID, WebhookSecret: "whsec-0f9e8d7c6b5a"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("integration", "trello", c)
	for name, s := range map[string]string{
		"String":   c.String(),
		"%v":       fmt.Sprintf("%v", c),
		"%+v":      fmt.Sprintf("%+v", c),
		"%#v":      fmt.Sprintf("%#v", c),
		"LogValue": logged.String(),
	} {
		if strings.Contains(s, trellotest.Token) || strings.Contains(s, c.WebhookSecret) {
			t.Errorf("%s reveals a secret: %s", name, s)
		}
		if !strings.Contains(s, trellotest.Key) || !strings.Contains(s, trellotest.ListID) {
			t.Errorf("%s hides the key or list, which are not secret: %s", name, s)
		}
	}
}
