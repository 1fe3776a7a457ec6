package integrations

import "testing"

func TestFigure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cur, prev int64
		want      string
	}{
		{128, 100, "128 (+28%)"}, {90, 100, "90 (-10%)"}, {5, 5, "5 (±0%)"}, {7, 0, "7"}, {0, 4, "0 (-100%)"},
	} {
		if got := Figure(tc.cur, tc.prev); got != tc.want {
			t.Errorf("Figure(%d, %d) = %q, want %q", tc.cur, tc.prev, got, tc.want)
		}
	}
}
