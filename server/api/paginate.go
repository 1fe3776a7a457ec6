package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tocsin/tocsin/store"
)

// Page sizes, as Sentry's: per_page (or limit) defaults to and caps at 100.
const (
	defaultPerPage = 100
	maxPerPage     = 100
	maxOffset      = 1_000_000
)

// cursor is Sentry's cursor, "value:offset:is_prev". Tocsin's offset lists
// keep value 0 and count offset in rows.
type cursor struct {
	offset int
	prev   bool
}

func (c cursor) String() string {
	p := 0
	if c.prev {
		p = 1
	}
	return fmt.Sprintf("0:%d:%d", c.offset, p)
}

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	off, err := strconv.Atoi(parts[1])
	if err != nil || off < 0 || off > maxOffset {
		return cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	if _, err := strconv.ParseFloat(parts[0], 64); err != nil || (parts[2] != "0" && parts[2] != "1") {
		return cursor{}, fmt.Errorf("invalid cursor %q", s)
	}
	return cursor{offset: off, prev: parts[2] == "1"}, nil
}

// pager reads a list request's cursor and page size and writes the Link
// header for the slice it returns.
type pager struct {
	r      *http.Request
	base   string // the public base URL the links start with
	limit  int
	offset int
}

// newPager parses ?cursor= and ?per_page= (or ?limit=); it answers 400 itself.
func newPager(w http.ResponseWriter, r *http.Request, base string) (*pager, bool) {
	q := r.URL.Query()
	c, err := parseCursor(q.Get("cursor"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	limit := defaultPerPage
	for _, name := range []string{"per_page", "limit"} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxPerPage {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: expected a number from 1 to %d", name, maxPerPage))
				return nil, false
			}
			limit = n
		}
	}
	return &pager{r: r, base: base, limit: limit, offset: c.offset}, true
}

// page asks the store for one row more than the page holds, to learn
// whether there is a next page without counting.
func (p *pager) page() store.Page { return store.Page{Limit: p.limit + 1, Offset: p.offset} }

// trim cuts the extra row off and writes the Link header; it returns the
// number of rows to answer.
func (p *pager) trim(w http.ResponseWriter, n int) int {
	more := n > p.limit
	if more {
		n = p.limit
	}
	prevOff := max(p.offset-p.limit, 0)
	prev := cursor{offset: prevOff, prev: true}
	next := cursor{offset: p.offset + p.limit}
	w.Header().Set("Link", p.link(prev, "previous", p.offset > 0)+", "+p.link(next, "next", more))
	return n
}

func (p *pager) link(c cursor, rel string, results bool) string {
	q := p.r.URL.Query()
	q.Del("cursor")
	query := q.Encode()
	if query != "" {
		query += "&"
	}
	// Sentry prints the cursor's colons unescaped; clients match on them.
	link := p.base + p.r.URL.EscapedPath() + "?" + query + "cursor=" + c.String()
	return fmt.Sprintf(`<%s>; rel="%s"; results="%t"; cursor="%s"`, link, rel, results, c)
}

// paginate answers a page of a list: items[:n] serialized by fn.
func paginate[T, J any](w http.ResponseWriter, p *pager, items []T, fn func(T) J) {
	n := p.trim(w, len(items))
	out := make([]J, 0, n)
	for _, it := range items[:n] {
		out = append(out, fn(it))
	}
	writeJSON(w, http.StatusOK, out)
}
