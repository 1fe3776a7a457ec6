package integrations

import (
	"testing"
	"time"
)

func TestQuiet_End(t *testing.T) {
	t.Parallel()
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no time zone data")
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// 2026-11-27 is a Friday.
	q, err := ParseQuiet(map[string]any{"quiet_hours": "22:00-07:00", "quiet_days": []any{"sat", "Sunday"}, "timezone": "Asia/Shanghai"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at, end string // end "" means not quiet
	}{
		{"2026-11-26 21:59", ""},
		{"2026-11-26 22:00", "2026-11-27 07:00"},
		{"2026-11-27 03:15", "2026-11-27 07:00"},
		{"2026-11-27 07:00", ""},
		{"2026-11-27 23:30", "2026-11-30 07:00"}, // Friday night runs into the weekend and Monday's early hours
		{"2026-11-28 12:00", "2026-11-30 07:00"},
		{"2026-11-30 06:59", "2026-11-30 07:00"},
	} {
		end, quiet := q.End(at(tc.at))
		switch {
		case tc.end == "" && quiet:
			t.Errorf("%s: quiet until %s, want not quiet", tc.at, end.In(shanghai))
		case tc.end != "" && (!quiet || !end.Equal(at(tc.end))):
			t.Errorf("%s: quiet %t until %s, want until %s", tc.at, quiet, end.In(shanghai), tc.end)
		}
	}

	for _, bad := range []map[string]any{
		{"quiet_hours": "22-7"}, {"quiet_hours": "22:00-22:00"}, {"quiet_hours": "25:00-07:00"},
		{"quiet_days": []any{"someday"}}, {"quiet_hours": "22:00-07:00", "timezone": "Mars/Olympus"},
	} {
		if _, err := ParseQuiet(bad); err == nil {
			t.Errorf("ParseQuiet(%v): no error", bad)
		}
	}
	if q, err := ParseQuiet(map[string]any{}); q != nil || err != nil {
		t.Errorf("no settings: %v, %v; want no quiet time", q, err)
	}
}

func TestDigestDelays(t *testing.T) {
	t.Parallel()
	def := [3]time.Duration{5 * time.Minute, 30 * time.Second, 30 * time.Minute}
	got, err := DigestDelays(map[string]any{"digest_min_delay": "2m", "digest_max_delay": "1h"}, def)
	if err != nil || got != [3]time.Duration{2 * time.Minute, 30 * time.Second, time.Hour} {
		t.Errorf("delays %v (%v)", got, err)
	}
	for _, bad := range []map[string]any{{"digest_min_delay": "soon"}, {"digest_max_delay": "48h"},
		{"digest_min_delay": "40m"}} {
		if _, err := DigestDelays(bad, def); err == nil {
			t.Errorf("DigestDelays(%v): no error", bad)
		}
	}
}
