package ingest

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/tocsin/tocsin/store"
)

// limiter enforces a key's rate limit (events per window of seconds) and a
// project's daily quota, per process. With several web processes each one
// counts its own share of the key's window, which Sentry's own per-node
// Redis-less limits also accept; the daily quota starts from the store's
// count of the day, so restarts don't reset it.
type limiter struct {
	store *store.Store
	now   func() time.Time
	mu    sync.Mutex
	keys  map[string]*window
	days  map[int64]*dayCount
}

type window struct {
	start time.Time
	n     int
}

type dayCount struct {
	day int64
	n   int64
}

// limited says why and for how long events are refused.
type limited struct {
	retryAfter time.Duration
	scope      string // key or project
	reason     string // Sentry's reason codes: key_quota, usage_exceeded
}

func newLimiter(st *store.Store, now func() time.Time) *limiter {
	return &limiter{store: st, now: now, keys: map[string]*window{}, days: map[int64]*dayCount{}}
}

// admit reserves n events for the key and its project, or says why not.
func (l *limiter) admit(ctx context.Context, k *store.IngestKey, n int) (*limited, error) {
	if n == 0 {
		return nil, nil
	}
	now := l.now()
	day := now.Unix() / 86400
	var dc *dayCount
	if k.EventQuotaPerDay > 0 {
		var err error
		if dc, err = l.day(ctx, k.ProjectID, day); err != nil {
			return nil, err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if dc != nil && dc.n+int64(n) > k.EventQuotaPerDay {
		next := time.Unix((day+1)*86400, 0)
		return &limited{retryAfter: next.Sub(now), scope: "project", reason: "usage_exceeded"}, nil
	}
	if k.RateLimitCount > 0 && k.RateLimitWindow > 0 {
		size := time.Duration(k.RateLimitWindow) * time.Second
		w := l.keys[k.Public]
		if w == nil || now.Sub(w.start) >= size {
			w = &window{start: now.Truncate(size)}
			l.keys[k.Public] = w
		}
		if w.n+n > k.RateLimitCount {
			return &limited{retryAfter: w.start.Add(size).Sub(now), scope: "key", reason: "key_quota"}, nil
		}
		w.n += n
	}
	if dc != nil {
		dc.n += int64(n)
	}
	return nil, nil
}

// day returns the project's count of the day, reading the store once a day.
func (l *limiter) day(ctx context.Context, projectID, day int64) (*dayCount, error) {
	l.mu.Lock()
	dc := l.days[projectID]
	l.mu.Unlock()
	if dc != nil && dc.day == day {
		return dc, nil
	}
	n, err := l.store.ProjectAcceptedSince(ctx, projectID, "error", day*1440)
	if err != nil {
		return nil, fmt.Errorf("daily quota: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur := l.days[projectID]; cur != nil && cur.day == day {
		return cur, nil
	}
	dc = &dayCount{day: day, n: n}
	l.days[projectID] = dc
	return dc, nil
}

// headerValue renders X-Sentry-Rate-Limits, "retry_after:categories:scope:reason"
// (https://develop.sentry.dev/sdk/expected-features/rate-limiting/).
func (lm *limited) headerValue() string {
	return fmt.Sprintf("%d:error;default;security:%s:%s", lm.seconds(), lm.scope, lm.reason)
}

func (lm *limited) seconds() int {
	return max(1, int(math.Ceil(lm.retryAfter.Seconds())))
}
