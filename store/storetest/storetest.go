// Package storetest gives tests a real store on each engine: a SQLite file
// in a temporary directory, and a fresh schema in the PostgreSQL database
// named by TOCSIN_TEST_DATABASE_URL. When that variable is set and the
// database does not answer, tests fail instead of skipping, so CI cannot
// pass without PostgreSQL.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tocsin/tocsin/store"
)

// EnvDatabaseURL names the PostgreSQL database tests use.
const EnvDatabaseURL = "TOCSIN_TEST_DATABASE_URL"

// Engines are the engines every store test runs on.
var Engines = []store.Engine{store.SQLite, store.Postgres}

// ForEachEngine runs fn as a subtest per engine, each with its own
// migrated, empty store.
func ForEachEngine(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, e))
		})
	}
}

// Open returns a migrated, empty store on the engine, closed at the end of the test.
func Open(t testing.TB, e store.Engine) *store.Store {
	t.Helper()
	s := OpenUnmigrated(t, e)
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", e, err)
	}
	return s
}

// OpenURL opens a store on the database of url (from DatabaseURL) and
// migrates it, closed at the end of the test: tests of several processes
// on one database open it more than once.
func OpenURL(t testing.TB, url string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: url})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// OpenUnmigrated returns an empty store without its schema.
func OpenUnmigrated(t testing.TB, e store.Engine) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), store.Options{DatabaseURL: DatabaseURL(t, e)})
	if err != nil {
		t.Fatalf("open %s store: %v", e, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// DatabaseURL returns the TOCSIN_DATABASE_URL of a fresh, empty database
// on the engine, for tests that start the tocsin binary. On PostgreSQL it
// is a new schema, dropped when the test ends; on SQLite a new file.
// Without TOCSIN_TEST_DATABASE_URL the PostgreSQL case skips the test.
func DatabaseURL(t testing.TB, e store.Engine) string {
	t.Helper()
	if e == store.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "tocsin.db")
	}
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run them", EnvDatabaseURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL does not answer: %v", EnvDatabaseURL, err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "tocsin_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDatabaseURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
