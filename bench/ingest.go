// Package bench is Tocsin's load generator: it sends realistic Sentry
// events to a DSN from many concurrent clients and measures throughput and
// latency, for `tocsin bench ingest` and docs/performance.md.
package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/tocsin/tocsin/envelope"
)

// Config is one load run.
type Config struct {
	// DSN names the project events go to.
	DSN string
	// Concurrency is the number of workers, each one request at a time.
	Concurrency int
	// Events is how many events to send; 0 means until Duration ends.
	Events int
	// Rate, in events per second, makes the run open-loop: sends are
	// scheduled at fixed intervals whatever the answers take, and latency
	// counts from the scheduled time, so a slow server is not hidden by
	// the generator waiting for it (coordinated omission). 0 sends as fast
	// as the workers can (closed loop).
	Rate float64
	// Groups is the number of distinct issues the events make.
	Groups int
	// Duration ends the run; 0 means until Events are sent.
	Duration time.Duration
	// Client sends the requests; nil means NewClient(Concurrency).
	Client *http.Client
}

func (c *Config) validate() error {
	switch {
	case c.DSN == "":
		return errors.New("bench: no dsn")
	case c.Concurrency < 1:
		return fmt.Errorf("bench: concurrency %d; want at least 1", c.Concurrency)
	case c.Events < 0:
		return fmt.Errorf("bench: %d events; want 0 (no limit) or more", c.Events)
	case c.Events == 0 && c.Duration <= 0:
		return errors.New("bench: set a number of events or a duration, or the run never ends")
	case c.Rate < 0:
		return fmt.Errorf("bench: rate %g; want 0 (as fast as possible) or more", c.Rate)
	case c.Groups < 1:
		return fmt.Errorf("bench: %d groups; want at least 1", c.Groups)
	case c.Duration < 0:
		return fmt.Errorf("bench: duration %s; want 0 (no limit) or more", c.Duration)
	}
	return nil
}

// NewClient is the standard library's HTTP client tuned for load: one kept
// connection per worker, so that no request waits for a TCP handshake.
func NewClient(concurrency int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = concurrency
	tr.MaxIdleConnsPerHost = concurrency
	tr.DisableCompression = true
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// Run sends the load and reports what happened. It returns an error only
// when the run could not start (bad configuration); failed requests are
// in the Result. Cancelling ctx ends the run early with what was measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tgt, err := ParseDSN(cfg.DSN)
	if err != nil {
		return nil, err
	}
	evs, err := NewEvents(cfg.Groups)
	if err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(cfg.Concurrency)
	}
	r := &runner{cfg: cfg, tgt: tgt, events: evs, seed: rand.Uint64()}
	return r.run(ctx), nil
}

type runner struct {
	cfg    Config
	tgt    Target
	events *Events
	seed   uint64
	start  time.Time
	stopAt time.Time // zero: no deadline
	next   atomic.Int64
}

// job is one scheduled send of an open-loop run.
type job struct{ at time.Time }

func (r *runner) run(ctx context.Context) *Result {
	r.start = time.Now()
	if r.cfg.Duration > 0 {
		r.stopAt = r.start.Add(r.cfg.Duration)
	}
	var jobs chan job
	if r.cfg.Rate > 0 {
		jobs = make(chan job, r.cfg.Concurrency)
		go r.schedule(ctx, jobs)
	}
	stats := make([]*workerStats, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for w := range stats {
		st := newWorkerStats()
		stats[w] = st
		wg.Go(func() { r.work(ctx, w, jobs, st) })
	}
	wg.Wait()
	m := merge(stats)
	res := m.Result
	res.Duration = m.end.Sub(r.start)
	if m.end.IsZero() {
		res.Duration = time.Since(r.start)
	}
	res.Target = r.tgt.Endpoint
	res.Rate = r.cfg.Rate
	res.Concurrency = r.cfg.Concurrency
	res.Groups = r.cfg.Groups
	res.Interrupted = ctx.Err() != nil
	return res
}

// schedule emits a job every 1/Rate seconds from the start, until Events
// or the deadline. A job's time is when it should have been sent, not when
// a worker got to it: if every worker is busy the jobs wait, and their
// latency shows it.
func (r *runner) schedule(ctx context.Context, jobs chan<- job) {
	defer close(jobs)
	t := time.NewTimer(0)
	defer t.Stop()
	<-t.C
	for i := int64(0); r.cfg.Events == 0 || i < int64(r.cfg.Events); i++ {
		at := r.start.Add(time.Duration(float64(i) * float64(time.Second) / r.cfg.Rate))
		if !r.stopAt.IsZero() && !at.Before(r.stopAt) {
			return
		}
		if d := time.Until(at); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		select {
		case jobs <- job{at: at}:
		case <-ctx.Done():
			return
		}
	}
}

// take reserves the next event of a closed-loop run; false when the run is over.
func (r *runner) take(ctx context.Context) bool {
	if ctx.Err() != nil || (!r.stopAt.IsZero() && !time.Now().Before(r.stopAt)) {
		return false
	}
	return r.cfg.Events == 0 || r.next.Add(1) <= int64(r.cfg.Events)
}

func (r *runner) work(ctx context.Context, w int, jobs <-chan job, st *workerStats) {
	b := NewBuilder(r.events, r.tgt.DSN, r.seed, uint64(w))
	for {
		// The body is built before the clock starts: its cost is the
		// generator's, not the server's.
		body := b.Next()
		var at time.Time
		if jobs != nil {
			j, ok := <-jobs
			if !ok {
				return
			}
			at = j.at
			if lag := time.Since(at); lag > st.maxStartLag {
				st.maxStartLag = lag
			}
		} else {
			if !r.take(ctx) {
				return
			}
			at = time.Now()
		}
		status, err := r.send(ctx, body)
		end := time.Now()
		if err != nil && ctx.Err() != nil {
			return // interrupted, not failed
		}
		st.record(status, err, end.Sub(at), end, b.EventSize(), len(body))
	}
}

// send posts one envelope and reads the answer, so that the connection is
// kept for the next request.
func (r *runner) send(ctx context.Context, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.tgt.Endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-sentry-envelope")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-Sentry-Auth", r.tgt.Auth)
	req.Header.Set("User-Agent", "tocsin-bench/1.0")
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		// The URL holds no key, but say what failed, not where: the
		// endpoint is printed once in the report.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// Builder makes request bodies: gzip envelopes with one event of a random
// group each, under a unique event id. A Builder reuses its buffers and is
// for one goroutine.
type Builder struct {
	events *Events
	dsn    string
	rng    *rand.Rand
	json   []byte
	gz     *gzip.Writer
	out    bytes.Buffer
}

// NewBuilder returns a Builder of events; dsn goes in the envelope header.
// Builders of different seeds make different event ids.
func NewBuilder(events *Events, dsn string, seed1, seed2 uint64) *Builder {
	return &Builder{events: events, dsn: dsn, rng: rand.New(rand.NewPCG(seed1, seed2))}
}

// Next returns the next body, valid until the next call.
func (b *Builder) Next() []byte {
	now := time.Now()
	id := hexID(b.rng.Uint64(), b.rng.Uint64())
	trace := hexID(b.rng.Uint64(), b.rng.Uint64())
	b.json = b.events.Append(b.json[:0], b.rng.IntN(b.events.Groups()), id, now, b.rng.IntN(Users), trace)
	env := envelope.Envelope{
		Header: envelope.Header{EventID: id, DSN: b.dsn, SentAt: now,
			SDK: &envelope.SDKInfo{Name: "sentry.python.django", Version: "2.18.0"}},
		Items: []envelope.Item{{Type: "event", ContentType: "application/json", Payload: b.json}},
	}
	b.out.Reset()
	if b.gz == nil {
		// BestSpeed, and klauspost's gzip (4× faster than compress/gzip
		// here): the server's cost to inflate hardly depends on either,
		// and the generator shares the machine with the server.
		b.gz, _ = gzip.NewWriterLevel(&b.out, gzip.BestSpeed)
	} else {
		b.gz.Reset(&b.out)
	}
	// Writing to a bytes.Buffer through gzip cannot fail.
	_ = env.Write(b.gz)
	_ = b.gz.Close()
	return b.out.Bytes()
}

// EventSize is the size of the last event's JSON.
func (b *Builder) EventSize() int { return len(b.json) }
