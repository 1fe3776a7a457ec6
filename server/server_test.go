package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/server"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// setup starts a server on a free port over a real store; the store is
// opened with the server's registry so its metrics are served too.
func setup(t *testing.T, e store.Engine, role server.Role) (base string, st *store.Store) {
	t.Helper()
	reg := prometheus.NewRegistry()
	st, err := store.Open(context.Background(), store.Options{DatabaseURL: storetest.DatabaseURL(t, e), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", BaseURL: "http://tocsin.test", Role: role, Version: "test"},
		st, reg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Stop(ctx)
	})
	return "http://" + srv.Addr().String(), st
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServer_HealthAndMetrics(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			base, st := setup(t, e, server.RoleAll)
			if code, body := get(t, base+"/_health/"); code != 200 || body != "ok\n" {
				t.Errorf("health = %d %q", code, body)
			}
			p := &store.Process{ID: "p1", Role: "worker", Hostname: "h", PID: 1, Version: "test", StartedAt: time.Now()}
			if err := st.ProcessHeartbeat(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			code, body := get(t, base+"/_health/?full")
			var rep struct {
				Status string
				Role   string
				Store  struct {
					Engine                             string
					OK                                 bool
					SchemaVersion, LatestSchemaVersion int64
				}
				Processes []struct{ ID, Role string }
			}
			if err := json.Unmarshal([]byte(body), &rep); err != nil {
				t.Fatalf("full health %q: %v", body, err)
			}
			if code != 200 || rep.Status != "ok" || rep.Role != "all" || rep.Store.Engine != string(e) || !rep.Store.OK ||
				rep.Store.SchemaVersion == 0 || rep.Store.SchemaVersion != rep.Store.LatestSchemaVersion ||
				len(rep.Processes) != 1 || rep.Processes[0].Role != "worker" {
				t.Errorf("full health = %d %+v", code, rep)
			}
			get(t, base+"/api/0/")
			get(t, base+"/api/0/organizations/acme/projects/?x=1")
			_, metrics := get(t, base+"/metrics")
			for _, want := range []string{
				`tocsin_http_requests_total{code="200",method="GET",route="GET /_health/{$}"} 2`,
				`tocsin_http_requests_total{code="200",method="GET",route="GET /api/0/{$}"} 1`,
				// Labelled by pattern, never by the raw path.
				`tocsin_http_requests_total{code="401",method="GET",route="GET /api/0/organizations/{org}/projects/{$}"} 1`,
				`tocsin_http_request_duration_seconds_bucket{method="GET",route="GET /api/0/{$}",le="+Inf"} 1`,
			} {
				if !strings.Contains(metrics, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
			if strings.Contains(metrics, "acme") {
				t.Error("metrics carry a raw path")
			}

			// A store that stops answering turns health to 503 and counts errors.
			_ = st.Close()
			if code, body := get(t, base+"/_health/"); code != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") {
				t.Errorf("health with a closed store = %d %q", code, body)
			}
			if _, metrics := get(t, base+"/metrics"); !strings.Contains(metrics, `tocsin_store_errors_total{op="query"}`) {
				t.Error("store errors are not counted")
			}
		})
	}
}

func TestServer_WorkerServesHealthOnly(t *testing.T) {
	t.Parallel()
	base, _ := setup(t, store.SQLite, server.RoleWorker)
	if code, _ := get(t, base+"/_health/"); code != 200 {
		t.Errorf("worker health = %d", code)
	}
	if code, _ := get(t, base+"/metrics"); code != 200 {
		t.Errorf("worker metrics = %d", code)
	}
	if code, _ := get(t, base+"/api/0/"); code != http.StatusNotFound {
		t.Errorf("worker API = %d, want 404", code)
	}
}
