package integrations

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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

// weekdaysZH are the Chinese names of the days of the week.
var weekdaysZH = [7]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// dayLabel names a day for a reader of the language.
func dayLabel(d time.Time, lang string) string {
	d = d.UTC()
	if strings.HasPrefix(strings.ToLower(lang), "zh") {
		return fmt.Sprintf("%d月%d日 %s", d.Month(), d.Day(), weekdaysZH[d.Weekday()])
	}
	return d.Format("Mon 02 Jan")
}

// Bars draws a summary's events per day, days named in the language.
func (s *Summary) Bars(width int, lang string) []Bar {
	var peak int64
	for _, d := range s.EventsByDay {
		peak = max(peak, d.Events)
	}
	out := make([]Bar, 0, len(s.EventsByDay))
	for _, d := range s.EventsByDay {
		b := Bar{Label: dayLabel(d.Day, lang), Events: d.Events}
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
func (s *Summary) Chart(width int, lang string) string {
	var b strings.Builder
	for _, bar := range s.Bars(width, lang) {
		b.WriteString(bar.Label + " " + bar.Blocks + " " + strconv.FormatInt(bar.Events, 10) + "\n")
	}
	return b.String()
}

// Change is how a figure moved against the period before: "+25%", "-10%",
// "±0%", or "" when there is nothing to compare with (an empty period
// before).
func Change(cur, prev int64) string {
	if prev == 0 {
		return ""
	}
	pct := (cur - prev) * 100 / prev
	switch {
	case pct > 0:
		return "+" + strconv.FormatInt(pct, 10) + "%"
	case pct < 0:
		return strconv.FormatInt(pct, 10) + "%"
	}
	return "±0%"
}

// Figure is a summary figure with its change, "128 (+25%)".
func Figure(cur, prev int64) string {
	if c := Change(cur, prev); c != "" {
		return strconv.FormatInt(cur, 10) + " (" + c + ")"
	}
	return strconv.FormatInt(cur, 10)
}

// EventsFigure and the other three are the summary's figures with their
// changes, for templates.
func (s *Summary) EventsFigure() string      { return Figure(s.Events, s.PrevEvents) }
func (s *Summary) NewIssuesFigure() string   { return Figure(s.NewIssues, s.PrevNewIssues) }
func (s *Summary) RegressionsFigure() string { return Figure(s.Regressions, s.PrevRegressions) }
func (s *Summary) ResolvedFigure() string    { return Figure(s.Resolved, s.PrevResolved) }
