// Package summaries sends projects' scheduled summaries: on a cron
// schedule in a time zone, what happened since the last one (new issues,
// regressions, the busiest issues, resolutions, events per day), to any
// integration target. Exactly one process sends each run, however many
// workers see it due: the run is a compare-and-set on its next run time.
package summaries

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// parser reads the standard five fields and the descriptors (@daily,
// @weekly, @every 1h…), as cron(8) and robfig/cron's ParseStandard do.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule is a parsed cron expression in a time zone.
type Schedule struct {
	spec cron.Schedule
	loc  *time.Location
}

// Parse reads a cron expression such as "0 9 * * MON-FRI" in the time zone
// (an IANA name, "" for UTC). The error says what is wrong, for the API's 400.
func Parse(expr, timezone string) (*Schedule, error) {
	loc := time.UTC
	if timezone != "" {
		l, err := time.LoadLocation(timezone)
		if err != nil {
			return nil, fmt.Errorf("timezone %q is not a time zone name such as Asia/Shanghai", timezone)
		}
		loc = l
	}
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=") {
		return nil, fmt.Errorf("give the time zone in timezone, not in the schedule")
	}
	spec, err := parser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v", expr, err)
	}
	return &Schedule{spec: spec, loc: loc}, nil
}

// Next is the first run after t.
func (s *Schedule) Next(t time.Time) time.Time {
	return s.spec.Next(t.In(s.loc)).UTC()
}

// NextRuns are the n runs after t.
func (s *Schedule) NextRuns(t time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for range n {
		next := s.Next(t)
		if next.IsZero() {
			break
		}
		out = append(out, next)
		t = next
	}
	return out
}
