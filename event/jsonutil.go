package event

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Helpers for reading the generic JSON of a payload, where any field may
// have any type: a client's mistake in one field must not lose the event.

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// str renders a scalar as a string: strings as they are, numbers in their
// JSON form, booleans as true/false; objects, lists and null as "".
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// anyString renders any value as a string, JSON-encoding objects and lists.
func anyString(v any) string {
	switch v.(type) {
	case map[string]any, []any:
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	return str(v)
}

func intOf(v any) int {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return int(n)
		}
		if f, err := x.Float64(); err == nil {
			return int(f)
		}
	case float64:
		return int(x)
	case string:
		n, _ := strconv.Atoi(x)
		return n
	}
	return 0
}

func boolPtr(v any) *bool {
	if b, ok := v.(bool); ok {
		return &b
	}
	return nil
}

// values returns the list of an interface that Sentry accepts either as
// {"values": [...]} or as a bare list (or, for one item, a bare object).
func values(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		if vs, ok := x["values"]; ok {
			return list(vs)
		}
		return []any{x}
	}
	return nil
}

// truncate cuts s to at most n runes, marking the cut with "...", as Relay
// trims over-long strings.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

// firstLine is the first non-empty line of s.
func firstLine(s string) string {
	for line := range strings.SplitSeq(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}
