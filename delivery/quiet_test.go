package delivery

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/store"
)

// quietFiring is a firing in a quiet-time test: at an offset from t0, of
// one of the test's issues (3 is fatal), by an action with the flags
// ("digest", "page") named in flags.
type quietFiring struct {
	at    time.Duration
	issue int
	flags string
}

// quietSent is a notification to the target: when (an offset from t0),
// its kind, and its issues.
type quietSent struct {
	at     time.Duration
	kind   string
	issues []int
}

func (s quietSent) String() string {
	return fmt.Sprintf("%s at %s of %v", s.kind, s.at, s.issues)
}

// Alerts held by a target's quiet time go out as one notification when
// it ends, with a digest that was open when it began or came due during
// it; fatal issues and paging actions go out at once; outside quiet time
// digests keep Sentry's delays. Two processes work the deliveries, and
// both are started again halfway: each notification still goes out once.
func TestWorker_QuietTime(t *testing.T) {
	t.Parallel()
	const (
		m = time.Minute
		s = time.Second
	)
	alert, digest := integrations.KindAlert, integrations.KindDigest
	tests := []struct {
		name  string
		quiet map[string]any // t0 is 10:00 UTC, a Monday
		fires []quietFiring
		want  []quietSent
	}{
		{name: "a held alert joins an open digest, which waits for the end",
			quiet: map[string]any{"quiet_hours": "10:02-11:00"},
			fires: []quietFiring{{0, 0, "digest"}, {3 * m, 1, ""}},
			want:  []quietSent{{60 * m, digest, []int{0, 1}}}},
		{name: "a digest due in quiet time begun after it opened waits for the end",
			quiet: map[string]any{"quiet_hours": "10:03-11:00"},
			fires: []quietFiring{{0, 0, "digest"}},
			want:  []quietSent{{60 * m, alert, []int{0}}}},
		{name: "and goes with what is held meanwhile",
			quiet: map[string]any{"quiet_hours": "10:03-11:00"},
			fires: []quietFiring{{0, 0, "digest"}, {30 * m, 1, ""}, {40 * m, 2, "digest"}},
			want:  []quietSent{{60 * m, digest, []int{0, 1, 2}}}},
		{name: "a held alert alone goes as itself",
			quiet: map[string]any{"quiet_hours": "10:00-11:00"},
			fires: []quietFiring{{10 * m, 1, ""}},
			want:  []quietSent{{60 * m, alert, []int{1}}}},
		{name: "held alerts go as one digest",
			quiet: map[string]any{"quiet_hours": "18:00-19:00", "timezone": "Asia/Shanghai"},
			fires: []quietFiring{{1 * m, 0, ""}, {2 * m, 1, ""}, {3 * m, 2, "digest"}, {4 * m, 0, ""}},
			want:  []quietSent{{60 * m, digest, []int{0, 1, 2}}}},
		{name: "quiet days hold alerts to midnight",
			quiet: map[string]any{"quiet_days": []any{"mon"}},
			fires: []quietFiring{{1 * m, 0, ""}, {2 * m, 1, ""}},
			want:  []quietSent{{14 * time.Hour, digest, []int{0, 1}}}},
		{name: "fatal and paging go at once",
			quiet: map[string]any{"quiet_hours": "10:00-11:00"},
			fires: []quietFiring{{1 * m, 0, ""}, {5 * m, 3, ""}, {6 * m, 3, "digest"}, {7 * m, 1, "page"}, {8 * m, 2, "digest page"}},
			want: []quietSent{{5 * m, alert, []int{3}}, {6 * m, alert, []int{3}}, {7 * m, alert, []int{1}},
				{8 * m, alert, []int{2}}, {60 * m, alert, []int{0}}}},
		{name: "fatal and paging in a digest that comes due in quiet time go then, the rest waits",
			quiet: map[string]any{"quiet_hours": "10:03-11:00"},
			fires: []quietFiring{{0, 3, "digest"}, {1 * m, 0, "digest"}, {2 * m, 1, "digest page"}},
			want:  []quietSent{{5 * m, digest, []int{1, 3}}, {60 * m, alert, []int{0}}}},
		{name: "after the end digests keep their delays",
			quiet: map[string]any{"quiet_hours": "10:00-11:00"},
			fires: []quietFiring{{10 * m, 0, ""}, {70 * m, 1, "digest"}, {74*m + 50*s, 2, "digest"}},
			want:  []quietSent{{60 * m, alert, []int{0}}, {75*m + 20*s, digest, []int{1, 2}}}},
		{name: "outside quiet time digests keep Sentry's delays",
			quiet: map[string]any{"quiet_hours": "12:00-13:00"},
			fires: []quietFiring{{0, 0, "digest"}, {4*m + 50*s, 1, "digest"}, {6 * m, 2, ""}},
			want:  []quietSent{{5*m + 20*s, digest, []int{0, 1}}, {6 * m, alert, []int{2}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			forEachEngine(t, func(t *testing.T, w *world) {
				f := newFake()
				config := map[string]any{"service": "chat"}
				for k, v := range tt.quiet {
					config[k] = v
				}
				in := w.integration(t, w.org, "fake", config, nil)
				issues := []int64{w.issue, w.newIssue(t, "KeyError: 'sku'"), w.newIssue(t, "TimeoutError: upstream"),
					w.newIssueLevel(t, "SystemExit: out of memory", "fatal")}

				// The workers run every minute for two hours, then every
				// quarter of an hour, at every firing, and a second before
				// every expected notification.
				var times []time.Duration
				for at := time.Duration(0); at <= 15*time.Hour; {
					times = append(times, at)
					if at < 2*time.Hour {
						at += m
					} else {
						at += 15 * m
					}
				}
				for _, fi := range tt.fires {
					times = append(times, fi.at)
				}
				for _, s := range tt.want {
					times = append(times, s.at-time.Second, s.at)
				}
				slices.Sort(times)
				times = slices.Compact(times)

				procs := w.processes(t, f)
				for i, at := range times {
					if i == len(times)/2 {
						procs = w.processes(t, f) // a restart
					}
					w.clock.Set(t0.Add(at))
					for _, fi := range tt.fires {
						if fi.at == at {
							a := notify(in, "#ops")
							for _, flag := range strings.Fields(fi.flags) {
								a[flag] = true
							}
							w.fire(t, issues[fi.issue], w.clock.Now(), "", a)
						}
					}
					var wg sync.WaitGroup
					for _, wk := range procs {
						wg.Go(func() {
							if err := wk.Run(context.Background()); err != nil {
								t.Errorf("run the delivery worker: %v", err)
							}
						})
					}
					wg.Wait()
				}

				index := map[int64]int{}
				for i, id := range issues {
					index[id] = i
				}
				var got []quietSent
				for _, c := range f.callsTo("chat") {
					n := c.Note
					s := quietSent{at: n.At.Sub(t0), kind: n.Kind}
					if n.Kind == digest {
						for _, d := range n.Digest {
							s.issues = append(s.issues, index[d.Issue.ID])
						}
					} else {
						s.issues = []int{index[n.Issue.ID]}
					}
					slices.Sort(s.issues)
					got = append(got, s)
				}
				slices.SortFunc(got, func(a, b quietSent) int { return strings.Compare(a.String(), b.String()) })
				want := slices.Clone(tt.want)
				slices.SortFunc(want, func(a, b quietSent) int { return strings.Compare(a.String(), b.String()) })
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("sent\n\t%v\nwant\n\t%v", got, want)
				}
			})
		})
	}
}

// processes returns the delivery workers of two processes on the world's
// database: one on the world's store, the other on a store of its own.
func (w *world) processes(t *testing.T, f *fake) []*Worker {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: w.url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	other := *w
	other.st = st
	return []*Worker{w.worker(t, f, Config{}), other.worker(t, f, Config{})}
}
