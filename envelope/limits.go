package envelope

import "fmt"

const (
	kib = 1 << 10
	mib = 1 << 20
)

// Header lines are small in every SDK (an event id, a DSN, the SDK name and
// its integrations, a trace context). These bounds are Tocsin's own: Relay
// reads headers with serde, whose recursion limit is 128.
const (
	// maxHeaderBytes bounds one header line, envelope or item.
	maxHeaderBytes = 256 * kib
	// maxHeaderDepth bounds JSON nesting in one header line.
	maxHeaderDepth = 32
)

// Limits bound what Parse accepts. A zero field takes its value from
// DefaultLimits; a non-nil empty MaxItemBytes means no per-type limit.
type Limits struct {
	// MaxEnvelopeBytes bounds the whole (decompressed) envelope; more is a 413.
	MaxEnvelopeBytes int
	// MaxItemBytes bounds one item's payload by item type; a larger item is a
	// 413 for the whole envelope, as in Relay. Types not listed are bounded
	// only by MaxEnvelopeBytes.
	MaxItemBytes map[string]int
	// MaxItems bounds the number of items, so that an envelope of millions of
	// empty items cannot cost more memory than its size suggests.
	MaxItems int
}

// DefaultLimits returns Relay's defaults, so that Tocsin accepts what Sentry
// accepts: relay-config/src/config.rs, `impl Default for Limits`, and
// relay-server/src/utils/sizes.rs, check_envelope_size_limits, which maps
// item types to them (Relay as of April 2026, commit 0fd189dc):
//
//   - envelope: max_envelope_size, 200 MiB;
//   - event, transaction, security, raw_security, nel, feedback, replay_event,
//     form_data: max_event_size, 1 MiB (Relay sums these; one event per
//     envelope is what SDKs send);
//   - attachment, unreal_report, user_report: max_attachment_size, 200 MiB;
//   - replay_recording, replay_video: max_replay_compressed_size, 10 MiB;
//   - profile, profile_chunk: max_profile_size, 50 MiB;
//   - check_in: max_check_in_size, 100 KiB;
//   - client_report: max_client_reports_size, 4 KiB;
//   - statsd, metric_buckets: 1 MiB each;
//   - log, span, trace_metric: max_container_size, 12 MiB, since SDKs send
//     these as containers of many records (Relay checks the average record
//     against 1 MiB/10 MiB/1 MiB and the container against 12 MiB).
//
// Two are Tocsin's own. Relay bounds session and sessions items by count
// (max_session_count, 100), not bytes; Tocsin bounds each at 1 MiB, the size
// class of Relay's other JSON items. Relay has no item count limit;
// MaxItems is 1000, far above what any SDK batches.
func DefaultLimits() Limits {
	items := map[string]int{
		"attachment":       200 * mib,
		"unreal_report":    200 * mib,
		"user_report":      200 * mib,
		"replay_recording": 10 * mib,
		"replay_video":     10 * mib,
		"profile":          50 * mib,
		"profile_chunk":    50 * mib,
		"check_in":         100 * kib,
		"client_report":    4 * kib,
		"session":          1 * mib,
		"sessions":         1 * mib,
		"statsd":           1 * mib,
		"metric_buckets":   1 * mib,
		"log":              12 * mib,
		"span":             12 * mib,
		"trace_metric":     12 * mib,
	}
	for _, t := range []string{"event", "transaction", "security", "raw_security", "nel", "feedback", "replay_event", "form_data"} {
		items[t] = 1 * mib
	}
	return Limits{
		MaxEnvelopeBytes: 200 * mib,
		MaxItemBytes:     items,
		MaxItems:         1000,
	}
}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxEnvelopeBytes <= 0 {
		l.MaxEnvelopeBytes = d.MaxEnvelopeBytes
	}
	if l.MaxItemBytes == nil {
		l.MaxItemBytes = d.MaxItemBytes
	}
	if l.MaxItems <= 0 {
		l.MaxItems = d.MaxItems
	}
	return l
}

// itemLimit is the most bytes an item of type t may carry.
func (l Limits) itemLimit(t string) int {
	if n, ok := l.MaxItemBytes[t]; ok && n > 0 {
		return min(n, l.MaxEnvelopeBytes)
	}
	return l.MaxEnvelopeBytes
}

// formatSize renders n bytes for an error message: "1 MiB", "100 KiB",
// "1500 bytes".
func formatSize(n int) string {
	switch {
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n >= kib && n%kib == 0:
		return fmt.Sprintf("%d KiB", n/kib)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
