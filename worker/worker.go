// Package worker runs a process's background loops: the heartbeat that
// lets /_health/?full show which processes are alive, and on worker roles
// the outbox dispatch that hands issue activities to their handlers (the
// rules engine), the cron monitor sweep and event retention.
package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/store"
)

// ActivityHandler receives issue activities from the outbox, in order,
// at least once. The rules engine is one; a handler that fails leaves its
// entries to be handed out again after their lease.
type ActivityHandler interface {
	HandleActivities(ctx context.Context, entries []*store.OutboxEntry) error
}

// ActivityHandlerFunc adapts a function to ActivityHandler.
type ActivityHandlerFunc func(ctx context.Context, entries []*store.OutboxEntry) error

// HandleActivities calls f.
func (f ActivityHandlerFunc) HandleActivities(ctx context.Context, entries []*store.OutboxEntry) error {
	return f(ctx, entries)
}

// Config describes the process and its background work.
type Config struct {
	Role    string // "all", "web" or "worker"; background jobs run on all and worker
	Version string
	// HeartbeatInterval is how often the process reports itself (default 15 s).
	HeartbeatInterval time.Duration
	// EventRetentionDays bounds how long events are kept (default 90).
	EventRetentionDays int
	// Handlers receive the outbox's issue activities.
	Handlers []ActivityHandler
	// Periodic are other jobs run on worker roles at their interval (the
	// rules engine's frequency sweep).
	Periodic []Periodic
	// Local, when set, brings the activities ingest stored in this
	// process to the handlers directly (worker roles only).
	Local *Local
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Periodic is a job that runs at an interval on worker roles.
type Periodic struct {
	Name     string
	Interval time.Duration
	Run      func(ctx context.Context) error
}

// Worker runs the background loops until Stop.
type Worker struct {
	cfg    Config
	store  *store.Store
	log    *slog.Logger
	proc   store.Process
	cancel context.CancelFunc
	wg     sync.WaitGroup
	m      *metrics
}

// New prepares a worker; nothing runs before Start.
func New(cfg Config, st *store.Store, log *slog.Logger, reg prometheus.Registerer) (*Worker, error) {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 15 * time.Second
	}
	if cfg.EventRetentionDays <= 0 {
		cfg.EventRetentionDays = 90
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Worker{
		cfg: cfg, store: st, log: log, m: m,
		proc: store.Process{ID: hex.EncodeToString(b[:]), Role: cfg.Role, Hostname: host,
			PID: os.Getpid(), Version: cfg.Version, StartedAt: cfg.Now().UTC()},
	}, nil
}

// Start reports the process once, synchronously, so that a store problem
// shows at start-up, then runs the loops in the background.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.store.ProcessHeartbeat(ctx, &w.proc); err != nil {
		return err
	}
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.every(ctx, w.cfg.HeartbeatInterval, w.heartbeat)
	if w.cfg.Role != "web" {
		w.every(ctx, time.Second, w.dispatch)
		if w.cfg.Local != nil {
			w.wg.Go(func() { w.handLocal(ctx) })
		}
		w.every(ctx, 30*time.Second, w.sweepMonitors)
		w.every(ctx, time.Hour, w.purge)
		for _, p := range w.cfg.Periodic {
			w.every(ctx, p.Interval, func(ctx context.Context) {
				if err := p.Run(ctx); err != nil {
					w.jobFailed(ctx, p.Name, err)
				}
			})
		}
	}
	return nil
}

// every runs fn now and then at each interval until ctx ends.
func (w *Worker) every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	w.wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			fn(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

func (w *Worker) heartbeat(ctx context.Context) {
	hctx, cancel := context.WithTimeout(ctx, w.cfg.HeartbeatInterval)
	defer cancel()
	if err := w.store.ProcessHeartbeat(hctx, &w.proc); err != nil && ctx.Err() == nil {
		w.log.Warn("heartbeat failed", "err", err)
	}
	// Processes killed without a clean stop fade out of the list.
	if err := w.store.ProcessPrune(hctx, w.cfg.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
		w.log.Warn("pruning silent processes failed", "err", err)
	}
}

// Stop ends the loops and removes the process from the list.
func (w *Worker) Stop(ctx context.Context) {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
	if err := w.store.ProcessDelete(ctx, w.proc.ID); err != nil {
		w.log.Warn("removing process record failed", "err", err)
	}
}
