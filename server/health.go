package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/tocsin/tocsin/store"
)

// processFreshness is how recent a heartbeat must be for a process to count
// as alive in the full health report.
const processFreshness = time.Minute

// health answers GET /_health/: 200 "ok" when the store answers a query,
// 503 otherwise. With ?full it answers JSON with the store's state and the
// processes (web and worker) heard from in the last minute.
type health struct {
	store   *store.Store
	role    Role
	version string
	log     *slog.Logger
}

type healthReport struct {
	Status    string         `json:"status"`
	Role      Role           `json:"role"`
	Version   string         `json:"version"`
	Store     storeHealth    `json:"store"`
	Processes []processState `json:"processes"`
	// Queue is the work waiting for workers: issue activities not yet
	// handed to the rules engine.
	Queue queueState `json:"queue"`
}

type queueState struct {
	PendingActivities int64 `json:"pendingActivities"`
}

type storeHealth struct {
	Engine        store.Engine `json:"engine"`
	OK            bool         `json:"ok"`
	Error         string       `json:"error,omitempty"`
	SchemaVersion int64        `json:"schemaVersion"`
	LatestVersion int64        `json:"latestSchemaVersion"`
}

type processState struct {
	ID          string    `json:"id"`
	Role        string    `json:"role"`
	Hostname    string    `json:"hostname"`
	PID         int       `json:"pid"`
	Version     string    `json:"version"`
	StartedAt   time.Time `json:"startedAt"`
	HeartbeatAt time.Time `json:"heartbeatAt"`
}

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	pingErr := h.store.Ping(ctx)
	code := http.StatusOK
	if pingErr != nil {
		h.log.Warn("health check: store does not answer", "err", pingErr)
		code = http.StatusServiceUnavailable
	}
	if !r.URL.Query().Has("full") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		if pingErr != nil {
			_, _ = w.Write([]byte("store unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
		return
	}
	rep := healthReport{Status: "ok", Role: h.role, Version: h.version,
		Store: storeHealth{Engine: h.store.Engine(), OK: pingErr == nil}, Processes: []processState{}}
	if pingErr != nil {
		rep.Status, rep.Store.Error = "unavailable", "store does not answer"
	} else {
		cur, latest, err := h.store.MigrationStatus(ctx)
		if err != nil {
			h.log.Warn("health check: schema version", "err", err)
		}
		rep.Store.SchemaVersion, rep.Store.LatestVersion = cur, latest
		procs, err := h.store.ProcessList(ctx, time.Now().Add(-processFreshness))
		if err != nil {
			h.log.Warn("health check: processes", "err", err)
		}
		for _, p := range procs {
			rep.Processes = append(rep.Processes, processState(*p))
		}
		if rep.Queue.PendingActivities, err = h.store.OutboxPending(ctx); err != nil {
			h.log.Warn("health check: outbox", "err", err)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(rep)
}
