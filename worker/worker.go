// Package worker runs a process's background loops. Today that is the
// heartbeat that lets /_health/?full show which web and worker processes
// are alive; delivery jobs, digests and sweeps join it as they arrive.
package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/tocsin/tocsin/store"
)

// Config describes the process to the rest of the deployment.
type Config struct {
	Role    string // "all", "web" or "worker"
	Version string
	// HeartbeatInterval is how often the process reports itself (default 15 s).
	HeartbeatInterval time.Duration
}

// Worker runs the background loops until Stop.
type Worker struct {
	store  *store.Store
	log    *slog.Logger
	proc   store.Process
	every  time.Duration
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New prepares a worker; nothing runs before Start.
func New(cfg Config, st *store.Store, log *slog.Logger) *Worker {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 15 * time.Second
	}
	host, _ := os.Hostname()
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Worker{
		store: st,
		log:   log,
		every: cfg.HeartbeatInterval,
		proc: store.Process{ID: hex.EncodeToString(b[:]), Role: cfg.Role, Hostname: host,
			PID: os.Getpid(), Version: cfg.Version, StartedAt: time.Now().UTC()},
	}
}

// Start reports the process once, synchronously, so that a store problem
// shows at start-up, then keeps reporting in the background.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.store.ProcessHeartbeat(ctx, &w.proc); err != nil {
		return err
	}
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.wg.Go(func() { w.heartbeat(ctx) })
	return nil
}

func (w *Worker) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			hctx, cancel := context.WithTimeout(ctx, w.every)
			if err := w.store.ProcessHeartbeat(hctx, &w.proc); err != nil {
				w.log.Warn("heartbeat failed", "err", err)
			}
			// Processes killed without a clean stop fade out of the list.
			if err := w.store.ProcessPrune(hctx, time.Now().Add(-24*time.Hour)); err != nil {
				w.log.Warn("pruning silent processes failed", "err", err)
			}
			cancel()
		}
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
