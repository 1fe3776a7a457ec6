package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/tocsin/tocsin/store/storetest"
)

// ingestTarget is where a first run's DSN sends events.
type ingestTarget struct {
	dsn       string
	key       string
	projectID string
}

// firstRun starts `tocsin run` on the fresh store environ names and
// returns the process and the DSN it printed.
func firstRun(t *testing.T, dir string, environ []string) (*process, ingestTarget) {
	t.Helper()
	s := start(t, dir, environ)
	// The banner may still be being printed when /_health/ answers.
	deadline := time.After(time.Minute)
	m := dsnRE.FindStringSubmatch(s.stdout.String())
	for m == nil {
		select {
		case <-s.done:
			t.Fatalf("tocsin exited before printing its DSN:\n%s", s.stdout)
		case <-deadline:
			t.Fatalf("no DSN in the first run's output:\n%s", s.stdout)
		case <-time.After(10 * time.Millisecond):
		}
		m = dsnRE.FindStringSubmatch(s.stdout.String())
	}
	u, err := url.Parse(m[1])
	if err != nil || u.User == nil {
		t.Fatalf("DSN %q: %v", m[1], err)
	}
	return s, ingestTarget{dsn: m[1], key: u.User.Username(), projectID: strings.Trim(u.Path, "/")}
}

// kill ends the process with SIGKILL, so that nothing is flushed or
// committed on the way out, and waits for it to be gone.
func (s *process) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatal("tocsin did not die after SIGKILL")
	}
}

// postEvent sends one event in an envelope and returns the status and the
// id answered.
func postEvent(client *http.Client, base string, target ingestTarget, eventID string) (int, string, error) {
	payload, _ := json.Marshal(map[string]any{"event_id": eventID, "level": "error", "platform": "go",
		"message": "durable event " + eventID})
	body := fmt.Sprintf("{\"event_id\":%q}\n{\"type\":\"event\",\"length\":%d}\n%s\n", eventID, len(payload), payload)
	req, err := http.NewRequest(http.MethodPost, base+"/api/"+target.projectID+"/envelope/", strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("X-Sentry-Auth", "Sentry sentry_key="+target.key+", sentry_version=7")
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, "", err
	}
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out.ID, nil
}

func randomEventID(t *testing.T) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// sdkAnswers is the Sentry SDK's HTTP transport: it keeps the answers the
// SDK got, so that the test knows the 200 has arrived.
type sdkAnswers struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
}

func (a *sdkAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	a.mu.Lock()
	a.statuses = append(a.statuses, resp.StatusCode)
	a.bodies = append(a.bodies, string(b))
	a.mu.Unlock()
	return resp, nil
}

// TestRun_AcknowledgedEventsSurviveSIGKILL checks the promise of DESIGN.md:
// an event answered 200 is in the store even when the process is killed
// at once, with no chance to flush anything. The process is killed with
// SIGKILL as soon as the answer arrives, then started again on the same
// store, and the event must be there.
func TestRun_AcknowledgedEventsSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			admin := []string{"TOCSIN_ADMIN_EMAIL=ops@example.com", "TOCSIN_ADMIN_PASSWORD=correct-horse"}

			t.Run("one event from the Go SDK", func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				environ := append(engineEnv(t, e), admin...)
				s, target := firstRun(t, dir, environ)
				dsn := target.dsn
				answers := &sdkAnswers{}
				client, err := sentry.NewClient(sentry.ClientOptions{Dsn: dsn,
					Transport: sentry.NewHTTPSyncTransport(), HTTPTransport: answers})
				if err != nil {
					t.Fatalf("sentry-go rejects DSN %s: %v", dsn, err)
				}
				defer client.Close()
				hub := sentry.NewHub(client, sentry.NewScope())
				id := hub.CaptureMessage("acknowledged just before SIGKILL")
				// The synchronous transport returns once the answer is in.
				s.kill(t)
				if id == nil || len(answers.statuses) != 1 || answers.statuses[0] != http.StatusOK ||
					strings.TrimSpace(answers.bodies[0]) != `{"id":"`+string(*id)+`"}` {
					t.Fatalf("the SDK got %v %q for event %v, want 200 with its id", answers.statuses, answers.bodies, id)
				}

				again := start(t, dir, environ)
				tok := token(t, dir, environ)
				if code := api(t, "GET", again.base+"/api/0/projects/default/default/events/"+string(*id)+"/", tok, nil, nil); code != http.StatusOK {
					t.Errorf("acknowledged event %s after SIGKILL and restart: GET answered %d", *id, code)
				}
			})

			t.Run("a burst of 50 concurrent events", func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				environ := append(engineEnv(t, e), admin...)
				s, target := firstRun(t, dir, environ)
				const n = 50
				var (
					wg       sync.WaitGroup
					finished atomic.Int32
					mu       sync.Mutex
					acked    []string
					failures []string
				)
				client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
				for range n {
					id := randomEventID(t)
					wg.Go(func() {
						status, got, err := postEvent(client, s.base, target, id)
						// Whoever gets the last answer kills the process at once.
						if finished.Add(1) == n {
							_ = s.cmd.Process.Kill()
						}
						mu.Lock()
						defer mu.Unlock()
						if err != nil || status != http.StatusOK || got != id {
							failures = append(failures, fmt.Sprintf("%s: %d %q %v", id, status, got, err))
							return
						}
						acked = append(acked, id)
					})
				}
				wg.Wait()
				s.kill(t)
				// The server was healthy until the last answer: every event
				// should have been taken.
				if len(failures) > 0 {
					t.Errorf("%d of %d events not acknowledged before the kill:\n%s", len(failures), n, strings.Join(failures, "\n"))
				}

				again := start(t, dir, environ)
				tok := token(t, dir, environ)
				var lost []string
				for _, id := range acked {
					if code := api(t, "GET", again.base+"/api/0/projects/default/default/events/"+id+"/", tok, nil, nil); code != http.StatusOK {
						lost = append(lost, fmt.Sprintf("%s (GET answered %d)", id, code))
					}
				}
				if len(lost) > 0 {
					t.Errorf("%d of %d acknowledged events lost after SIGKILL:\n%s", len(lost), len(acked), strings.Join(lost, "\n"))
				}
			})
		})
	}
}

// token creates an API token for the first run's admin with the CLI.
func token(t *testing.T, dir string, environ []string) string {
	t.Helper()
	out, stderr, code := tocsin(t, dir, environ, "token", "create", "--user", "ops@example.com")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	return strings.TrimSpace(out)
}
