package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSentryCLI drives Tocsin with the real sentry-cli, which .ci/run
// installs from the npm registry and names in TOCSIN_TEST_SENTRY_CLI.
func TestSentryCLI(t *testing.T) {
	t.Parallel()
	cli := os.Getenv("TOCSIN_TEST_SENTRY_CLI")
	if cli == "" {
		t.Skip("sentry-cli tests skipped: set TOCSIN_TEST_SENTRY_CLI to a sentry-cli binary (.ci/run installs one)")
	}
	dir := t.TempDir()
	environ := env("TOCSIN_ADMIN_EMAIL=ops@example.com", "TOCSIN_ADMIN_PASSWORD=correct-horse")
	s := start(t, dir, environ)
	tok, _, _ := tocsin(t, dir, environ, "token", "create", "--user", "ops@example.com")
	sentryCLI := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Env = env("SENTRY_URL="+s.base+"/", "SENTRY_AUTH_TOKEN="+strings.TrimSpace(tok), "SENTRY_LOG_LEVEL=warn")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sentry-cli %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := sentryCLI("info"); !strings.Contains(out, "ops@example.com") || !strings.Contains(out, "project:write") {
		t.Errorf("sentry-cli info:\n%s", out)
	}
	if out := sentryCLI("organizations", "list"); !strings.Contains(out, "default") {
		t.Errorf("sentry-cli organizations list:\n%s", out)
	}
	if out := sentryCLI("projects", "list", "--org", "default"); !strings.Contains(out, "| default") {
		t.Errorf("sentry-cli projects list:\n%s", out)
	}
}
