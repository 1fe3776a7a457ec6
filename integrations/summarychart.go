package integrations

import (
	"strconv"
	"strings"
)

// Bar is one day of a summary's events chart, drawn in text: the bar's
// length is proportional to the busiest day's (at most width blocks).
type Bar struct {
	Label  string // "Mon 23 Nov"
	Events int64
	Blocks string // "█████"
	// Percent of the busiest day, for charts drawn in HTML.
	Percent int
}

// Bars draws a summary's events per day.
func (s *Summary) Bars(width int) []Bar {
	var peak int64
	for _, d := range s.EventsByDay {
		peak = max(peak, d.Events)
	}
	out := make([]Bar, 0, len(s.EventsByDay))
	for _, d := range s.EventsByDay {
		b := Bar{Label: d.Day.UTC().Format("Mon 02 Jan"), Events: d.Events}
		if peak > 0 {
			n := int((d.Events*int64(width) + peak - 1) / peak)
			b.Blocks = strings.Repeat("█", n)
			b.Percent = int(d.Events * 100 / peak)
		}
		out = append(out, b)
	}
	return out
}

// Chart is Bars as lines of text: "Mon 23 Nov ████ 120".
func (s *Summary) Chart(width int) string {
	var b strings.Builder
	for _, bar := range s.Bars(width) {
		b.WriteString(bar.Label + " " + bar.Blocks + " " + strconv.FormatInt(bar.Events, 10) + "\n")
	}
	return b.String()
}
