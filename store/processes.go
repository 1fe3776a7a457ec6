package store

import (
	"context"
	"fmt"
	"time"
)

// Process is a running Tocsin process (web, worker or both) as it last
// reported itself; health checks show them so operators see which workers
// are alive.
type Process struct {
	ID          string
	Role        string
	Hostname    string
	PID         int
	Version     string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// ProcessHeartbeat records that a process is alive.
func (s *Store) ProcessHeartbeat(ctx context.Context, p *Process) error {
	p.HeartbeatAt = now()
	_, err := s.w.exec(ctx, `
		INSERT INTO processes (id, role, hostname, pid, version, started_at, heartbeat_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
		p.ID, p.Role, p.Hostname, p.PID, p.Version, p.StartedAt.UTC(), p.HeartbeatAt)
	if err != nil {
		return fmt.Errorf("heartbeat of process %s: %w", p.ID, err)
	}
	return nil
}

// ProcessPrune forgets processes silent since before the given time (those
// killed without a clean shutdown).
func (s *Store) ProcessPrune(ctx context.Context, before time.Time) error {
	if _, err := s.w.exec(ctx, `DELETE FROM processes WHERE heartbeat_at < $1`, before.UTC()); err != nil {
		return fmt.Errorf("forget silent processes: %w", err)
	}
	return nil
}

// ProcessList lists the processes heard from since the given time.
func (s *Store) ProcessList(ctx context.Context, since time.Time) ([]*Process, error) {
	rs, err := s.r.query(ctx, `
		SELECT id, role, hostname, pid, version, started_at, heartbeat_at
		FROM processes WHERE heartbeat_at >= $1 ORDER BY started_at`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	defer rs.Close()
	var out []*Process
	for rs.Next() {
		var p Process
		if err := rs.Scan(&p.ID, &p.Role, &p.Hostname, &p.PID, &p.Version, &p.StartedAt, &p.HeartbeatAt); err != nil {
			return nil, fmt.Errorf("list processes: %w", err)
		}
		out = append(out, &p)
	}
	return out, rs.Err()
}

// ProcessDelete removes a process that is shutting down cleanly.
func (s *Store) ProcessDelete(ctx context.Context, id string) error {
	if _, err := s.w.exec(ctx, `DELETE FROM processes WHERE id = $1`, id); err != nil {
		return fmt.Errorf("remove process %s: %w", id, err)
	}
	return nil
}
