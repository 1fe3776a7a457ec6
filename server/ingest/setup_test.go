package ingest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/server"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/worker"
)

// The end-to-end tests of ingest run the whole server (server.New, all
// roles) on a free port over a real store on each engine, and talk to it
// over HTTP as SDKs and API clients do.

// fixture is a bootstrapped store: the first user with an organization, a
// team, a project and its key, and an API token with every scope.
type fixture struct {
	st    *store.Store
	boot  *store.Bootstrap
	token string
	// local, when set, is the hand-off of the server's ingest to a worker
	// in the same process, as `tocsin run` wires them.
	local *worker.Local
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	b, err := st.Setup(ctx, &store.BootstrapParams{AdminEmail: "ops@example.com", AdminPassword: "correct-horse-battery"})
	if err != nil || b == nil {
		t.Fatalf("bootstrap: %v (%v)", err, b)
	}
	tok, _, err := st.TokenCreate(ctx, b.User.ID, &store.TokenCreateParams{Name: "e2e", Scopes: store.AllScopes})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return &fixture{st: st, boot: b, token: tok}
}

// tocsinServer is a running server (all roles) over a fixture's store.
type tocsinServer struct {
	*fixture
	base   string // http://127.0.0.1:PORT: where it listens, and its BaseURL
	host   string // 127.0.0.1:PORT
	client *http.Client
}

// serve starts a server over the fixture's store. Its BaseURL must be the
// address it listens on, which is known only once it listens, so a free
// port is reserved first; should another process take it in between,
// Start fails and serve tries another.
func (f *fixture) serve(t *testing.T) *tocsinServer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	for attempt := 0; ; attempt++ {
		addr := freeAddr(t)
		cfg := server.Config{Addr: addr, BaseURL: "http://" + addr, Role: server.RoleAll, Version: "test"}
		if f.local != nil {
			cfg.Handoff = f.local
		}
		srv, err := server.New(cfg, f.st, prometheus.NewRegistry(), log)
		if err != nil {
			t.Fatalf("new server: %v", err)
		}
		if err := srv.Start(); err != nil {
			_ = srv.Stop(context.Background()) // ends ingest's writers
			if attempt < 5 {
				continue
			}
			t.Fatalf("start server: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Stop(ctx); err != nil {
				t.Errorf("stop server: %v", err)
			}
		})
		if got := srv.Addr().String(); got != addr {
			t.Fatalf("server listens on %s, want %s", got, addr)
		}
		return &tocsinServer{fixture: f, base: "http://" + addr, host: addr,
			client: &http.Client{Timeout: time.Minute}}
	}
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

// dsn is the key's DSN on this server, built from the listen address.
func (ts *tocsinServer) dsn(k *store.ProjectKey) string {
	return fmt.Sprintf("http://%s@%s/%d", k.Public, ts.host, k.ProjectID)
}

// api sends an API request with the fixture's token and decodes the JSON
// answer into out (when non-nil).
func (ts *tocsinServer) api(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, ts.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ts.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// reply is an ingest answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a raw request and reads the whole answer.
func (ts *tocsinServer) do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", req.Method, req.URL.Path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// ingestRequest builds a POST to the project's envelope or store endpoint
// ("envelope" or "store"), authenticated with public when it is not "".
func (ts *tocsinServer) ingestRequest(t *testing.T, endpoint string, projectID int64, public string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/%d/%s/", ts.base, projectID, endpoint), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if public != "" {
		req.Header.Set("X-Sentry-Auth", sentryAuth(public))
	}
	if endpoint == "envelope" {
		req.Header.Set("Content-Type", "application/x-sentry-envelope")
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func sentryAuth(public string) string {
	return "Sentry sentry_key=" + public + ", sentry_version=7, sentry_client=tocsin-test/1.0"
}

// newEventID returns a random event id, 32 lowercase hex digits.
func newEventID(t testing.TB) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// eventEnvelope frames an event payload as SDKs do: a header with the
// event id, an item header with the payload's length, the payload.
func eventEnvelope(eventID string, payload []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"event_id\":%q}\n{\"type\":\"event\",\"length\":%d}\n", eventID, len(payload))
	b.Write(payload)
	b.WriteByte('\n')
	return b.Bytes()
}

// messageEvent is a minimal event payload.
func messageEvent(eventID, message string) []byte {
	b, _ := json.Marshal(map[string]any{"event_id": eventID, "message": message, "level": "error", "platform": "go"})
	return b
}

// rejectedRE reads the per-reason counter of refused ingest requests.
var rejectedRE = regexp.MustCompile(`(?m)^tocsin_ingest_rejected_total\{reason="([a-z_]+)"\} (\S+)$`)

// rejected reads GET /metrics and returns tocsin_ingest_rejected_total by reason.
func (ts *tocsinServer) rejected(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := ts.client.Get(ts.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	out := map[string]float64{}
	for _, m := range rejectedRE.FindAllStringSubmatch(string(b), -1) {
		v, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("metric %s: %v", m[0], err)
		}
		out[m[1]] = v
	}
	return out
}

// apiEvent is the event JSON of the API, as far as these tests read it.
type apiEvent struct {
	ID      string `json:"id"`
	EventID string `json:"eventID"`
	GroupID string `json:"groupID"`
	Title   string `json:"title"`
	Tags    []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"tags"`
	User    map[string]any `json:"user"`
	Release *struct {
		Version string `json:"version"`
	} `json:"release"`
}

func (e *apiEvent) tag(key string) string {
	for _, t := range e.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// apiIssue is the issue JSON of the API, as far as these tests read it.
type apiIssue struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Level    string `json:"level"`
	Status   string `json:"status"`
	Count    string `json:"count"`
	Activity []struct {
		Type string `json:"type"`
	} `json:"activity"`
}

// event fetches an event of the default project by id.
func (ts *tocsinServer) event(t *testing.T, eventID string) *apiEvent {
	t.Helper()
	var e apiEvent
	if code := ts.api(t, http.MethodGet, "/api/0/projects/default/default/events/"+eventID+"/", nil, &e); code != http.StatusOK {
		t.Fatalf("GET event %s: %d", eventID, code)
	}
	if e.EventID != eventID || e.ID != eventID {
		t.Fatalf("GET event %s answered id %q, eventID %q", eventID, e.ID, e.EventID)
	}
	if e.GroupID == "" {
		t.Fatalf("event %s has no issue", eventID)
	}
	return &e
}

// issues lists every issue of the default project, whatever its status.
func (ts *tocsinServer) issues(t *testing.T) map[string]*apiIssue {
	t.Helper()
	var list []*apiIssue
	if code := ts.api(t, http.MethodGet, "/api/0/projects/default/default/issues/?query=&limit=100", nil, &list); code != http.StatusOK {
		t.Fatalf("list issues: %d", code)
	}
	out := map[string]*apiIssue{}
	for _, is := range list {
		out[is.ID] = is
	}
	return out
}

// listedIssue returns an issue as the project's issue list shows it.
func (ts *tocsinServer) listedIssue(t *testing.T, id string) *apiIssue {
	t.Helper()
	is := ts.issues(t)[id]
	if is == nil {
		t.Fatalf("issue %s is not in the project's issue list", id)
	}
	return is
}

// issue fetches an issue's details.
func (ts *tocsinServer) issue(t *testing.T, id string) *apiIssue {
	t.Helper()
	var is apiIssue
	if code := ts.api(t, http.MethodGet, "/api/0/issues/"+id+"/", nil, &is); code != http.StatusOK {
		t.Fatalf("GET issue %s: %d", id, code)
	}
	return &is
}

func (is *apiIssue) hasActivity(kind string) bool {
	for _, a := range is.Activity {
		if a.Type == kind {
			return true
		}
	}
	return false
}

// urlWithKey returns u with sentry_key=public in its query.
func urlWithKey(u, public string) string {
	p, _ := url.Parse(u)
	q := p.Query()
	q.Set("sentry_key", public)
	p.RawQuery = q.Encode()
	return p.String()
}
