package bench_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/bench"
	"github.com/tocsin/tocsin/envelope"
	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/grouping"
)

const testKey = "0123456789abcdef0123456789abcdef"

// fakeIngest is a Tocsin stand-in that checks every request is a gzip
// envelope with one event, and answers status.
type fakeIngest struct {
	t      *testing.T
	status int
	mu     sync.Mutex
	ids    map[string]bool
	bad    []string
}

func setup(t *testing.T, status int) (*fakeIngest, string) {
	t.Helper()
	f := &fakeIngest{t: t, status: status, ids: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, strings.Replace(srv.URL, "http://", "http://"+testKey+"@", 1) + "/42"
}

func (f *fakeIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, err := f.check(r)
	f.mu.Lock()
	switch {
	case err != nil:
		f.bad = append(f.bad, err.Error())
	case f.ids[id]:
		f.bad = append(f.bad, "event id "+id+" sent twice")
	}
	f.ids[id] = true
	f.mu.Unlock()
	w.WriteHeader(f.status)
	_, _ = fmt.Fprintf(w, `{"id":%q}`, id)
}

func (f *fakeIngest) check(r *http.Request) (string, error) {
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/api/42/envelope/":
		return "", fmt.Errorf("%s %s, want POST /api/42/envelope/", r.Method, r.URL.Path)
	case r.Header.Get("Content-Encoding") != "gzip":
		return "", fmt.Errorf("Content-Encoding %q", r.Header.Get("Content-Encoding"))
	case r.Header.Get("Content-Type") != "application/x-sentry-envelope":
		return "", fmt.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
	case !strings.Contains(r.Header.Get("X-Sentry-Auth"), "sentry_key="+testKey):
		return "", fmt.Errorf("X-Sentry-Auth %q", r.Header.Get("X-Sentry-Auth"))
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		return "", fmt.Errorf("gzip: %w", err)
	}
	env, err := envelope.Parse(zr, envelope.DefaultLimits())
	if err != nil {
		return "", fmt.Errorf("envelope: %w", err)
	}
	if len(env.Items) != 1 || env.Items[0].Type != "event" {
		return "", fmt.Errorf("envelope has %d items, want one event", len(env.Items))
	}
	var ev struct {
		EventID   string `json:"event_id"`
		Exception struct {
			Values []struct {
				Stacktrace struct {
					Frames []json.RawMessage `json:"frames"`
				} `json:"stacktrace"`
			} `json:"values"`
		} `json:"exception"`
	}
	if err := json.Unmarshal(env.Items[0].Payload, &ev); err != nil {
		return "", fmt.Errorf("event JSON: %w", err)
	}
	switch {
	case ev.EventID != env.Header.EventID || len(ev.EventID) != 32:
		return "", fmt.Errorf("event id %q, envelope header %q", ev.EventID, env.Header.EventID)
	case len(ev.Exception.Values) != 1 || len(ev.Exception.Values[0].Stacktrace.Frames) != 20:
		return "", fmt.Errorf("want one exception with 20 frames")
	}
	return ev.EventID, nil
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		rate        float64
		wantFailed  int
		wantLimited int
	}{
		{name: "closed loop, accepted", status: http.StatusOK},
		{name: "open loop, accepted", status: http.StatusOK, rate: 5000},
		{name: "rate limited is counted, not failed", status: http.StatusTooManyRequests, wantLimited: 40},
		{name: "server errors fail", status: http.StatusServiceUnavailable, wantFailed: 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, dsn := setup(t, tt.status)
			res, err := bench.Run(context.Background(), bench.Config{DSN: dsn, Concurrency: 4, Events: 40, Groups: 7, Rate: tt.rate})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.bad) > 0 {
				t.Fatalf("bad requests: %q", f.bad)
			}
			if len(f.ids) != 40 || res.Sent != 40 || len(res.Latencies) != 40 {
				t.Errorf("server saw %d events, result says %d sent, %d latencies; want 40", len(f.ids), res.Sent, len(res.Latencies))
			}
			if got := res.Failed(); got != tt.wantFailed {
				t.Errorf("Failed() = %d, want %d", got, tt.wantFailed)
			}
			if res.RateLimited != tt.wantLimited {
				t.Errorf("RateLimited = %d, want %d", res.RateLimited, tt.wantLimited)
			}
			if tt.wantFailed > 0 && res.Rejected[tt.status] != tt.wantFailed {
				t.Errorf("Rejected = %v, want %d of %d", res.Rejected, tt.wantFailed, tt.status)
			}
			if tt.status == http.StatusOK && res.Accepted != 40 {
				t.Errorf("Accepted = %d, want 40", res.Accepted)
			}
			var out strings.Builder
			res.Print(&out)
			if !strings.Contains(out.String(), "events/s") || !strings.Contains(out.String(), "p99") {
				t.Errorf("report lacks events/s or p99:\n%s", out.String())
			}
		})
	}
}

func TestRun_Duration(t *testing.T) {
	t.Parallel()
	f, dsn := setup(t, http.StatusOK)
	// 1000 events/s for 30 ms is 30 scheduled sends, whatever the machine.
	res, err := bench.Run(context.Background(), bench.Config{DSN: dsn, Concurrency: 2, Rate: 1000,
		Duration: 30 * time.Millisecond, Groups: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 30 || len(f.ids) != 30 {
		t.Errorf("sent %d, server saw %d; want 30", res.Sent, len(f.ids))
	}
}

func TestRun_Unreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	dsn := strings.Replace(srv.URL, "http://", "http://"+testKey+"@", 1) + "/1"
	srv.Close()
	res, err := bench.Run(context.Background(), bench.Config{DSN: dsn, Concurrency: 2, Events: 3, Groups: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 3 || res.Failed() != 3 || res.FirstError == "" {
		t.Errorf("errors %d, failed %d, first %q; want 3 connection errors", res.Errors, res.Failed(), res.FirstError)
	}
}

func TestRun_Config(t *testing.T) {
	t.Parallel()
	dsn := "http://" + testKey + "@127.0.0.1:1/1"
	tests := []struct {
		name string
		cfg  bench.Config
	}{
		{"no dsn", bench.Config{Concurrency: 1, Events: 1, Groups: 1}},
		{"no workers", bench.Config{DSN: dsn, Events: 1, Groups: 1}},
		{"no end", bench.Config{DSN: dsn, Concurrency: 1, Groups: 1}},
		{"negative rate", bench.Config{DSN: dsn, Concurrency: 1, Events: 1, Groups: 1, Rate: -1}},
		{"no groups", bench.Config{DSN: dsn, Concurrency: 1, Events: 1}},
		{"dsn without key", bench.Config{DSN: "http://127.0.0.1:1/1", Concurrency: 1, Events: 1, Groups: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := bench.Run(context.Background(), tt.cfg); err == nil {
				t.Error("Run accepted the configuration")
			}
		})
	}
}

func TestParseDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dsn, endpoint, auth, public string
	}{
		{"http://" + testKey + "@127.0.0.1:9000/1", "http://127.0.0.1:9000/api/1/envelope/",
			"sentry_key=" + testKey, "http://" + testKey + "@127.0.0.1:9000/1"},
		{"https://" + testKey + ":s3cret@errors.example.com/tocsin/17/", "https://errors.example.com/tocsin/api/17/envelope/",
			"sentry_key=" + testKey + ", sentry_secret=s3cret", "https://" + testKey + "@errors.example.com/tocsin/17/"},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			t.Parallel()
			got, err := bench.ParseDSN(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			if got.Endpoint != tt.endpoint || !strings.HasSuffix(got.Auth, tt.auth) || got.DSN != tt.public {
				t.Errorf("ParseDSN = %+v, want endpoint %s, auth ending %s, dsn %s", got, tt.endpoint, tt.auth, tt.public)
			}
		})
	}
}

// TestEvents_Groups checks that the events are what the load claims: about
// 10 KB each, accepted by Tocsin's event parser, and one issue per group.
func TestEvents_Groups(t *testing.T) {
	t.Parallel()
	const groups = 400
	evs, err := bench.NewEvents(groups)
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]int{}
	now := time.Now()
	for g := range groups {
		id := fmt.Sprintf("%032x", g+1)
		data := evs.Append(nil, g, id, now, g, strings.Repeat("ab", 16))
		if g == 0 && (len(data) < 9<<10 || len(data) > 13<<10) {
			t.Errorf("event of %d bytes, want about 10 KB", len(data))
		}
		ev, err := event.Parse(data, event.ParseOptions{Received: now})
		if err != nil {
			t.Fatalf("group %d: %v", g, err)
		}
		if ev.ID != id {
			t.Fatalf("group %d: event id %q, want %q", g, ev.ID, id)
		}
		h := grouping.Group(ev).Hash
		if other, ok := hashes[h]; ok {
			t.Fatalf("groups %d and %d have the same grouping hash", other, g)
		}
		hashes[h] = g
	}
}

func TestResult_Percentile(t *testing.T) {
	t.Parallel()
	r := &bench.Result{}
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := r.Percentile(tt.p); got != tt.want {
			t.Errorf("Percentile(%g) = %s, want %s", tt.p, got, tt.want)
		}
	}
}
