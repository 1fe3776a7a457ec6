package monitors

import (
	"fmt"
	"time"

	"github.com/tocsin/tocsin/event"
)

// Why a check-in failed, as Sentry's monitor check-in statuses name it.
const (
	ReasonError   = "error"
	ReasonMissed  = "missed"
	ReasonTimeout = "timeout"
)

// FailureEvent is the event of a failed, missed or timed-out check-in. Its
// fingerprint puts all failures of one monitor into one issue, which then
// reaches the rules engine like any other issue activity.
func FailureEvent(slug, environment, reason string, at time.Time) *event.Event {
	data := map[string]any{
		"type":        "default",
		"level":       "error",
		"platform":    "other",
		"logger":      "monitor",
		"message":     fmt.Sprintf("Cron failure: %s (%s)", slug, reason),
		"tags":        map[string]any{"monitor.slug": slug, "monitor.status": reason},
		"fingerprint": []any{"monitor", slug},
	}
	if environment != "" {
		data["environment"] = environment
	}
	ev, _ := event.FromData(data, event.ParseOptions{Received: at})
	return ev
}

// Deadline is when a check-in is overdue: the schedule's next run after
// from, plus the margin in minutes (at least one, as Sentry).
func Deadline(s Schedule, from time.Time, marginMinutes int) time.Time {
	return s.Next(from).Add(time.Duration(max(marginMinutes, 1)) * time.Minute)
}
