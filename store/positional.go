package store

import (
	"strconv"
	"strings"
	"sync"
)

// positionalCache maps a query text to its positional form.
var positionalCache sync.Map // string → string

// positional returns query with its $1, $2, … placeholders written as
// SQLite's anonymous ?, when they appear once each and in order (most
// queries); otherwise query unchanged. Queries are written with $N for both
// engines, but SQLite looks a numbered parameter's name up in a list for
// every bound value, which made binding a 600-value upsert quadratic: a
// tenth of the writer's time went to it.
func positional(query string) string {
	if v, ok := positionalCache.Load(query); ok {
		return v.(string)
	}
	out := rewritePositional(query)
	positionalCache.Store(query, out)
	return out
}

func rewritePositional(query string) string {
	if !strings.Contains(query, "$") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	next := 1
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch c {
		case '\'', '"':
			// Copy a quoted literal or identifier whole: a $ in it is text.
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				return query
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
			continue
		case '$':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(query[i+1 : j])
			if err != nil || n != next {
				return query
			}
			next++
			b.WriteByte('?')
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
