package integrations

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/locale"
)

// Settings every provider that renders digests takes besides its own:
// when its target is quiet, and how long its digests wait.
var DeliveryFields = []Field{
	{Name: "quiet_hours"},            // "22:00-07:00": alerts are held then
	{Name: "quiet_days", List: true}, // ["sat", "sun"]: held all day
	{Name: "timezone"},               // of quiet hours and days, an IANA name (default UTC)
	{Name: "digest_min_delay"},       // "5m": a digest's wait after its first alert
	{Name: "digest_max_delay"},       // "30m": a digest's longest wait
	{Name: "digest_increment"},       // "30s": each later alert puts it off by at least this
	{Name: "language"},               // of its messages: "en" (default) or "zh-CN"
}

// Quiet is when a target takes no alerts but fatal ones and those of rules
// marked "page": they are held and sent as one digest when it ends.
type Quiet struct {
	from, to int // minutes after midnight; from == to means no hours
	days     [7]bool
	loc      *time.Location
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseQuiet reads quiet_hours, quiet_days and timezone from an
// integration's settings; nil when it has no quiet time.
func ParseQuiet(config map[string]any) (*Quiet, error) {
	hours, _ := config["quiet_hours"].(string)
	days, _ := config["quiet_days"].([]any)
	if strings.TrimSpace(hours) == "" && len(days) == 0 {
		return nil, nil
	}
	q := &Quiet{loc: time.UTC}
	if tz, _ := config["timezone"].(string); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("timezone %q: not a time zone name such as Asia/Shanghai", tz)
		}
		q.loc = loc
	}
	if hours = strings.TrimSpace(hours); hours != "" {
		from, to, ok := strings.Cut(hours, "-")
		var err1, err2 error
		if ok {
			q.from, err1 = clock(from)
			q.to, err2 = clock(to)
		}
		if !ok || err1 != nil || err2 != nil || q.from == q.to {
			return nil, fmt.Errorf("quiet_hours %q: want HH:MM-HH:MM, e.g. 22:00-07:00", hours)
		}
	}
	for _, d := range days {
		s, _ := d.(string)
		name := strings.ToLower(strings.TrimSpace(s))
		if len(name) > 3 {
			name = name[:3] // "saturday" is "sat"
		}
		wd, ok := weekdays[name]
		if !ok {
			return nil, fmt.Errorf("quiet_days: %q is not a day (mon … sun)", s)
		}
		q.days[wd] = true
	}
	return q, nil
}

func clock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, errors.New("bad time")
	}
	return hh*60 + mm, nil
}

// quietAt reports whether t falls in the quiet time.
func (q *Quiet) quietAt(t time.Time) bool {
	lt := t.In(q.loc)
	if q.days[lt.Weekday()] {
		return true
	}
	if q.from == q.to {
		return false
	}
	m := lt.Hour()*60 + lt.Minute()
	if q.from < q.to {
		return m >= q.from && m < q.to
	}
	return m >= q.from || m < q.to // over midnight
}

// End returns when the quiet time that t is in ends, and false when t is
// not in one.
func (q *Quiet) End(t time.Time) (time.Time, bool) {
	if q == nil || !q.quietAt(t) {
		return time.Time{}, false
	}
	// Step to the next boundary (a whole minute, a midnight) until the
	// time is not quiet; a week of steps covers every setting.
	cur := t
	for range 7 * 24 * 60 {
		if !q.quietAt(cur) {
			return cur, true
		}
		lt := cur.In(q.loc)
		if q.days[lt.Weekday()] {
			y, mo, d := lt.Date()
			cur = time.Date(y, mo, d+1, 0, 0, 0, 0, q.loc)
			continue
		}
		cur = lt.Truncate(time.Minute).Add(time.Minute)
	}
	return cur, true // quiet every day: once a week
}

// DigestDelays reads digest_min_delay, digest_increment and
// digest_max_delay, each falling back to def.
func DigestDelays(config map[string]any, def [3]time.Duration) ([3]time.Duration, error) {
	out := def
	for i, k := range []string{"digest_min_delay", "digest_increment", "digest_max_delay"} {
		s, _ := config[k].(string)
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > 24*time.Hour {
			return def, fmt.Errorf("%s %q: want a duration such as 5m, at most 24h", k, s)
		}
		out[i] = d
	}
	if out[0] > out[2] {
		return def, fmt.Errorf("digest_min_delay %s is longer than digest_max_delay %s", out[0], out[2])
	}
	return out, nil
}

// ValidateLanguage checks the "language" and "timezone" settings of a
// configuration, which say how its messages show texts and dates.
func ValidateLanguage(config map[string]any) error {
	if lang, _ := config["language"].(string); !locale.Valid(lang) {
		return fmt.Errorf("language %q: one of %s", lang, strings.Join(locale.Languages, ", "))
	}
	if tz, _ := config["timezone"].(string); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			return fmt.Errorf("timezone %q is not a time zone name such as Asia/Shanghai", tz)
		}
	}
	return nil
}

// ValidateDelivery checks the DeliveryFields of a configuration.
func ValidateDelivery(config map[string]any) error {
	if err := ValidateLanguage(config); err != nil {
		return err
	}
	if _, err := ParseQuiet(config); err != nil {
		return err
	}
	_, err := DigestDelays(config, [3]time.Duration{5 * time.Minute, 30 * time.Second, 30 * time.Minute})
	return err
}
