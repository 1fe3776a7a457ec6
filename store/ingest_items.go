package store

import (
	"context"
	"fmt"
	"time"
)

// SessionUpdate is a change to a release's session counts, from a session
// item (one session's start or end) or a sessions item (pre-aggregated).
type SessionUpdate struct {
	Release     string
	Environment string
	Started     time.Time // the hour bucket's time
	// Increments.
	Sessions, Errored, Crashed, Abnormal int64
}

// Attachment is a file sent with an event.
type Attachment struct {
	EventID        string
	Name           string
	ContentType    string
	AttachmentType string
	Data           []byte
}

// UserReport is feedback a user left about an event.
type UserReport struct {
	EventID  string
	Name     string
	Email    string
	Comments string
}

// Discard is a client report's count of events the SDK dropped itself.
type Discard struct {
	Category string
	Reason   string
	Quantity int64
}

// CheckIn is a cron monitor check-in.
type CheckIn struct {
	CheckInID   string
	MonitorSlug string
	Status      string // in_progress, ok, error (missed and timeout come from Tocsin's sweep)
	DurationMS  *int64
	Environment string
	// Config, when the SDK sends it, creates or updates the monitor.
	Config *MonitorConfig
	// NextExpected is when the next check-in is due per the schedule; set
	// by the caller, which parses schedules.
	NextExpected *time.Time
}

// MonitorConfig is a monitor's schedule, as Sentry's monitor_config.
type MonitorConfig struct {
	ScheduleType  string // crontab or interval
	Schedule      string // "0 * * * *" or "10 minute"
	Timezone      string
	CheckinMargin int // minutes
	MaxRuntime    int // minutes
}

func (s *Store) ingestItems(ctx context.Context, q querier, env *IngestEnvelope, agg *aggregates) error {
	minute := minuteOf(env.Received)
	if env.Transactions > 0 {
		agg.projMin[projCountKey{env.ProjectID, minute, "transaction", "accepted"}] += env.Transactions
	}
	for _, su := range env.Sessions {
		hour := su.Started.Unix() / 3600
		if _, err := q.exec(ctx, `
			INSERT INTO session_counts (project_id, release, environment, hour, started, errored, crashed, abnormal)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (project_id, release, environment, hour) DO UPDATE SET
				started = session_counts.started + excluded.started,
				errored = session_counts.errored + excluded.errored,
				crashed = session_counts.crashed + excluded.crashed,
				abnormal = session_counts.abnormal + excluded.abnormal`,
			env.ProjectID, truncateRunes(su.Release, 200), truncateRunes(su.Environment, 64), hour,
			su.Sessions, su.Errored, su.Crashed, su.Abnormal); err != nil {
			return fmt.Errorf("count sessions: %w", err)
		}
		agg.projMin[projCountKey{env.ProjectID, minute, "session", "accepted"}] += su.Sessions
	}
	for _, a := range env.Attachments {
		if _, err := q.exec(ctx, `
			INSERT INTO attachments (project_id, event_id, name, content_type, attachment_type, size, data, date_created)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			env.ProjectID, a.EventID, truncateRunes(a.Name, 256), truncateRunes(a.ContentType, 128),
			truncateRunes(a.AttachmentType, 64), len(a.Data), a.Data, env.Received); err != nil {
			return fmt.Errorf("store attachment %s: %w", a.Name, err)
		}
		agg.projMin[projCountKey{env.ProjectID, minute, "attachment", "accepted"}]++
	}
	for _, r := range env.UserReports {
		if _, err := q.exec(ctx, `
			INSERT INTO user_reports (project_id, event_id, name, email, comments, date_created)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			env.ProjectID, r.EventID, truncateRunes(r.Name, 128), truncateRunes(r.Email, 128),
			truncateRunes(r.Comments, 4096), env.Received); err != nil {
			return fmt.Errorf("store user report: %w", err)
		}
	}
	for _, d := range env.Discards {
		if d.Quantity > 0 {
			agg.projMin[projCountKey{env.ProjectID, minute, truncateRunes(d.Category, 32), "client_discard"}] += d.Quantity
		}
	}
	for i := range env.CheckIns {
		if err := s.storeCheckIn(ctx, q, env, &env.CheckIns[i]); err != nil {
			return err
		}
	}
	return nil
}

// storeCheckIn records a check-in, creating the monitor on its first
// check-in (Sentry's upsert) and updating an in-progress check-in when the
// same id reports its end.
func (s *Store) storeCheckIn(ctx context.Context, q querier, env *IngestEnvelope, c *CheckIn) error {
	var monitorID int64
	err := q.queryRow(ctx, `SELECT id FROM monitors WHERE project_id = $1 AND slug = $2`,
		env.ProjectID, c.MonitorSlug).Scan(&monitorID)
	switch {
	case isNoRows(err):
		cfg := c.Config
		if cfg == nil {
			cfg = &MonitorConfig{}
		}
		err = q.queryRow(ctx, `
			INSERT INTO monitors (project_id, slug, name, schedule_type, schedule, timezone, checkin_margin,
				max_runtime, date_created)
			VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (project_id, slug) DO UPDATE SET slug = excluded.slug
			RETURNING id`, env.ProjectID, c.MonitorSlug, cfg.ScheduleType, cfg.Schedule, tzOrUTC(cfg.Timezone),
			max(cfg.CheckinMargin, 1), max(cfg.MaxRuntime, 1), env.Received).Scan(&monitorID)
		if err != nil {
			return fmt.Errorf("create monitor %s: %w", c.MonitorSlug, err)
		}
	case err != nil:
		return fmt.Errorf("find monitor %s: %w", c.MonitorSlug, err)
	case c.Config != nil:
		if _, err := q.exec(ctx, `UPDATE monitors SET schedule_type = $2, schedule = $3, timezone = $4,
			checkin_margin = $5, max_runtime = $6 WHERE id = $1`, monitorID, c.Config.ScheduleType,
			c.Config.Schedule, tzOrUTC(c.Config.Timezone), max(c.Config.CheckinMargin, 1),
			max(c.Config.MaxRuntime, 1)); err != nil {
			return fmt.Errorf("update monitor %s: %w", c.MonitorSlug, err)
		}
	}
	if _, err := q.exec(ctx, `
		INSERT INTO monitor_checkins (monitor_id, checkin_id, status, duration_ms, environment, date_created, date_updated)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT (monitor_id, checkin_id) DO UPDATE SET status = excluded.status,
			duration_ms = COALESCE(excluded.duration_ms, monitor_checkins.duration_ms), date_updated = excluded.date_updated`,
		monitorID, c.CheckInID, c.Status, c.DurationMS, truncateRunes(c.Environment, 64), env.Received); err != nil {
		return fmt.Errorf("record check-in of %s: %w", c.MonitorSlug, err)
	}
	status := "ok"
	if c.Status == "error" {
		status = "error"
	}
	if c.Status == "in_progress" {
		// A running job says nothing about health yet; only its end does.
		_, err := q.exec(ctx, `UPDATE monitors SET last_checkin = $2, next_checkin = COALESCE($3, next_checkin)
			WHERE id = $1`, monitorID, env.Received, c.NextExpected)
		if err != nil {
			return fmt.Errorf("update monitor %s: %w", c.MonitorSlug, err)
		}
		return nil
	}
	if _, err := q.exec(ctx, `UPDATE monitors SET last_checkin = $2, status = $3,
		next_checkin = COALESCE($4, next_checkin) WHERE id = $1`,
		monitorID, env.Received, status, c.NextExpected); err != nil {
		return fmt.Errorf("update monitor %s: %w", c.MonitorSlug, err)
	}
	return nil
}

func tzOrUTC(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}
