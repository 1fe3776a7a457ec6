// Package server is Tocsin's HTTP side: the REST API, health and metrics
// today; ingest, the web UI and inbound webhooks as they arrive. One Server
// serves one role's routes on one listener.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tocsin/tocsin/server/api"
	"github.com/tocsin/tocsin/server/ingest"
	"github.com/tocsin/tocsin/server/webhooks"
	"github.com/tocsin/tocsin/store"
)

// Role selects which routes a process serves.
type Role string

// The process roles of INTERFACES.md: `tocsin run`, `run web`, `run worker`.
const (
	RoleAll    Role = "all"
	RoleWeb    Role = "web"
	RoleWorker Role = "worker"
)

// Config is what the server needs to know about its deployment.
type Config struct {
	Addr    string // listen address
	BaseURL string // public address, used in DSNs and links
	Role    Role
	Version string
	// Integrations enables the integration endpoints of the API.
	Integrations *api.Integrations
	// Handoff, when set, takes stored events' activities to this
	// process's rules engine (see ingest.Handoff).
	Handoff ingest.Handoff
}

// Server serves HTTP until Stop.
type Server struct {
	cfg      Config
	log      *slog.Logger
	http     *http.Server
	ingest   *ingest.Handler // nil on workers
	listener net.Listener
	done     chan error
}

// New builds the server and its route table. Metrics are registered on reg.
func New(cfg Config, st *store.Store, reg *prometheus.Registry, log *slog.Logger) (*Server, error) {
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	h := &health{store: st, role: cfg.Role, version: cfg.Version, log: log}
	mux.Handle("GET /_health/{$}", h)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	var (
		in      *ingest.Handler
		handler http.Handler = mux
	)
	if cfg.Role != RoleWorker {
		a := api.New(st, cfg.BaseURL, log)
		if cfg.Integrations != nil {
			a.SetIntegrations(cfg.Integrations)
			wh := webhooks.New(st, cfg.Integrations.Box, cfg.BaseURL, log)
			wh.SetProviders(cfg.Integrations.Providers)
			wh.Register(mux)
		}
		a.Register(mux)
		handler = a.WithNotFound(mux)
		if in, err = ingest.New(ingest.Config{Handoff: cfg.Handoff}, st, log, reg); err != nil {
			return nil, err
		}
		in.Register(mux)
	}
	s := &Server{
		ingest: in,
		cfg:    cfg,
		log:    log,
		http: &http.Server{
			Addr:              cfg.Addr,
			Handler:           m.instrument(recoverer(log, handler)),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      60 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		},
		done: make(chan error, 1),
	}
	return s, nil
}

// Start listens and serves in the background. Listen errors (a taken port)
// are returned at once.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.listener = ln
	go func() {
		err := s.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Done reports a serve failure; it yields nil after a clean Stop.
func (s *Server) Done() <-chan error { return s.done }

// Stop stops accepting connections and waits for in-flight requests until
// ctx ends, then closes whatever is left.
// Ingest's queued writes are committed before Stop returns.
func (s *Server) Stop(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		_ = s.http.Close()
	}
	if s.ingest != nil {
		s.ingest.Stop()
	}
	if err != nil {
		return fmt.Errorf("stop http server: %w", err)
	}
	return nil
}

// recoverer turns a handler panic into a logged 500 instead of a dropped
// connection; http.ErrAbortHandler passes through as the server expects.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"detail":"Internal error"}` + "\n"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
