package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/store"
)

// TestCLI_CheckIntegrations runs `tocsin check` against a fake Slack whose
// auth.test accepts one token and refuses another.
func TestCLI_CheckIntegrations(t *testing.T) {
	t.Parallel()
	slackAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		tok := r.Form.Get("token")
		if tok == "" {
			tok = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/api/auth.test" || tok != "xoxb-good" {
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true,"team":"T","user":"tocsin","team_id":"T1","user_id":"U1"}`))
	}))
	defer slackAPI.Close()

	dir := t.TempDir()
	key := strings.Repeat("s", 40)
	environ := env("TOCSIN_SECRET_KEY="+key, "TOCSIN_SLACK_API_URL="+slackAPI.URL+"/api/")
	if _, stderr, code := tocsin(t, dir, environ, "upgrade", "--noinput"); code != 0 {
		t.Fatalf("upgrade: %s", stderr)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: filepath.Join(dir, "tocsin-data")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.BootstrapIfEmpty(ctx, &store.BootstrapParams{AdminPassword: "correct-horse"})
	if err != nil {
		t.Fatal(err)
	}
	box, err := integrations.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range []string{"xoxb-good", "xoxb-revoked"} {
		sec, _ := json.Marshal(map[string]string{"bot_token": tok})
		if _, err := st.IntegrationCreate(ctx, &store.Integration{OrganizationID: b.Organization.ID, Provider: "slack",
			Name: []string{"Ops Slack", "Old Slack"}[i], Config: `{"default_channel":"#ops"}`}, func(id int64) ([]byte, error) { return box.Seal(sec, id) }); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	out, stderr, code := tocsin(t, dir, environ, "check")
	if code != 1 || !strings.Contains(out, "ok    slack 1") || !strings.Contains(out, "FAIL  slack 2") ||
		!strings.Contains(out, "auth") || !strings.Contains(stderr, "1 of the checks failed") {
		t.Errorf("check: exit %d\n%s%s", code, out, stderr)
	}
	if strings.Contains(out+stderr, "xoxb-") {
		t.Errorf("check printed a token:\n%s%s", out, stderr)
	}
}
