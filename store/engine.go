package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names the SQL engine behind a Store.
type Engine string

// The engines Tocsin runs on.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// querier is what every query method runs on: the whole store or one
// transaction, on either engine. Queries are written once with $N
// placeholders, which both engines accept; where the SQL itself differs the
// method picks the text by s.engine.
type querier interface {
	exec(ctx context.Context, query string, args ...any) (int64, error)
	query(ctx context.Context, query string, args ...any) (rows, error)
	queryRow(ctx context.Context, query string, args ...any) row
}

// rows is the common part of *sql.Rows and pgx.Rows.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// row is the common part of *sql.Row and pgx.Row. Both report a missing row
// as an error matching sql.ErrNoRows.
type row interface {
	Scan(dest ...any) error
}

// dbQuerier runs queries on a SQLite connection pool (the readers),
// preparing each statement once: database/sql keeps a prepared statement
// on every connection it was used on, and parsing SQL was a quarter of the
// rules engine's reads. Statement texts that vary (IN lists of any
// length) are prepared once each up to a bound, then run unprepared.
type dbQuerier struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// maxCachedStmts bounds the prepared statements kept per pool.
const maxCachedStmts = 512

// cached returns the statement prepared for query, or nil.
func (d *dbQuerier) cached(query string) *sql.Stmt {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stmts[query]
}

// stmt returns the prepared statement for query (already in positional
// form), preparing it on first use; nil when the cache is full.
func (d *dbQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	d.mu.Lock()
	st, ok := d.stmts[query]
	full := len(d.stmts) >= maxCachedStmts
	d.mu.Unlock()
	if ok || full {
		return st, nil
	}
	st, err := d.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if prev, ok := d.stmts[query]; ok {
		_ = st.Close()
		st = prev
	} else {
		d.stmts[query] = st
	}
	d.mu.Unlock()
	return st, nil
}

func (d *dbQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	query = positional(query)
	st, err := d.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	if st == nil {
		res, err = d.db.ExecContext(ctx, query, args...)
	} else {
		res, err = st.ExecContext(ctx, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d *dbQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	query = positional(query)
	st, err := d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	var r *sql.Rows
	if st == nil {
		r, err = d.db.QueryContext(ctx, query, args...)
	} else {
		r, err = st.QueryContext(ctx, args...)
	}
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (d *dbQuerier) queryRow(ctx context.Context, query string, args ...any) row {
	query = positional(query)
	st, err := d.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return d.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// txQuerier runs queries in a SQLite transaction on statements prepared
// once on the writer connection and kept across transactions: a group
// commit runs the same few statements for every event of its batch, and
// parsing SQL was a tenth of the writer's time even when each statement was
// prepared once per transaction. A statement the writer has not prepared
// yet is prepared for this transaction and noted in missing; the store
// prepares those on the writer once the transaction has released its
// connection (the writer has one, so preparing on it now would wait on
// ourselves).
type txQuerier struct {
	tx      *sql.Tx
	cache   *dbQuerier
	stmts   map[string]*sql.Stmt
	missing []string
}

func (t *txQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	query = positional(query)
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if parent := t.cache.cached(query); parent != nil {
		// Reuses the statement already prepared on the writer connection.
		st = t.tx.StmtContext(ctx, parent)
	} else {
		var err error
		if st, err = t.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		t.missing = append(t.missing, query)
	}
	t.stmts[query] = st
	return st, nil
}

// prepareMissing prepares on the writer the statements the last
// transaction had to prepare for itself. Errors are left for the next use
// of the statement to report.
func (t *txQuerier) prepareMissing(ctx context.Context) {
	for _, q := range t.missing {
		_, _ = t.cache.stmt(ctx, q)
	}
}

func (t *txQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *txQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	r, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{r}, nil
}

func (t *txQuerier) queryRow(ctx context.Context, query string, args ...any) row {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// errRow is a row whose query could not be prepared.
type errRow struct{ err error }

func (e errRow) Scan(...any) error { return e.err }

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// pgxQuerier runs queries on a pgx pool or transaction (the PostgreSQL engine).
type pgxQuerier struct {
	q interface {
		Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (p pgxQuerier) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := p.q.Exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (p pgxQuerier) query(ctx context.Context, query string, args ...any) (rows, error) {
	return p.q.Query(ctx, query, args...)
}

func (p pgxQuerier) queryRow(ctx context.Context, query string, args ...any) row {
	return p.q.QueryRow(ctx, query, args...)
}

// isUniqueViolation reports whether err is a unique constraint failure on
// either engine; the store turns it into ErrConflict.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isNoRows reports whether err is a query's missing row, on either engine
// (pgx's ErrNoRows wraps sql.ErrNoRows).
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// notFound maps a missing row to ErrNotFound, naming what was looked up.
func notFound(err error, what string) error {
	if isNoRows(err) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("get %s: %w", what, err)
}

// placeholders returns "$from, $from+1, …" for n values.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}
