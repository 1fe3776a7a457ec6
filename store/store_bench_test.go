package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/tocsin/tocsin/bench"
	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// benchEvents are the load generator's events, one per group, parsed,
// grouped and compressed as ingest does before its write transaction.
func benchEvents(b *testing.B, groups int) []store.IngestEvent {
	b.Helper()
	evs, err := bench.NewEvents(groups)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	out := make([]store.IngestEvent, groups)
	for g := range groups {
		data := evs.Append(nil, g, fmt.Sprintf("%032x", g+1), now, g, fmt.Sprintf("%032x", g))
		ev, err := event.Parse(data, event.ParseOptions{Received: now})
		if err != nil {
			b.Fatal(err)
		}
		gr := grouping.Group(ev)
		js, err := json.Marshal(ev.Data)
		if err != nil {
			b.Fatal(err)
		}
		out[g] = store.IngestEvent{Event: ev, Hash: gr.Hash, GroupingVersion: gr.Version,
			Data: store.CompressEventData(js), Size: len(js)}
	}
	return out
}

// BenchmarkIngestBatch is the group commit's write transaction alone: one
// op is one IngestBatch of `batch` envelopes of one event each (300
// groups, 5,000 users), the work the single SQLite writer does per commit.
// The events/s metric is what one writer can store.
//
//	go test -run '^$' -bench BenchmarkIngestBatch -benchtime 2s ./store/
//
// PostgreSQL runs when TOCSIN_TEST_DATABASE_URL is set.
func BenchmarkIngestBatch(b *testing.B) {
	templates := benchEvents(b, 300)
	for _, e := range storetest.Engines {
		for _, batch := range []int{1, 32, 128} {
			b.Run(fmt.Sprintf("%s/batch=%d", e, batch), func(b *testing.B) {
				st := storetest.Open(b, e)
				ctx := context.Background()
				boot, err := st.Setup(ctx, &store.BootstrapParams{AdminPassword: "bench password"})
				if err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
				envs := make([]*store.IngestEnvelope, batch)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					for i := range envs {
						tpl := &templates[rng.IntN(len(templates))]
						ev := *tpl.Event
						ev.ID = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
						ev.User = &event.User{ID: strconv.Itoa(rng.IntN(bench.Users))}
						ie := *tpl
						ie.Event, ie.ProjectID, ie.OrganizationID = &ev, boot.Project.ID, boot.Organization.ID
						envs[i] = &store.IngestEnvelope{ProjectID: ie.ProjectID, OrganizationID: ie.OrganizationID,
							Received: ev.Received, Events: []*store.IngestEvent{&ie}}
					}
					if err := st.IngestBatch(ctx, envs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}
