package worker

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/tocsin/tocsin/store"
)

// Local hands issue activities from ingest to the activity handlers of
// the same process, with their events as ingest parsed them. Reading and
// parsing each event back from the store was most of the rules engine's
// cost per event, and polling the outbox made alerts wait up to a second.
//
// The outbox stays the durable record: ingest writes the entries it hands
// over leased to this process for localLease, so that no other worker
// takes them, and they are deleted once handled. If the process dies
// first, the lease runs out and any worker's dispatch takes them, as it
// takes the entries ingest could not hand over because Local was full.
type Local struct {
	capacity int64
	pending  atomic.Int64 // entries reserved, queued or being handled
	queue    chan handedBatch
}

type handedBatch struct {
	entries  []*store.OutboxEntry
	reserved int
}

// localLease is how long handed-over entries are kept from other
// workers: far longer than handling takes, short enough that a crash
// delays their alerts by a minute at most.
const localLease = time.Minute

// DefaultLocalCapacity is the hand-off's size in `tocsin run`: each entry
// keeps its event's typed fields (about the size of the event's JSON),
// and past it activities wait in the outbox for the dispatch.
const DefaultLocalCapacity = 1024

// NewLocal returns a hand-off holding up to capacity entries.
func NewLocal(capacity int) *Local {
	return &Local{capacity: int64(capacity), queue: make(chan handedBatch, capacity)}
}

// Reserve takes room for n entries, which ingest then writes leased until
// the time returned; false when there is no room.
func (l *Local) Reserve(n int) (time.Time, bool) {
	for {
		p := l.pending.Load()
		if n <= 0 || p+int64(n) > l.capacity {
			return time.Time{}, false
		}
		if l.pending.CompareAndSwap(p, p+int64(n)) {
			return time.Now().Add(localLease), true
		}
	}
}

// Release gives back room reserved for a commit that failed.
func (l *Local) Release(n int) { l.pending.Add(-int64(n)) }

// Hand queues the committed entries of a reservation of reserved entries
// (fewer when some events were duplicates). It never blocks: the queue
// has a slot for every entry that can be reserved.
func (l *Local) Hand(entries []*store.OutboxEntry, reserved int) {
	l.queue <- handedBatch{entries: entries, reserved: reserved}
}

// maxLocalBatch bounds the entries handed to the handlers at once.
const maxLocalBatch = 500

// localLinger is how long a batch waits for more activities: little
// beside the time an alert takes to reach its service.
const localLinger = 20 * time.Millisecond

// handLocal runs the handed-over entries through the handlers until ctx
// ends, then handles what is still queued (ingest stops first, so that is
// all there will be). Handling is not cut short by the stop: a batch
// begun is finished, within localTimeout, so that a clean stop leaves
// nothing to wait out a lease.
func (w *Worker) handLocal(ctx context.Context) {
	l := w.cfg.Local
	work := context.WithoutCancel(ctx)
	for {
		select {
		case hb := <-l.queue:
			w.handleHanded(work, hb)
		case <-ctx.Done():
			for {
				select {
				case hb := <-l.queue:
					w.handleHanded(work, hb)
				default:
					return
				}
			}
		}
	}
}

// localTimeout bounds the handling of one handed batch.
const localTimeout = 30 * time.Second

// handleHanded handles one handed batch and whatever else is queued, up
// to maxLocalBatch entries. When a handler fails the entries stay in the
// outbox, leased, and are dispatched again once the lease runs out.
func (w *Worker) handleHanded(ctx context.Context, first handedBatch) {
	l := w.cfg.Local
	entries, reserved := first.entries, first.reserved
	// Waiting a moment for the next commits makes batches of tens of
	// activities instead of a few: the handlers' reads and writes are per
	// batch (the batch's issues in one read, its firings in one
	// transaction), and each write takes SQLite's one writer from ingest.
	linger := time.NewTimer(localLinger)
	defer linger.Stop()
more:
	for len(entries) < maxLocalBatch {
		select {
		case hb := <-l.queue:
			entries = append(entries, hb.entries...)
			reserved += hb.reserved
		case <-linger.C:
			break more
		case <-ctx.Done():
			break more
		}
	}
	defer l.Release(reserved)
	ctx, cancel := context.WithTimeout(ctx, localTimeout)
	defer cancel()
	_ = w.handle(ctx, "local activities", "local", entries)
}
