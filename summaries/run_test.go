package summaries_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
	"github.com/tocsin/tocsin/summaries"
)

// Two processes (two stores on one database, each with its runner) see
// the same summaries due at once: each run is queued once, a summary that
// missed several runs runs once, and its next run is the first after now.
func TestRunner_OncePerRun(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := storetest.DatabaseURL(t, e)
			a, b := storetest.OpenURL(t, url), storetest.OpenURL(t, url)
			boot, err := a.Setup(ctx, &store.BootstrapParams{AdminEmail: "ops@example.com", AdminPassword: "correct-horse-battery"})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
			daily := &store.Summary{ProjectID: boot.Project.ID, Name: "Daily", Schedule: "0 9 * * *", Timezone: "UTC",
				Target: "ops@example.com", NextRun: now.Add(-time.Hour)}
			missed := &store.Summary{ProjectID: boot.Project.ID, Name: "Missed", Schedule: "0 9 * * *", Timezone: "UTC",
				Target: "dev@example.com", NextRun: now.AddDate(0, 0, -3).Add(-time.Hour)}
			for _, sm := range []*store.Summary{daily, missed} {
				if _, err := a.SummaryCreate(ctx, boot.Organization.ID, sm); err != nil {
					t.Fatal(err)
				}
			}
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			clock := func() time.Time { return now }
			var wg sync.WaitGroup
			for _, s := range []*store.Store{a, b, a, b} {
				r := summaries.NewRunner(s, log, clock)
				wg.Go(func() {
					if err := r.Run(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()

			ds, err := a.DeliveryList(ctx, boot.Organization.ID, &store.DeliveryFilter{Page: store.Page{Limit: 100}})
			if err != nil {
				t.Fatal(err)
			}
			byTarget := map[string]int{}
			for _, d := range ds {
				if d.Kind != summaries.Kind {
					continue
				}
				byTarget[d.Target]++
				var o summaries.Options
				if err := json.Unmarshal([]byte(d.Options), &o); err != nil || !o.To.Equal(now) || !o.From.Equal(now.Add(-24*time.Hour)) {
					t.Errorf("summary delivery options %s (%v), want the last day until now", d.Options, err)
				}
			}
			if byTarget["ops@example.com"] != 1 || byTarget["dev@example.com"] != 1 {
				t.Fatalf("summary deliveries by target %v, want one each", byTarget)
			}
			list, err := a.SummaryList(ctx, boot.Organization.ID, boot.Project.ID, store.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, sm := range list {
				if want := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC); !sm.NextRun.Equal(want) || sm.LastRun == nil || !sm.LastRun.Equal(now) {
					t.Errorf("summary %q: next run %s, last %v; want next %s and last now", sm.Name, sm.NextRun, sm.LastRun, want)
				}
			}
			// Nothing is due any more.
			if err := summaries.NewRunner(b, log, clock).Run(ctx); err != nil {
				t.Fatal(err)
			}
			if again, _ := a.DeliveryList(ctx, boot.Organization.ID, &store.DeliveryFilter{Page: store.Page{Limit: 100}}); len(again) != len(ds) {
				t.Errorf("%d deliveries after another run, want %d", len(again), len(ds))
			}
		})
	}
}
