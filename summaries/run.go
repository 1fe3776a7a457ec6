package summaries

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/store"
)

// Kind is the delivery kind of a summary.
const Kind = "summary"

// Options is a summary delivery's Options: which summary, and the period
// it reports on, fixed when it is queued so that a retry says the same.
type Options struct {
	Summary int64     `json:"summary"`
	Name    string    `json:"name"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
}

// firstPeriod is what a summary that never ran reports on.
const firstPeriod = 24 * time.Hour

// delivery is the delivery of one run of sm, reporting on what happened
// since its last run (or the last day) until now.
func delivery(sm *store.Summary, now time.Time, key string) *store.Delivery {
	from := now.Add(-firstPeriod)
	if sm.LastRun != nil && sm.LastRun.Before(now) {
		from = *sm.LastRun
	}
	b, _ := json.Marshal(Options{Summary: sm.ID, Name: sm.Name, From: from.UTC(), To: now.UTC()})
	provider := "email" // the built-in email when the summary names no integration
	return &store.Delivery{OrganizationID: sm.OrganizationID, IntegrationID: sm.IntegrationID, Provider: provider,
		ProjectID: &sm.ProjectID, Kind: Kind, Target: sm.Target, Options: string(b), DateCreated: now,
		IdempotencyKey: key}
}

// Queue sends a summary now, outside its schedule (the API's send-now),
// reporting on the period since its last run. provider is the provider of
// its integration ("" for the built-in email).
func Queue(ctx context.Context, st *store.Store, sm *store.Summary, provider string, now time.Time) error {
	d := delivery(sm, now, "summary:"+strconv.FormatInt(sm.ID, 10)+":now:"+strconv.FormatInt(now.UnixNano(), 10))
	if provider != "" {
		d.Provider = provider
	}
	return st.DeliveryCreate(ctx, d)
}

// Runner runs the schedules.
type Runner struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time
}

// NewRunner returns a runner; now is its clock (nil for time.Now).
func NewRunner(st *store.Store, log *slog.Logger, now func() time.Time) *Runner {
	if now == nil {
		now = time.Now
	}
	return &Runner{store: st, log: log, now: now}
}

// Run queues the summaries that are due. A summary that missed runs while
// everything was down runs once, and its next run is the first after now.
// Several processes may call Run at once; each run is queued once.
func (r *Runner) Run(ctx context.Context) error {
	now := r.now().UTC()
	due, err := r.store.SummariesDue(ctx, now, 100)
	if err != nil {
		return err
	}
	for _, sm := range due {
		next := now.Add(24 * time.Hour) // a schedule that no longer reads runs daily until fixed
		if sched, err := Parse(sm.Schedule, sm.Timezone); err != nil {
			r.log.Warn("summary schedule does not read", "summary", sm.ID, "err", err)
		} else if n := sched.Next(now); !n.IsZero() {
			next = n // a schedule that never fires (30 February) also waits a day
		}
		provider := ""
		if sm.IntegrationID != nil {
			in, err := r.store.IntegrationGet(ctx, sm.OrganizationID, *sm.IntegrationID)
			if err != nil {
				return fmt.Errorf("summary %d: %w", sm.ID, err)
			}
			provider = in.Provider
		}
		d := delivery(sm, now, "summary:"+strconv.FormatInt(sm.ID, 10)+":run:"+strconv.FormatInt(sm.NextRun.Unix(), 10))
		if provider != "" {
			d.Provider = provider
		}
		if _, err := r.store.SummaryRun(ctx, sm.ID, sm.NextRun, next, now, d); err != nil {
			return err
		}
	}
	return nil
}
