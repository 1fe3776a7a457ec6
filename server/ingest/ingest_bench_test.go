package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/bench"
	"github.com/tocsin/tocsin/server"
	"github.com/tocsin/tocsin/server/ingest"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
	"github.com/tocsin/tocsin/worker"
)

// benchStore is a migrated SQLite store with the first run's project, and
// that project's DSN.
func benchStore(b *testing.B) (*store.Store, *store.Bootstrap, string) {
	b.Helper()
	st := storetest.Open(b, store.SQLite)
	boot, err := st.Setup(context.Background(), &store.BootstrapParams{AdminPassword: "bench password"})
	if err != nil {
		b.Fatal(err)
	}
	return st, boot, boot.Key.DSN("http://tocsin.bench")
}

// BenchmarkIngest is `tocsin bench ingest` against `tocsin run`, in one
// process: the load generator sends gzip envelopes over loopback HTTP to a
// server (server.New, the same handler chain as `tocsin run`) over a SQLite
// store, with the background worker running beside it as in `tocsin run`
// (role=all) or not (role=web). One op is one event; events/s and the
// latency percentiles are reported as metrics. The CPU profile has the
// generator in it too (package bench, the HTTP client and gzip
// compression); BenchmarkIngestHandler leaves it out.
//
//	go test -run '^$' -bench 'BenchmarkIngest$' -benchtime 20000x -cpuprofile cpu.out ./server/ingest/
func BenchmarkIngest(b *testing.B) {
	for _, tc := range []struct {
		role    server.Role
		workers int
	}{{server.RoleAll, 1}, {server.RoleAll, 32}, {server.RoleWeb, 32}} {
		b.Run(fmt.Sprintf("role=%s/workers=%d", tc.role, tc.workers), func(b *testing.B) {
			st, boot, _ := benchStore(b)
			reg := prometheus.NewRegistry()
			log := slog.New(slog.DiscardHandler)
			srv, err := server.New(server.Config{Addr: "127.0.0.1:0", BaseURL: "http://tocsin.bench", Role: tc.role, Version: "bench"},
				st, reg, log)
			if err != nil {
				b.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				b.Fatal(err)
			}
			wk, err := worker.New(worker.Config{Role: string(tc.role), Version: "bench"}, st, log, reg)
			if err != nil {
				b.Fatal(err)
			}
			if err := wk.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Stop(ctx)
				wk.Stop(ctx)
			})
			dsn := boot.Key.DSN("http://" + srv.Addr().String())
			b.ResetTimer()
			res, err := bench.Run(context.Background(), bench.Config{DSN: dsn, Concurrency: tc.workers, Events: b.N, Groups: 300})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if res.Failed() > 0 || res.Accepted != b.N {
				b.Fatalf("%d of %d events accepted, %d failed (%v, %s)", res.Accepted, b.N, res.Failed(), res.Rejected, res.FirstError)
			}
			b.ReportMetric(res.Throughput(), "events/s")
			b.ReportMetric(float64(res.Percentile(50))/float64(time.Millisecond), "p50-ms")
			b.ReportMetric(float64(res.Percentile(99))/float64(time.Millisecond), "p99-ms")
			reportBatches(b, reg)
		})
	}
}

// BenchmarkIngestHandler is the server's side alone: bodies are built
// before the clock starts and handed to the ingest handler's ServeHTTP by
// 32 goroutines, so that group commit forms batches as under load. One op
// is one event, answered 200 after its commit.
//
//	go test -run '^$' -bench BenchmarkIngestHandler -benchtime 20000x -cpuprofile cpu.out ./server/ingest/
func BenchmarkIngestHandler(b *testing.B) {
	st, boot, dsn := benchStore(b)
	reg := prometheus.NewRegistry()
	h, err := ingest.New(ingest.Config{}, st, slog.New(slog.DiscardHandler), reg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(h.Stop)
	mux := http.NewServeMux()
	h.Register(mux)
	evs, err := bench.NewEvents(300)
	if err != nil {
		b.Fatal(err)
	}
	gen := bench.NewBuilder(evs, dsn, uint64(time.Now().UnixNano()), 0)
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = bytes.Clone(gen.Next())
	}
	target := fmt.Sprintf("/api/%d/envelope/", boot.Project.ID)
	auth := "Sentry sentry_version=7, sentry_key=" + boot.Key.Public
	var next atomic.Int64
	b.SetParallelism(16) // 32 goroutines on 2 CPUs
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[next.Add(1)-1]
			req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/x-sentry-envelope")
			req.Header.Set("Content-Encoding", "gzip")
			req.Header.Set("X-Sentry-Auth", auth)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	reportBatches(b, reg)
}

// reportBatches reports the group commit's mean batch (envelopes per
// transaction) and mean transaction time, from ingest's histograms.
func reportBatches(b *testing.B, reg *prometheus.Registry) {
	b.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			if h == nil || h.GetSampleCount() == 0 {
				continue
			}
			mean := h.GetSampleSum() / float64(h.GetSampleCount())
			switch mf.GetName() {
			case "tocsin_ingest_batch_envelopes":
				b.ReportMetric(mean, "envelopes/commit")
			case "tocsin_ingest_commit_seconds":
				b.ReportMetric(mean*1000, "commit-ms")
			}
		}
	}
}
