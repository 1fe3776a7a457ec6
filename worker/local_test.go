package worker

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

func TestLocal_Reserve(t *testing.T) {
	l := NewLocal(4)
	before := time.Now()
	until, ok := l.Reserve(3)
	if !ok || until.Before(before.Add(localLease)) {
		t.Fatalf("Reserve(3) of 4 = %v, %v; want room, leased for %s", until, ok, localLease)
	}
	if _, ok := l.Reserve(2); ok {
		t.Fatal("Reserve(2) with 1 left succeeded")
	}
	if _, ok := l.Reserve(0); ok {
		t.Fatal("Reserve(0) succeeded: nothing to hand over leases nothing")
	}
	l.Release(3)
	if _, ok := l.Reserve(4); !ok {
		t.Fatal("Reserve(4) after the release failed")
	}
}

// recorder is an activity handler that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	entries []*store.OutboxEntry
	fail    bool
}

func (r *recorder) HandleActivities(_ context.Context, es []*store.OutboxEntry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return context.DeadlineExceeded
	}
	r.entries = append(r.entries, es...)
	return nil
}

func (r *recorder) failing(fail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = fail
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// Handed-over entries reach the handlers with their events, and the room
// they took is given back once they are handled, whether the handlers
// succeed or not; on a stop, what is queued is still handled.
func TestLocal_HandsEntriesToHandlers(t *testing.T) {
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		rec := &recorder{}
		l := NewLocal(8)
		w, err := New(Config{Role: "all", Local: l, Handlers: []ActivityHandler{rec}, HeartbeatInterval: time.Hour},
			st, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		hand := func(n int) {
			if _, ok := l.Reserve(n); !ok {
				t.Fatalf("no room for %d", n)
			}
			var es []*store.OutboxEntry
			for i := range n - 1 { // one of them a duplicate event: reserved, not handed
				es = append(es, &store.OutboxEntry{ID: int64(1000 + i), Kind: store.ActivityEvent, Event: &event.Event{ID: "e"}})
			}
			l.Hand(es, n)
		}
		hand(3)
		hand(5)
		deadline := time.Now().Add(30 * time.Second)
		for (rec.count() < 6 || l.pending.Load() != 0) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if rec.count() != 6 || l.pending.Load() != 0 {
			t.Fatalf("handled %d entries, %d still pending; want 6 and 0", rec.count(), l.pending.Load())
		}
		for _, e := range rec.entries {
			if e.Event == nil {
				t.Fatalf("entry %d reached the handler without its event", e.ID)
			}
		}

		rec.failing(true)
		hand(2)
		for l.pending.Load() != 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if l.pending.Load() != 0 {
			t.Fatal("a failed batch kept its room")
		}

		rec.failing(false)
		hand(4) // then the process stops (ingest first): what is queued is handled still
		w.Stop(context.Background())
		if rec.count() != 9 {
			t.Fatalf("handled %d entries after the stop, want 9", rec.count())
		}
	})
}
