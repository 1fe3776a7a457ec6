// Package monitors holds what Tocsin knows about cron monitors that both
// ingest and the worker need: schedules (crontab or interval, in a time
// zone) and the event a failed, missed or timed-out check-in becomes.
package monitors

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule is when a monitor's job is expected to run next.
type Schedule interface {
	Next(after time.Time) time.Time
}

// ParseSchedule reads a monitor_config schedule: a crontab expression in
// a time zone, or an interval such as "10 minute"
// (https://develop.sentry.dev/sdk/telemetry/check-ins/#monitor-upsert-support).
func ParseSchedule(kind, value, tz string) (Schedule, error) {
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("time zone %q: %w", tz, err)
		}
		loc = l
	}
	switch kind {
	case "crontab", "":
		s, err := cron.ParseStandard(value)
		if err != nil {
			return nil, fmt.Errorf("crontab %q: %w", value, err)
		}
		return inLocation{s, loc}, nil
	case "interval":
		n, unit, _ := strings.Cut(strings.TrimSpace(value), " ")
		count, err := strconv.Atoi(n)
		if err != nil || count < 1 || count > 1_000_000 {
			return nil, fmt.Errorf("interval %q: want a positive count", value)
		}
		add, ok := intervalUnits[strings.TrimSuffix(strings.ToLower(unit), "s")]
		if !ok {
			return nil, fmt.Errorf("interval %q: unknown unit", value)
		}
		return interval{count, add}, nil
	}
	return nil, fmt.Errorf("schedule type %q: want crontab or interval", kind)
}

var intervalUnits = map[string]func(time.Time, int) time.Time{
	"minute": func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Minute) },
	"hour":   func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Hour) },
	"day":    func(t time.Time, n int) time.Time { return t.AddDate(0, 0, n) },
	"week":   func(t time.Time, n int) time.Time { return t.AddDate(0, 0, 7*n) },
	"month":  func(t time.Time, n int) time.Time { return t.AddDate(0, n, 0) },
	"year":   func(t time.Time, n int) time.Time { return t.AddDate(n, 0, 0) },
}

type inLocation struct {
	s   cron.Schedule
	loc *time.Location
}

func (s inLocation) Next(after time.Time) time.Time { return s.s.Next(after.In(s.loc)).UTC() }

type interval struct {
	n   int
	add func(time.Time, int) time.Time
}

func (i interval) Next(after time.Time) time.Time { return i.add(after, i.n).UTC() }
