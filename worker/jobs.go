package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/monitors"
	"github.com/tocsin/tocsin/store"
)

type metrics struct {
	activities *prometheus.CounterVec
	failures   *prometheus.CounterVec
	purged     prometheus.Counter
	checkIns   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		activities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tocsin_worker_activities_total",
			Help: "Issue activities handed to their handlers, by source: local (from ingest in this process) or outbox."},
			[]string{"source"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tocsin_worker_job_failures_total", Help: "Background job runs that failed, by job."}, []string{"job"}),
		purged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tocsin_worker_events_purged_total", Help: "Events deleted by retention."}),
		checkIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tocsin_worker_monitor_failures_total", Help: "Check-ins the sweep marked missed or timed out."}, []string{"status"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.activities, m.failures, m.purged, m.checkIns} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register worker metrics: %w", err)
			}
		}
	}
	return m, nil
}

// outboxLease is how long a claimed batch of activities is reserved for
// its handlers before another worker may take it.
const outboxLease = 5 * time.Minute

// dispatch hands outbox entries to the handlers until the outbox is empty.
func (w *Worker) dispatch(ctx context.Context) {
	for ctx.Err() == nil {
		entries, err := w.store.OutboxClaim(ctx, 500, outboxLease)
		if err != nil {
			w.jobFailed(ctx, "dispatch", err)
			return
		}
		if len(entries) == 0 {
			return
		}
		if !w.handle(ctx, "dispatch", "outbox", entries) {
			return // the lease runs out and the entries come back
		}
	}
}

// handle runs entries through the handlers and removes them from the
// outbox; false when something failed (reported as job), in which case
// the entries stay, leased, until their lease runs out.
func (w *Worker) handle(ctx context.Context, job, source string, entries []*store.OutboxEntry) bool {
	if len(entries) == 0 {
		return true
	}
	for _, h := range w.cfg.Handlers {
		if err := h.HandleActivities(ctx, entries); err != nil {
			w.jobFailed(ctx, job, err)
			return false
		}
	}
	ids := make([]int64, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	if err := w.store.OutboxDone(ctx, ids); err != nil {
		w.jobFailed(ctx, job, err)
		return false
	}
	w.m.activities.WithLabelValues(source).Add(float64(len(entries)))
	return true
}

func (w *Worker) jobFailed(ctx context.Context, job string, err error) {
	if ctx.Err() != nil {
		return
	}
	w.m.failures.WithLabelValues(job).Inc()
	w.log.Warn("background job failed", "job", job, "err", err)
}

// purge applies TOCSIN_EVENT_RETENTION_DAYS.
func (w *Worker) purge(ctx context.Context) {
	before := w.cfg.Now().Add(-time.Duration(w.cfg.EventRetentionDays) * 24 * time.Hour)
	n, err := w.store.Purge(ctx, before)
	w.m.purged.Add(float64(n))
	if err != nil {
		w.jobFailed(ctx, "retention", err)
		return
	}
	if n > 0 {
		w.log.Info("retention deleted old events", "events", n, "before", before)
	}
}

// sweepMonitors marks check-ins that did not come in time as missed, and
// running ones past their max runtime as timed out; each becomes an event
// of the monitor's issue.
func (w *Worker) sweepMonitors(ctx context.Context) {
	now := w.cfg.Now().UTC()
	overdue, err := w.store.MonitorsOverdue(ctx, now, 100)
	if err != nil {
		w.jobFailed(ctx, "monitors", err)
		return
	}
	for _, m := range overdue {
		sched, err := monitors.ParseSchedule(m.ScheduleType, m.Schedule, m.Timezone)
		if err != nil {
			w.jobFailed(ctx, "monitors", fmt.Errorf("monitor %s: %w", m.Slug, err))
			continue
		}
		next := monitors.Deadline(sched, now, m.CheckinMargin)
		f := &store.MonitorFailure{Monitor: m, Status: monitors.ReasonMissed, CheckInID: event.NewID(),
			Expected: m.NextCheckIn, Next: &next, Envelope: failureEnvelope(m, "", monitors.ReasonMissed, now)}
		w.recordFailure(ctx, f)
	}
	running, err := w.store.CheckInsRunning(ctx, now.Add(-time.Minute), 500)
	if err != nil {
		w.jobFailed(ctx, "monitors", err)
		return
	}
	for _, rc := range running {
		if now.Sub(rc.Started) < time.Duration(max(rc.Monitor.MaxRuntime, 1))*time.Minute {
			continue
		}
		f := &store.MonitorFailure{Monitor: rc.Monitor, Status: monitors.ReasonTimeout, CheckInID: rc.CheckInID,
			Envelope: failureEnvelope(rc.Monitor, rc.Environment, monitors.ReasonTimeout, now)}
		w.recordFailure(ctx, f)
	}
}

func (w *Worker) recordFailure(ctx context.Context, f *store.MonitorFailure) {
	done, err := w.store.MonitorRecordFailure(ctx, f)
	if err != nil {
		w.jobFailed(ctx, "monitors", err)
		return
	}
	if done {
		w.m.checkIns.WithLabelValues(f.Status).Inc()
		w.log.Info("cron monitor failed", "monitor", f.Monitor.Slug, "status", f.Status)
	}
}

// failureEnvelope is the failure event of a monitor, ready to store.
func failureEnvelope(m *store.Monitor, environment, reason string, at time.Time) *store.IngestEnvelope {
	ev := monitors.FailureEvent(m.Slug, environment, reason, at)
	g := grouping.Group(ev)
	data, _ := json.Marshal(ev.Data)
	return &store.IngestEnvelope{ProjectID: m.ProjectID, OrganizationID: m.OrganizationID, Received: at,
		Events: []*store.IngestEvent{{ProjectID: m.ProjectID, OrganizationID: m.OrganizationID, Event: ev,
			Hash: g.Hash, GroupingVersion: g.Version, Data: store.CompressEventData(data), Size: len(data),
			Kind: store.ActivityCheckIn}}}
}
