package summaries

import (
	"strings"
	"testing"
	"time"
)

func TestParse_NextRuns(t *testing.T) {
	t.Parallel()
	s, err := Parse("0 9 * * MON-FRI", "Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// Friday 2026-11-27 02:00 UTC is 10:00 in Shanghai: the next runs are
	// Monday to Friday at 09:00 there, 01:00 UTC.
	got := s.NextRuns(time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), 5)
	want := []string{"2026-11-30T01:00:00Z", "2026-12-01T01:00:00Z", "2026-12-02T01:00:00Z", "2026-12-03T01:00:00Z", "2026-12-04T01:00:00Z"}
	if len(got) != len(want) {
		t.Fatalf("%d runs, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Format(time.RFC3339) != want[i] {
			t.Errorf("run %d at %s, want %s", i, got[i].Format(time.RFC3339), want[i])
		}
	}
	if d, err := Parse("@daily", ""); err != nil || !d.Next(time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)).Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("@daily: %v", err)
	}
	for _, bad := range []struct{ expr, tz, says string }{
		{"0 9 * *", "", "expected exactly 5 fields"},
		{"61 9 * * *", "", "end of range (61) above maximum (59)"},
		{"0 9 * * MON", "Mars/Olympus", "not a time zone"},
		{"CRON_TZ=UTC 0 9 * * *", "", "give the time zone in timezone"},
	} {
		_, err := Parse(bad.expr, bad.tz)
		if err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("Parse(%q, %q): %v, want an error saying %q", bad.expr, bad.tz, err, bad.says)
		}
	}
}
