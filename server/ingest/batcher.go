package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/store"
)

// batcher is the group commit: requests hand their envelopes to it and wait;
// a writer takes everything that queued up while the previous transaction
// was committing and stores it in one transaction. Durability costs one
// commit per batch instead of one per event. A batch closes as soon as the
// writer is free, unless requests are still being read and parsed: then
// the writer lingers up to maxLinger for them. Under load most batches had
// one envelope (the writer was quicker than the parsers), and each commit
// writes the pages every batch touches (counters, the outbox, index tails)
// again; when nothing is on its way there is no wait.
type batcher struct {
	store    *store.Store
	handoff  Handoff // nil when this process does not evaluate rules
	log      *slog.Logger
	queue    chan *write
	maxBatch int
	wg       sync.WaitGroup
	// mu guards stopped: submit holds it shared while sending, stop
	// exclusively while closing the queue, so nothing sends on a closed queue.
	mu      sync.RWMutex
	stopped bool
	batch   prometheus.Histogram
	commit  prometheus.Histogram
	// coming counts requests being read and parsed: envelopes the writer
	// can expect shortly.
	coming atomic.Int64
}

// maxLinger bounds how long a writer waits for envelopes still being
// parsed before it commits what it has.
const maxLinger = 2 * time.Millisecond

// arrival marks one request as on its way to the batcher until done is
// called (by submit, or when the request fails); done may be called again.
type arrival struct {
	b    *batcher
	done bool
}

// expect counts a request as coming; call done on the result when it has
// submitted or given up.
func (b *batcher) expect() *arrival {
	b.coming.Add(1)
	return &arrival{b: b}
}

func (a *arrival) finish() {
	if !a.done {
		a.done = true
		a.b.coming.Add(-1)
	}
}

type write struct {
	env  *store.IngestEnvelope
	done chan error
}

// errStopped answers requests that arrive while the process stops.
var errStopped = errors.New("ingest is stopping")

func newBatcher(st *store.Store, writers, maxBatch int, handoff Handoff, log *slog.Logger, reg prometheus.Registerer) (*batcher, error) {
	b := &batcher{
		store: st, log: log, maxBatch: maxBatch, handoff: handoff,
		queue: make(chan *write, maxBatch*writers*4),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tocsin_ingest_batch_envelopes",
			Help:    "Envelopes stored per group-commit transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tocsin_ingest_commit_seconds",
			Help:    "Duration of group-commit transactions.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	for _, c := range []prometheus.Collector{b.batch, b.commit} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for range writers {
		b.wg.Go(b.run)
	}
	return b, nil
}

// submit stores an envelope and returns once it is committed (nil) or
// failed; ctx ends the wait, not the write.
func (b *batcher) submit(ctx context.Context, env *store.IngestEnvelope, a *arrival) error {
	defer a.finish()
	w := &write{env: env, done: make(chan error, 1)}
	b.mu.RLock()
	if b.stopped {
		b.mu.RUnlock()
		return errStopped
	}
	select {
	case b.queue <- w:
		b.mu.RUnlock()
		a.finish()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher) run() {
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for first := range b.queue {
		batch := []*write{first}
		open := true
	fill:
		for len(batch) < b.maxBatch {
			select {
			case w, ok := <-b.queue:
				if !ok {
					open = false
					break fill
				}
				batch = append(batch, w)
			default:
				break fill
			}
		}
		if open && len(batch) < b.maxBatch && b.coming.Load() > 0 {
			linger.Reset(maxLinger)
		wait:
			for len(batch) < b.maxBatch && b.coming.Load() > 0 {
				select {
				case w, ok := <-b.queue:
					if !ok {
						break wait
					}
					batch = append(batch, w)
				case <-linger.C:
					break wait
				}
			}
			linger.Stop()
		}
		b.store1(batch)
	}
}

// store1 commits a batch; when the batch fails, each envelope is retried
// alone so that one bad envelope cannot fail the others.
func (b *batcher) store1(batch []*write) {
	envs := make([]*store.IngestEnvelope, len(batch))
	for i, w := range batch {
		envs[i] = w.env
	}
	reserved := b.reserve(envs)
	start := time.Now()
	// The writes outlive the requests that asked for them: a client that
	// hangs up must not roll back what others in the batch sent.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := b.store.IngestBatch(ctx, envs)
	cancel()
	if reserved > 0 {
		if err != nil {
			b.handoff.Release(reserved)
		} else {
			b.handoff.Hand(handed(envs), reserved)
		}
	}
	b.commit.Observe(time.Since(start).Seconds())
	b.batch.Observe(float64(len(batch)))
	if err == nil || len(batch) == 1 {
		if err != nil {
			b.log.Error("storing an envelope failed", "err", err)
		}
		for _, w := range batch {
			w.done <- err
		}
		return
	}
	b.log.Warn("group commit failed; storing its envelopes one by one", "envelopes", len(batch), "err", err)
	for _, w := range batch {
		b.store1([]*write{w})
	}
}

// reserve asks the hand-off for room for the batch's events and leases
// their outbox entries accordingly; it returns the room reserved.
func (b *batcher) reserve(envs []*store.IngestEnvelope) int {
	if b.handoff == nil {
		return 0
	}
	n := 0
	for _, env := range envs {
		n += len(env.Events)
	}
	var until time.Time
	if n > 0 {
		var ok bool
		if until, ok = b.handoff.Reserve(n); !ok {
			n, until = 0, time.Time{}
		}
	}
	for _, env := range envs {
		for _, ie := range env.Events {
			ie.ClaimUntil = until
		}
	}
	return n
}

// handed lists the outbox entries a committed batch wrote, with their
// events as parsed. The events are copied without their JSON (which the
// rules read through the typed fields), so that a queue of them holds
// less memory.
func handed(envs []*store.IngestEnvelope) []*store.OutboxEntry {
	var out []*store.OutboxEntry
	for _, env := range envs {
		for i, ie := range env.Events {
			r := env.Results[i]
			if r.Duplicate || r.OutboxID == 0 {
				continue
			}
			ev := *ie.Event
			ev.Data = nil
			rowID := r.EventRowID
			out = append(out, &store.OutboxEntry{ID: r.OutboxID, ProjectID: ie.ProjectID, IssueID: r.IssueID,
				EventRowID: &rowID, Kind: r.Kind, DateCreated: ie.Event.Received.Truncate(time.Microsecond), Event: &ev,
				Issue: r.Issue})
		}
	}
	return out
}

// stop stores what is queued and stops the writers; later submits get errStopped.
func (b *batcher) stop() {
	b.mu.Lock()
	if !b.stopped {
		b.stopped = true
		close(b.queue)
	}
	b.mu.Unlock()
	b.wg.Wait()
}
