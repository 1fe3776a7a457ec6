// Package store is Tocsin's core store: the model types, their queries and
// the migrations, over two engines: an embedded SQLite file (the default)
// and PostgreSQL (the scaled shape). Every method takes a context, and every
// method that reads tenant data is scoped by organization.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Sentinel errors; handlers map them to status codes.
var (
	// ErrNotFound means the object does not exist or belongs to another organization.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique name (slug, email, key) is taken.
	ErrConflict = errors.New("already exists")
)

// minPoolConns is the smallest PostgreSQL pool Tocsin runs with.
const minPoolConns = 16

// Options configure Open.
type Options struct {
	// DatabaseURL selects the engine: empty for SQLite in DataDir,
	// "sqlite:PATH" / "file:PATH" for another SQLite file, postgres:// for PostgreSQL.
	DatabaseURL string
	// DataDir holds the default SQLite file.
	DataDir string
	// Logger receives migration and maintenance messages.
	Logger *slog.Logger
	// Registerer, when set, receives the store's metrics.
	Registerer prometheus.Registerer
	// ConnectTimeout bounds the first connection (default 10 s).
	ConnectTimeout time.Duration
}

// Store is the one Go API over both engines. It is safe for concurrent use.
type Store struct {
	engine Engine
	log    *slog.Logger
	addr   string // the database address with its password masked

	// SQLite: one writer connection, a pool of readers.
	writer, reader *sql.DB
	// wstmts keeps the statements prepared on the writer connection, for
	// transactions to reuse.
	wstmts *dbQuerier
	// PostgreSQL: the pool, and a database/sql view of it for the migrator.
	pool   *pgxpool.Pool
	poolDB *sql.DB

	w, r   querier // writes go to w, reads to r
	errors *prometheus.CounterVec
}

// Open connects to the store the options name and checks that it answers.
// It does not migrate; call Setup or Migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	s := &Store{log: opts.Logger}
	s.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tocsin_store_errors_total",
		Help: "Store operations that failed, by kind (not-found answers are not errors).",
	}, []string{"op"})
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(s.errors); err != nil {
			return nil, fmt.Errorf("register store metrics: %w", err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	u := opts.DatabaseURL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		if err := s.openPostgres(ctx, u); err != nil {
			return nil, err
		}
	default:
		path, err := sqlitePath(u, opts.DataDir)
		if err != nil {
			return nil, err
		}
		if err := s.openSQLite(ctx, path); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// sqlitePath resolves the SQLite file from the database URL or the data dir.
func sqlitePath(dbURL, dataDir string) (string, error) {
	var path string
	switch {
	case dbURL == "":
		if dataDir == "" {
			dataDir = "tocsin-data"
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return "", fmt.Errorf("create data dir: %w", err)
		}
		path = filepath.Join(dataDir, "tocsin.db")
	case strings.HasPrefix(dbURL, "sqlite://"):
		path = strings.TrimPrefix(dbURL, "sqlite://")
	case strings.HasPrefix(dbURL, "sqlite:"):
		path = strings.TrimPrefix(dbURL, "sqlite:")
	case strings.HasPrefix(dbURL, "file:"):
		path = strings.TrimPrefix(dbURL, "file:")
	default:
		return "", fmt.Errorf("database url %q: want postgres://, sqlite:PATH or file:PATH", RedactURL(dbURL))
	}
	if path == "" || strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("sqlite path %q: must be a plain file path", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("create directory for %s: %w", path, err)
		}
	}
	return path, nil
}

func (s *Store) openSQLite(ctx context.Context, path string) error {
	s.engine = SQLite
	s.addr = "sqlite:" + path
	// WAL lets readers run beside the one writer. synchronous=NORMAL: in WAL
	// mode a commit is written to the log before it returns, so it survives
	// the process being killed (what Tocsin promises for an acknowledged
	// event); only an operating-system crash or power loss may lose the
	// last commits, and the database stays consistent. FULL would add an
	// fsync to every group commit. busy_timeout covers another process (a
	// CLI command) holding the write lock for a moment.
	common := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
	w, err := sql.Open("sqlite", common+"&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("open %s: %w", s.addr, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return fmt.Errorf("open %s: %w", s.addr, err)
	}
	r, err := sql.Open("sqlite", common+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("open %s for reading: %w", s.addr, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s.writer, s.reader = w, r
	s.wstmts = &dbQuerier{db: w, stmts: map[string]*sql.Stmt{}}
	s.w = counting{s.wstmts, s}
	s.r = counting{&dbQuerier{db: r, stmts: map[string]*sql.Stmt{}}, s}
	return nil
}

func (s *Store) openPostgres(ctx context.Context, dbURL string) error {
	s.engine = Postgres
	s.addr = RedactURL(dbURL)
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		// pgx's parse errors may quote the URL; say only which one failed.
		return fmt.Errorf("parse database url %s: invalid connection string", s.addr)
	}
	// pgxpool's default (max(4, CPUs)) equals ingest's writers on small
	// machines: they then hold every connection while the outbox, the
	// rules engine and heartbeats wait, and requests time out. Leave room,
	// unless the URL sets pool_max_conns itself.
	if !strings.Contains(dbURL, "pool_max_conns") && cfg.MaxConns < minPoolConns {
		cfg.MaxConns = minPoolConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.addr, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("connect to %s: %w", s.addr, err)
	}
	s.pool = pool
	s.poolDB = stdlib.OpenDBFromPool(pool)
	s.w = counting{pgxQuerier{pool}, s}
	s.r = s.w
	return nil
}

// Engine reports which engine this store runs on.
func (s *Store) Engine() Engine { return s.engine }

// Addr is the database address with any password masked, for messages.
func (s *Store) Addr() string { return s.addr }

// Ping checks that the store answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.queryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", s.addr, err)
	}
	return nil
}

// Close releases the connections.
func (s *Store) Close() error {
	if s.pool != nil {
		_ = s.poolDB.Close()
		s.pool.Close()
		return nil
	}
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// tx runs fn in one write transaction, committing when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(q querier) error) error {
	if s.engine == Postgres {
		tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{})
		if err != nil {
			s.count("begin", err)
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		if err := fn(counting{pgxQuerier{tx}, s}); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			s.count("commit", err)
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		s.count("begin", err)
		return fmt.Errorf("begin: %w", err)
	}
	tq := &txQuerier{tx: tx, cache: s.wstmts, stmts: map[string]*sql.Stmt{}}
	defer func() {
		_ = tx.Rollback()
		tq.prepareMissing(context.WithoutCancel(ctx))
	}()
	if err := fn(counting{tq, s}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		s.count("commit", err)
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// count records a failed operation in the store error metric.
func (s *Store) count(op string, err error) {
	if err == nil || errors.Is(err, sql.ErrNoRows) || errors.Is(err, context.Canceled) {
		return
	}
	if isUniqueViolation(err) {
		op = "conflict"
	}
	s.errors.WithLabelValues(op).Inc()
}

// counting wraps a querier to count its failures.
type counting struct {
	q querier
	s *Store
}

func (c counting) exec(ctx context.Context, query string, args ...any) (int64, error) {
	n, err := c.q.exec(ctx, query, args...)
	c.s.count("exec", err)
	return n, err
}

func (c counting) query(ctx context.Context, query string, args ...any) (rows, error) {
	r, err := c.q.query(ctx, query, args...)
	c.s.count("query", err)
	return r, err
}

func (c counting) queryRow(ctx context.Context, query string, args ...any) row {
	return countingRow{c.q.queryRow(ctx, query, args...), c.s}
}

type countingRow struct {
	r row
	s *Store
}

func (c countingRow) Scan(dest ...any) error {
	err := c.r.Scan(dest...)
	c.s.count("query", err)
	return err
}

// RedactURL masks the password of a URL for messages and logs.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable url)"
	}
	return u.Redacted()
}

// now is the store's clock reading, truncated to microseconds so that both
// engines store and return the same value.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
