package store

import "testing"

func TestRewritePositional(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = $1 AND c = $2", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{"INSERT INTO t VALUES ($1, $2), ($3, $4)", "INSERT INTO t VALUES (?, ?), (?, ?)"},
		// Reused or out of order: kept numbered.
		{"SELECT a FROM t WHERE b = $1 OR c = $1", "SELECT a FROM t WHERE b = $1 OR c = $1"},
		{"SELECT a FROM t WHERE b = $2 AND c = $1", "SELECT a FROM t WHERE b = $2 AND c = $1"},
		// A $ in a literal is text.
		{"SELECT '$1', a FROM t WHERE b = $1", "SELECT '$1', a FROM t WHERE b = ?"},
		{`SELECT "x$" FROM t WHERE b = $1`, `SELECT "x$" FROM t WHERE b = ?`},
		{"SELECT $10 FROM t", "SELECT $10 FROM t"},
		{"SELECT 'unterminated $1", "SELECT 'unterminated $1"},
	} {
		if got := rewritePositional(tc.in); got != tc.want {
			t.Errorf("rewritePositional(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
