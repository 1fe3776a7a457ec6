package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// binary is the tocsin binary built once for the tests that run it the way
// users do.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tocsin-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tocsin")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build tocsin:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe to read while the process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is a test environment for the binary: only what the test sets, plus
// PATH and HOME, so the developer's TOCSIN_* variables do not leak in.
func env(kv ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, kv...)
}

// tocsin runs a command to completion.
func tocsin(t *testing.T, dir string, environ []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir, cmd.Env = dir, environ
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("tocsin %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// process is a running tocsin process.
type process struct {
	cmd            *exec.Cmd
	base           string
	stdout, stderr *syncBuffer
	done           chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs `tocsin run …` and waits until /_health/ answers.
func start(t *testing.T, dir string, environ []string, args ...string) *process {
	t.Helper()
	s := launch(t, dir, environ, args...)
	s.waitHealthy(t)
	return s
}

// launch runs `tocsin run …` without waiting for it.
func launch(t *testing.T, dir string, environ []string, args ...string) *process {
	t.Helper()
	addr := freeAddr(t)
	s := &process{base: "http://" + addr, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(binary, append([]string{"run"}, args...)...)
	s.cmd.Dir = dir
	s.cmd.Env = append(environ, "TOCSIN_ADDR="+addr)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		if t.Failed() {
			t.Logf("tocsin stdout:\n%s\ntocsin stderr:\n%s", s.stdout, s.stderr)
		}
	})
	return s
}

// waitHealthy waits until the process answers /_health/ and has printed its banner.
func (s *process) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-s.done:
			t.Fatalf("tocsin exited early: %v\nstdout:\n%s\nstderr:\n%s", s.cmd.ProcessState, s.stdout, s.stderr)
		default:
		}
		resp, err := http.Get(s.base + "/_health/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(s.stdout.String(), "running") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tocsin did not become healthy\nstderr:\n%s", s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit code.
func (s *process) stop(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("tocsin did not stop after SIGTERM")
	}
	return s.cmd.ProcessState.ExitCode()
}

// api does an API request and decodes the JSON answer into out (when non-nil).
func api(t *testing.T, method, url, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, raw, err)
		}
	}
	return resp.StatusCode
}

var dsnRE = regexp.MustCompile(`DSN:\s+(\S+)`)

// engineEnv returns the environment selecting a fresh store on the engine.
func engineEnv(t *testing.T, e store.Engine) []string {
	return env("TOCSIN_DATABASE_URL="+storetest.DatabaseURL(t, e), "TOCSIN_DATA_DIR="+filepath.Join(t.TempDir(), "data"))
}
