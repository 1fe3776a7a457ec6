package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

func TestRun_FirstRunOnEachEngine(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			environ := append(engineEnv(t, e), "TOCSIN_ADMIN_EMAIL=ops@example.com", "TOCSIN_ADMIN_PASSWORD=correct-horse")
			s := start(t, dir, environ)
			out := s.stdout.String()
			m := dsnRE.FindStringSubmatch(out)
			if m == nil || !strings.Contains(out, "First run") || !strings.Contains(out, "ops@example.com") {
				t.Fatalf("first run printed:\n%s", out)
			}
			if strings.Contains(out, "correct-horse") || strings.Contains(out, "Password:") {
				t.Errorf("a configured password was printed:\n%s", out)
			}
			dsn := m[1]
			// The official Sentry Go SDK accepts the DSN.
			client, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsn})
			if err != nil {
				t.Fatalf("sentry-go rejects DSN %s: %v", dsn, err)
			}
			client.Close()
			u, _ := url.Parse(dsn)
			if "http://"+u.Host != s.base || len(u.User.Username()) != 32 {
				t.Errorf("DSN %s does not point at %s with a 32-hex key", dsn, s.base)
			}

			tok, stderr, code := tocsin(t, dir, environ, "token", "create", "--user", "ops@example.com")
			if code != 0 || strings.Count(tok, "\n") != 1 || len(strings.TrimSpace(tok)) != 64 {
				t.Fatalf("token create: code %d, stdout %q, stderr %q", code, tok, stderr)
			}
			tok = strings.TrimSpace(tok)
			var info struct {
				User struct{ Email string }
				Auth struct{ Scopes []string }
			}
			if code := api(t, "GET", s.base+"/api/0/", tok, nil, &info); code != 200 || info.User.Email != "ops@example.com" || len(info.Auth.Scopes) != len(store.AllScopes) {
				t.Errorf("GET /api/0/ with the new token: %d %+v", code, info)
			}
			var keys []struct{ DSN struct{ Public string } }
			if code := api(t, "GET", s.base+"/api/0/projects/default/default/keys/", tok, nil, &keys); code != 200 || len(keys) != 1 || keys[0].DSN.Public != dsn {
				t.Errorf("project keys: %d %+v, want the printed DSN %s", code, keys, dsn)
			}

			if code := s.stop(t); code != 0 {
				t.Errorf("exit code after SIGTERM = %d", code)
			}
			if !strings.Contains(s.stderr.String(), "stopped") {
				t.Errorf("no clean stop in the log:\n%s", s.stderr)
			}

			again := start(t, dir, environ)
			out = again.stdout.String()
			if strings.Contains(out, "DSN") || strings.Contains(out, "First run") || !strings.Contains(out, again.base) {
				t.Errorf("second start printed:\n%s", out)
			}
			again.stop(t)
		})
	}
}

func TestRun_DefaultsWithGeneratedPassword(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := start(t, dir, env())
	out := s.stdout.String()
	m := regexpFind(`Password: (\S+)`, out)
	if m == "" || !strings.Contains(out, store.DefaultAdminEmail) {
		t.Fatalf("first run without admin settings printed:\n%s", out)
	}
	s.stop(t)
	st, err := store.Open(context.Background(), store.Options{DataDir: filepath.Join(dir, "tocsin-data")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.UserAuthenticate(context.Background(), store.DefaultAdminEmail, m); err != nil {
		t.Errorf("the printed password does not sign in: %v", err)
	}
	if _, _, code := tocsin(t, dir, env(), "check"); code != 0 {
		t.Errorf("check after first run exited %d", code)
	}
}

func TestRun_ScaledShapeOnPostgres(t *testing.T) {
	t.Parallel()
	dbURL := storetest.DatabaseURL(t, store.Postgres)
	environ := env("TOCSIN_DATABASE_URL="+dbURL, "TOCSIN_SECRET_KEY="+strings.Repeat("k", 40))
	// Three processes find the same empty store at once.
	procs := []*process{
		launch(t, t.TempDir(), environ, "web"),
		launch(t, t.TempDir(), environ, "worker"),
		launch(t, t.TempDir(), environ, "web"),
	}
	firstRuns := 0
	for _, p := range procs {
		p.waitHealthy(t)
		if strings.Contains(p.stdout.String(), "First run") {
			firstRuns++
		}
	}
	if firstRuns != 1 {
		t.Fatalf("%d processes bootstrapped the store, want exactly 1", firstRuns)
	}
	web, wk := procs[0], procs[1]
	var h struct {
		Status    string
		Store     struct{ Engine string }
		Processes []struct{ Role string }
	}
	if code := api(t, "GET", web.base+"/_health/?full", "", nil, &h); code != 200 || h.Status != "ok" || h.Store.Engine != "postgres" {
		t.Fatalf("health: %d %+v", code, h)
	}
	roles := map[string]int{}
	for _, p := range h.Processes {
		roles[p.Role]++
	}
	if roles["web"] != 2 || roles["worker"] != 1 {
		t.Errorf("health lists processes %v, want 2 web and 1 worker", roles)
	}
	// A worker serves only health and metrics.
	if code := api(t, "GET", wk.base+"/api/0/", "", nil, nil); code != http.StatusNotFound {
		t.Errorf("worker /api/0/ = %d, want 404", code)
	}
	resp, err := http.Get(wk.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("worker /metrics = %d", resp.StatusCode)
	}
	for _, p := range procs {
		if code := p.stop(t); code != 0 {
			t.Errorf("exit code %d", code)
		}
	}
}

// TestRun_GracefulShutdown checks that SIGTERM lets a request in flight
// finish: the client has sent its headers and the handler is reading the
// body (the server said 100 Continue) when the signal arrives.
func TestRun_GracefulShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	environ := env("TOCSIN_ADMIN_EMAIL=ops@example.com", "TOCSIN_ADMIN_PASSWORD=correct-horse")
	s := start(t, dir, environ)
	tok, _, _ := tocsin(t, dir, environ, "token", "create", "--user", "ops@example.com")
	tok = strings.TrimSpace(tok)

	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"name": "Shutdown Test"}`
	fmt.Fprintf(conn, "POST /api/0/organizations/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", tok, len(body))
	rd := bufio.NewReader(conn)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("want 100 Continue, got %q, %v", line, err)
	}
	if _, err := rd.ReadString('\n'); err != nil { // the blank line after 100 Continue
		t.Fatal(err)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(s.stderr.String(), "finishing in-flight requests") {
		select {
		case <-s.done:
			t.Fatalf("process exited with a request in flight:\n%s", s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	// Shutdown has begun; the body sent now still gets its answer.
	fmt.Fprint(conn, body)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("in-flight request lost at shutdown: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("in-flight request answered %d, want 201", resp.StatusCode)
	}
	<-s.done
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	log := s.stderr.String()
	if !strings.Contains(log, "finishing in-flight requests") || !strings.Contains(log, "stopped") {
		t.Errorf("shutdown log:\n%s", log)
	}
}

func regexpFind(expr, s string) string {
	m := regexp.MustCompile(expr).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
