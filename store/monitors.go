package store

import (
	"context"
	"fmt"
	"time"
)

// Monitor is a cron monitor, created by its first check-in.
type Monitor struct {
	ID             int64
	ProjectID      int64
	OrganizationID int64
	Slug           string
	ScheduleType   string
	Schedule       string
	Timezone       string
	CheckinMargin  int
	MaxRuntime     int
	Status         string
	LastCheckIn    *time.Time
	// NextCheckIn is the deadline of the next check-in (schedule plus margin).
	NextCheckIn *time.Time
}

const monitorColumns = `m.id, m.project_id, p.organization_id, m.slug, m.schedule_type, m.schedule, m.timezone,
	m.checkin_margin, m.max_runtime, m.status, m.last_checkin, m.next_checkin`

func scanMonitor(r row) (*Monitor, error) {
	var m Monitor
	err := r.Scan(&m.ID, &m.ProjectID, &m.OrganizationID, &m.Slug, &m.ScheduleType, &m.Schedule, &m.Timezone,
		&m.CheckinMargin, &m.MaxRuntime, &m.Status, &m.LastCheckIn, &m.NextCheckIn)
	return &m, err
}

// MonitorsOverdue lists monitors whose next check-in deadline has passed.
func (s *Store) MonitorsOverdue(ctx context.Context, now time.Time, limit int) ([]*Monitor, error) {
	rs, err := s.r.query(ctx, `SELECT `+monitorColumns+` FROM monitors m JOIN projects p ON p.id = m.project_id
		WHERE m.next_checkin IS NOT NULL AND m.next_checkin < $1 ORDER BY m.next_checkin LIMIT $2`, now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("overdue monitors: %w", err)
	}
	defer rs.Close()
	var out []*Monitor
	for rs.Next() {
		m, err := scanMonitor(rs)
		if err != nil {
			return nil, fmt.Errorf("overdue monitors: %w", err)
		}
		out = append(out, m)
	}
	return out, rs.Err()
}

// RunningCheckIn is a check-in still in progress.
type RunningCheckIn struct {
	Monitor     *Monitor
	CheckInID   string
	Environment string
	Started     time.Time
}

// CheckInsRunning lists in-progress check-ins started before the time;
// the caller compares each with its monitor's max runtime.
func (s *Store) CheckInsRunning(ctx context.Context, startedBefore time.Time, limit int) ([]*RunningCheckIn, error) {
	rs, err := s.r.query(ctx, `SELECT `+monitorColumns+`, c.checkin_id, c.environment, c.date_created
		FROM monitor_checkins c JOIN monitors m ON m.id = c.monitor_id JOIN projects p ON p.id = m.project_id
		WHERE c.status = 'in_progress' AND c.date_created < $1 ORDER BY c.date_created LIMIT $2`,
		startedBefore.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("running check-ins: %w", err)
	}
	defer rs.Close()
	var out []*RunningCheckIn
	for rs.Next() {
		var (
			m  Monitor
			rc RunningCheckIn
		)
		if err := rs.Scan(&m.ID, &m.ProjectID, &m.OrganizationID, &m.Slug, &m.ScheduleType, &m.Schedule, &m.Timezone,
			&m.CheckinMargin, &m.MaxRuntime, &m.Status, &m.LastCheckIn, &m.NextCheckIn,
			&rc.CheckInID, &rc.Environment, &rc.Started); err != nil {
			return nil, fmt.Errorf("running check-ins: %w", err)
		}
		rc.Monitor = &m
		out = append(out, &rc)
	}
	return out, rs.Err()
}

// MonitorFailure records a check-in Tocsin's sweep decided on (missed or
// timeout) with its failure event, and moves the monitor's deadline on, in
// one transaction; expected guards against two workers doing it twice.
type MonitorFailure struct {
	Monitor   *Monitor
	Status    string // missed or timeout
	CheckInID string // the timed-out check-in, or a new id for a missed one
	// Expected is the deadline the sweep saw; the failure is recorded only
	// if the monitor still has it (for missed check-ins).
	Expected *time.Time
	Next     *time.Time // the new deadline
	Envelope *IngestEnvelope
}

// MonitorRecordFailure stores a sweep's failure; false when another worker
// already did.
func (s *Store) MonitorRecordFailure(ctx context.Context, f *MonitorFailure) (bool, error) {
	done := false
	err := s.tx(ctx, func(q querier) error {
		at := f.Envelope.Received
		if f.Status == "missed" {
			n, err := q.exec(ctx, `UPDATE monitors SET next_checkin = $2, status = 'error' WHERE id = $1 AND next_checkin = $3`,
				f.Monitor.ID, f.Next, f.Expected)
			if err != nil {
				return fmt.Errorf("advance monitor %s: %w", f.Monitor.Slug, err)
			}
			if n == 0 {
				return nil
			}
			if _, err := q.exec(ctx, `INSERT INTO monitor_checkins (monitor_id, checkin_id, status, environment, date_created, date_updated)
				VALUES ($1, $2, 'missed', '', $3, $3)`, f.Monitor.ID, f.CheckInID, at); err != nil {
				return fmt.Errorf("record missed check-in of %s: %w", f.Monitor.Slug, err)
			}
		} else {
			n, err := q.exec(ctx, `UPDATE monitor_checkins SET status = 'timeout', date_updated = $3
				WHERE monitor_id = $1 AND checkin_id = $2 AND status = 'in_progress'`, f.Monitor.ID, f.CheckInID, at)
			if err != nil {
				return fmt.Errorf("time out check-in of %s: %w", f.Monitor.Slug, err)
			}
			if n == 0 {
				return nil
			}
			if _, err := q.exec(ctx, `UPDATE monitors SET status = 'error' WHERE id = $1`, f.Monitor.ID); err != nil {
				return fmt.Errorf("mark monitor %s: %w", f.Monitor.Slug, err)
			}
		}
		done = true
		agg := newAggregates()
		env := f.Envelope
		env.Results = make([]IngestResult, len(env.Events))
		for i, ie := range env.Events {
			r, err := s.ingestOne(ctx, q, ie, agg)
			if err != nil {
				return err
			}
			env.Results[i] = r
		}
		return agg.flush(ctx, q)
	})
	return done, err
}
