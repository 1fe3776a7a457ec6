package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/store"
)

func TestCLI_ExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      []string
		args     []string
		code     int
		stderr   []string // all must appear
		unwanted string   // must not appear anywhere
	}{
		{name: "version", args: []string{"--version"}, code: 0},
		{name: "help", args: []string{"run", "--help"}, code: 0},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: []string{"frobnicate"}},
		{name: "unknown flag", args: []string{"run", "--nope"}, code: 2, stderr: []string{"--nope"}},
		{name: "bad role", args: []string{"run", "sideways"}, code: 2, stderr: []string{"sideways"}},
		{name: "createuser without email", args: []string{"createuser", "--password", "12345678"}, code: 2, stderr: []string{"--email"}},
		{name: "createuser short password", args: []string{"createuser", "--email", "a@example.com", "--password", "123"}, code: 2, stderr: []string{"password"}},
		{name: "token unknown scope", args: []string{"token", "create", "--user", "a@example.com", "--scope", "root:all"}, code: 2, stderr: []string{"root:all"}},
		{name: "token unknown user", args: []string{"token", "create", "--user", "nobody@example.com"}, code: 1, stderr: []string{"nobody@example.com"}},
		{name: "bad port", env: []string{"TOCSIN_ADDR=127.0.0.1:99999"}, args: []string{"run"}, code: 2, stderr: []string{"TOCSIN_ADDR", "99999"}},
		{name: "bad log format", env: []string{"TOCSIN_LOG_FORMAT=xml"}, args: []string{"run"}, code: 2, stderr: []string{"TOCSIN_LOG_FORMAT"}},
		{
			name: "unreachable store", args: []string{"run"}, code: 1,
			env:      []string{"TOCSIN_DATABASE_URL=postgres://tocsin:hunter2@127.0.0.1:1/tocsin?connect_timeout=5"},
			stderr:   []string{"127.0.0.1:1", "tocsin:xxxxx@", "connect"},
			unwanted: "hunter2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			stdout, stderr, code := tocsin(t, dir, env(tt.env...), tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q does not mention %q", stderr, want)
				}
			}
			if tt.code != 0 {
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if last := lines[len(lines)-1]; !strings.HasPrefix(last, "tocsin: ") {
					t.Errorf("the error is not one line starting with \"tocsin: \": %q", stderr)
				}
			}
			if tt.unwanted != "" && strings.Contains(stdout+stderr, tt.unwanted) {
				t.Errorf("output reveals %q: %s %s", tt.unwanted, stdout, stderr)
			}
		})
	}
}

func TestCLI_InitUpgradeCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	out, stderr, code := tocsin(t, dir, env(), "init", site)
	if code != 0 || !strings.Contains(out, "tocsin.toml") {
		t.Fatalf("init: %d %s %s", code, out, stderr)
	}
	conf := filepath.Join(site, "tocsin.toml")
	if _, stderr, code := tocsin(t, dir, env(), "init", site); code != 1 || !strings.Contains(stderr, "overwrite") {
		t.Errorf("second init: %d %s", code, stderr)
	}
	// Before the migrations, check says what to do and fails.
	out, _, code = tocsin(t, dir, env(), "--config", conf, "check")
	if code != 1 || !strings.Contains(out, "tocsin upgrade") {
		t.Errorf("check before upgrade: %d\n%s", code, out)
	}
	for range 2 { // upgrade is idempotent
		out, stderr, code = tocsin(t, dir, env(), "--config", conf, "upgrade", "--noinput")
		if code != 0 || !strings.Contains(out, "schema version") {
			t.Fatalf("upgrade: %d %s %s", code, out, stderr)
		}
	}
	out, _, code = tocsin(t, dir, env(), "--config", conf, "check")
	if code != 0 || !strings.Contains(out, "ok    store") || !strings.Contains(out, conf) {
		t.Errorf("check after upgrade: %d\n%s", code, out)
	}
	// The data dir of a config file is beside it, whatever the working directory.
	if _, err := os.Stat(filepath.Join(site, "tocsin-data", "tocsin.db")); err != nil {
		t.Errorf("store not beside the config file: %v", err)
	}
}

// fakeSMTP is a minimal SMTP server: it greets, answers 250 to everything
// and 221 to QUIT; enough for the connection check.
func fakeSMTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				w := bufio.NewWriter(c)
				r := bufio.NewReader(c)
				w.WriteString("220 fake.test ESMTP\r\n")
				w.Flush()
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case strings.HasPrefix(cmd, "EHLO"):
						w.WriteString("250-fake.test\r\n250 8BITMIME\r\n")
					case strings.HasPrefix(cmd, "QUIT"):
						w.WriteString("221 bye\r\n")
						w.Flush()
						return
					default:
						w.WriteString("250 ok\r\n")
					}
					w.Flush()
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestCLI_CheckSMTP(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, _, code := tocsin(t, dir, env(), "upgrade", "--noinput"); code != 0 {
		t.Fatal("upgrade failed")
	}
	good := env("TOCSIN_SMTP_URL=smtp://"+fakeSMTP(t)+"?tls=none", "TOCSIN_MAIL_FROM=tocsin@example.com")
	if out, _, code := tocsin(t, dir, good, "check"); code != 0 || !strings.Contains(out, "ok    smtp") {
		t.Errorf("check with a working SMTP server: %d\n%s", code, out)
	}
	bad := env("TOCSIN_SMTP_URL=smtp://user:s3cr3t@"+freeAddr(t)+"?tls=none", "TOCSIN_MAIL_FROM=tocsin@example.com")
	out, stderr, code := tocsin(t, dir, bad, "check")
	if code != 1 || !strings.Contains(out, "FAIL  smtp") {
		t.Errorf("check with no SMTP server: %d\n%s", code, out)
	}
	if strings.Contains(out+stderr, "s3cr3t") {
		t.Errorf("check printed the SMTP password:\n%s%s", out, stderr)
	}
}

func TestCLI_TokensAndRoles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	environ := env("TOCSIN_ADMIN_EMAIL=owner@example.com", "TOCSIN_ADMIN_PASSWORD=correct-horse")
	s := start(t, dir, environ)
	if out, stderr, code := tocsin(t, dir, environ, "createuser", "--email", "dev@example.com", "--password", "dev-password",
		"--org", "default", "--role", "member"); code != 0 {
		t.Fatalf("createuser: %d %s %s", code, out, stderr)
	}
	if _, stderr, code := tocsin(t, dir, environ, "createuser", "--email", "DEV@example.com", "--password", "dev-password"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("duplicate createuser: %d %s", code, stderr)
	}
	token := func(args ...string) string {
		out, stderr, code := tocsin(t, dir, environ, append([]string{"token", "create"}, args...)...)
		if code != 0 {
			t.Fatalf("token create %v: %d %s", args, code, stderr)
		}
		return strings.TrimSpace(out)
	}
	member := token("--user", "dev@example.com")
	readOnly := token("--user", "owner@example.com", "--scope", "project:read,org:read")
	owner := token("--user", "owner@example.com")

	keys := s.base + "/api/0/projects/default/default/keys/"
	newProject := s.base + "/api/0/teams/default/default/projects/"
	for _, c := range []struct {
		name, method, url, token string
		body                     any
		want                     int
	}{
		{"member reads keys", "GET", keys, member, nil, 200},
		{"member cannot create a project", "POST", newProject, member, map[string]string{"name": "m"}, 403},
		{"read-only token reads keys", "GET", keys, readOnly, nil, 200},
		{"read-only token cannot add a key", "POST", keys, readOnly, map[string]string{}, 403},
		{"owner creates a project", "POST", newProject, owner, map[string]string{"name": "Backend"}, 201},
		{"no token", "GET", keys, "", nil, 401},
		{"bad token", "GET", keys, strings.Repeat("0", 64), nil, 401},
	} {
		if got := api(t, c.method, c.url, c.token, c.body, nil); got != c.want {
			t.Errorf("%s: %s %s = %d, want %d", c.name, c.method, c.url, got, c.want)
		}
	}
}

// TestCLI_UpgradeInteractive answers upgrade's superuser prompts on a real
// terminal, made by util-linux's script(1).
func TestCLI_UpgradeInteractive(t *testing.T) {
	t.Parallel()
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not found; it provides the terminal this test needs")
	}
	dir := t.TempDir()
	cmd := exec.Command(scriptBin, "-qfec", binary+" upgrade", "/dev/null")
	cmd.Dir, cmd.Env = dir, env()
	cmd.Stdin = strings.NewReader("y\nboss@example.com\nsupersecret\nsupersecret\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("upgrade on a terminal: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Created superuser boss@example.com") || !strings.Contains(string(out), "DSN: http://") {
		t.Fatalf("upgrade on a terminal printed:\n%s", out)
	}
	st, err := store.Open(context.Background(), store.Options{DataDir: filepath.Join(dir, "tocsin-data")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.UserAuthenticate(context.Background(), "boss@example.com", "supersecret"); err != nil {
		t.Errorf("the superuser made at the prompt cannot sign in: %v", err)
	}
	// With --noinput, or when the store has users, nothing is asked.
	cmd = exec.Command(scriptBin, "-qfec", binary+" upgrade --noinput", "/dev/null")
	cmd.Dir, cmd.Env = dir, env()
	if out, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(out), "superuser") {
		t.Errorf("upgrade --noinput: %v\n%s", err, out)
	}
}

func TestRun_JSONLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := start(t, dir, env("TOCSIN_LOG_FORMAT=json"))
	s.stop(t)
	lines := strings.Split(strings.TrimSpace(s.stderr.String()), "\n")
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["msg"] == nil || rec["level"] == nil {
			t.Errorf("log line is not a JSON record: %q", l)
		}
	}
	if len(lines) < 3 {
		t.Errorf("only %d log lines", len(lines))
	}
}
