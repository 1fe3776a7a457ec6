package ingest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tocsin/tocsin/store"
)

// keyCache keeps client keys for a few seconds, so that ingest does not
// read the store for every request, and remembers unknown keys as well, so
// that a flood of bogus keys does not reach the store either. A disabled or
// deleted key is refused within keyTTL.
type keyCache struct {
	store *store.Store
	now   func() time.Time
	mu    sync.Mutex
	keys  map[string]keyEntry
}

type keyEntry struct {
	key     *store.IngestKey // nil: unknown key
	expires time.Time
}

const (
	keyTTL       = 10 * time.Second
	maxCachedKey = 10_000
)

func newKeyCache(st *store.Store, now func() time.Time) *keyCache {
	return &keyCache{store: st, now: now, keys: map[string]keyEntry{}}
}

// get returns the key, or nil when no project has it.
func (c *keyCache) get(ctx context.Context, public string) (*store.IngestKey, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.keys[public]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	k, err := c.store.IngestKeyGet(ctx, public)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	c.mu.Lock()
	if len(c.keys) >= maxCachedKey {
		for p, old := range c.keys { // drop expired entries, or any when none expired
			if !now.Before(old.expires) || len(c.keys) >= maxCachedKey {
				delete(c.keys, p)
			}
			if len(c.keys) < maxCachedKey/2 {
				break
			}
		}
	}
	c.keys[public] = keyEntry{key: k, expires: now.Add(keyTTL)}
	c.mu.Unlock()
	return k, nil
}
