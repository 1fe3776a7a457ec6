package event

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of an event's JSON; deeper payloads are
// rejected before decoding, so a hostile 10,000-deep array costs one scan.
const MaxDepth = 64

// Error is a payload that cannot be an event; ingest answers it with 400.
type Error struct{ Reason string }

func (e *Error) Error() string { return e.Reason }

func invalid(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// ParseOptions carry what the payload itself does not say.
type ParseOptions struct {
	// Received is when Tocsin took the event.
	Received time.Time
	// EventID comes from the envelope header; used when the payload has none.
	EventID string
	// ClientIP replaces a user ip_address of "{{auto}}".
	ClientIP string
}

// Parse decodes, normalizes and scrubs an event payload.
func Parse(data []byte, opts ParseOptions) (*Event, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalid("empty event payload")
	}
	if !utf8.Valid(data) {
		return nil, invalid("event payload is not valid UTF-8")
	}
	if err := checkDepth(data, MaxDepth); err != nil {
		return nil, err
	}
	v, err := decodeJSON(data)
	if err != nil {
		return nil, invalid("event payload is not valid JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("event payload must be a JSON object")
	}
	if opts.Received.IsZero() {
		opts.Received = time.Now()
	}
	return FromData(m, opts)
}

// ParseStored reads an event as ingest stored it, already normalized and
// scrubbed: the typed fields Parse gives, without doing that work again
// (the rules engine reads an event per activity, and normalizing it anew
// was a third of its cost).
func ParseStored(data []byte) (*Event, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("stored event is not valid JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("stored event is not a JSON object")
	}
	ev := &Event{Data: m}
	extract(ev)
	return ev, nil
}

// ParseStoredForRules reads a stored event as ParseStored does, but passes
// over the parts that no rule filter or tag reads: breadcrumbs, extra data,
// modules, debug images, spans, and the variables and source lines around
// each frame. They are most of a typical event's bytes, and the engine
// reads an event for nearly every activity. The Event's Data lacks them.
func ParseStoredForRules(data []byte) (*Event, error) {
	d := decoder{data: data, text: string(data), skip: skipForRules}
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return nil, errors.New("stored event is not a JSON object")
	}
	v, err := d.value(0)
	if err != nil {
		return nil, fmt.Errorf("stored event is not valid JSON: %w", err)
	}
	ev := &Event{Data: v.(map[string]any)}
	extract(ev)
	return ev, nil
}

// skipForRules names the members ParseStoredForRules passes over: at the
// top level, and in frames (which are objects at depth 4 or more: a
// stacktrace's frames, an exception's or a thread's).
func skipForRules(depth int, key string) bool {
	switch depth {
	case 1:
		switch key {
		case "breadcrumbs", "extra", "modules", "debug_meta", "spans", "measurements", "_meta":
			return true
		}
	case 2, 3:
	default:
		switch key {
		case "vars", "pre_context", "post_context":
			return true
		}
	}
	return false
}

// FromData normalizes and scrubs an already decoded payload in place and
// reads the typed fields from it.
func FromData(m map[string]any, opts ParseOptions) (*Event, error) {
	ev := &Event{Data: m}
	if err := normalize(ev, opts); err != nil {
		return nil, err
	}
	scrub(m)
	trim(m)
	extract(ev)
	return ev, nil
}

// checkDepth refuses JSON text nested deeper than max.
func checkDepth(data []byte, max int) error {
	if JSONDepth(data) > max {
		return invalid("event payload nested deeper than %d levels", max)
	}
	return nil
}

// JSONDepth returns the deepest nesting of objects and arrays in JSON text,
// without decoding it, so that hostile nesting costs one linear scan.
func JSONDepth(b []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// NormalizeID returns an event id in any form Relay accepts (32 hex
// digits, the hyphenated 36-character UUID, either in braces or prefixed
// with "urn:uuid:") as 32 lowercase hex digits, the form Sentry stores and
// answers; "" when it is none of these.
func NormalizeID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 9 && strings.EqualFold(s[:9], "urn:uuid:") {
		s = s[9:]
	} else if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	switch len(s) {
	case 32:
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return ""
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	default:
		return ""
	}
	out := make([]byte, 32)
	for i := range 32 {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			c += 'a' - 'A'
		default:
			return ""
		}
		out[i] = c
	}
	return string(out)
}

// NewID returns a random event id.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// Timestamps further than this in the future are clock skew; as Relay,
// Tocsin replaces them with the receive time.
const maxFutureSkew = time.Minute

// parseTimestamp reads Sentry's timestamp forms: seconds since the epoch
// (number or numeric string) or an RFC 3339 / ISO 8601 string, with or
// without a zone (no zone means UTC).
func parseTimestamp(v any) (time.Time, bool) {
	var secs float64
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, false
		}
		secs = f
	case float64:
		secs = x
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			secs = f
			break
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	default:
		return time.Time{}, false
	}
	if secs <= 0 || math.IsInf(secs, 0) || math.IsNaN(secs) || secs > 1e11 {
		return time.Time{}, false
	}
	// Float seconds carry microseconds at best; round to them so that a
	// stored timestamp reads back as it was written.
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(math.Round(frac*1e6))*1000).UTC(), true
}

// epochSeconds renders t as Sentry stores it: float seconds.
func epochSeconds(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMicro())/1e6, 'f', -1, 64))
}
