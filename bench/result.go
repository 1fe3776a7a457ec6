package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Result is what a run measured.
type Result struct {
	Target      string // the envelope endpoint
	Concurrency int
	Rate        float64 // scheduled events per second; 0 for a closed loop
	Groups      int
	// Sent counts requests that got an answer or failed in transport.
	Sent int
	// Accepted counts 2xx answers.
	Accepted int
	// RateLimited counts 429 answers: the server's quota at work, not a failure.
	RateLimited int
	// Rejected counts the other answers by status.
	Rejected map[int]int
	// Errors counts requests that got no answer; FirstError is one of them.
	Errors     int
	FirstError string
	// Interrupted is set when the run was cancelled before its end.
	Interrupted bool
	// Duration is from the start to the last answer.
	Duration time.Duration
	// Latencies of the answered requests, sorted; from the scheduled time
	// in an open-loop run, from the send otherwise.
	Latencies []time.Duration
	// MaxStartLag is how late the most delayed scheduled send started
	// (open loop): large values mean the workers could not keep up.
	MaxStartLag time.Duration
	// EventBytes and BodyBytes are the mean event JSON and gzip body sizes.
	EventBytes, BodyBytes int
}

// Failed counts the requests that failed: non-2xx answers other than 429,
// and requests without an answer.
func (r *Result) Failed() int {
	n := r.Errors
	for _, c := range r.Rejected {
		n += c
	}
	return n
}

// Throughput is accepted events per second.
func (r *Result) Throughput() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Accepted) / r.Duration.Seconds()
}

// Percentile returns the latency under which p percent (0–100) of the
// answered requests fall (nearest rank); 0 when none was answered.
func (r *Result) Percentile(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	rank := int(p/100*float64(n)+0.999999999) - 1
	return r.Latencies[min(max(rank, 0), n-1)]
}

// Print writes the report for a person.
func (r *Result) Print(w io.Writer) {
	mode := "closed loop, as fast as possible"
	if r.Rate > 0 {
		mode = fmt.Sprintf("open loop at %g events/s", r.Rate)
	}
	fmt.Fprintf(w, "target       %s\n", r.Target)
	fmt.Fprintf(w, "load         %d workers, %s, %d groups, events of %.1f KB (%.1f KB gzipped)\n",
		r.Concurrency, mode, r.Groups, float64(r.EventBytes)/1024, float64(r.BodyBytes)/1024)
	if r.Interrupted {
		fmt.Fprintf(w, "interrupted  the run was stopped early; figures cover what was sent\n")
	}
	fmt.Fprintf(w, "sent         %d\n", r.Sent)
	fmt.Fprintf(w, "accepted     %d\n", r.Accepted)
	fmt.Fprintf(w, "rate-limited %d (429)\n", r.RateLimited)
	fmt.Fprintf(w, "rejected     %d%s\n", r.Failed()-r.Errors, byStatus(r.Rejected))
	if r.Errors > 0 {
		fmt.Fprintf(w, "errors       %d (first: %s)\n", r.Errors, r.FirstError)
	} else {
		fmt.Fprintf(w, "errors       0\n")
	}
	fmt.Fprintf(w, "duration     %s\n", r.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "events/s     %.1f accepted\n", r.Throughput())
	fmt.Fprintf(w, "latency      p50 %s  p90 %s  p99 %s  max %s\n",
		ms(r.Percentile(50)), ms(r.Percentile(90)), ms(r.Percentile(99)), ms(r.Percentile(100)))
	if r.Rate > 0 {
		fmt.Fprintf(w, "start lag    max %s behind schedule\n", ms(r.MaxStartLag))
	}
}

func byStatus(m map[int]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d: %d", s, m[s]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// workerStats is one worker's share, merged at the end so that workers
// share no lock.
type workerStats struct {
	res         Result
	end         time.Time
	maxStartLag time.Duration
	eventBytes  int64
	bodyBytes   int64
}

func newWorkerStats() *workerStats {
	return &workerStats{res: Result{Rejected: map[int]int{}}}
}

func (s *workerStats) record(status int, err error, latency time.Duration, end time.Time, eventBytes, bodyBytes int) {
	s.res.Sent++
	s.eventBytes += int64(eventBytes)
	s.bodyBytes += int64(bodyBytes)
	if end.After(s.end) {
		s.end = end
	}
	switch {
	case err != nil:
		s.res.Errors++
		if s.res.FirstError == "" {
			s.res.FirstError = err.Error()
		}
		return
	case status >= 200 && status < 300:
		s.res.Accepted++
	case status == 429:
		s.res.RateLimited++
	default:
		s.res.Rejected[status]++
	}
	s.res.Latencies = append(s.res.Latencies, latency)
}

// mergedResult is a Result with the time of its last answer.
type mergedResult struct {
	*Result
	end time.Time
}

func merge(stats []*workerStats) mergedResult {
	m := mergedResult{Result: &Result{Rejected: map[int]int{}}}
	var eventBytes, bodyBytes int64
	for _, s := range stats {
		m.Sent += s.res.Sent
		m.Accepted += s.res.Accepted
		m.RateLimited += s.res.RateLimited
		m.Errors += s.res.Errors
		if m.FirstError == "" {
			m.FirstError = s.res.FirstError
		}
		for k, v := range s.res.Rejected {
			m.Rejected[k] += v
		}
		m.Latencies = append(m.Latencies, s.res.Latencies...)
		m.MaxStartLag = max(m.MaxStartLag, s.maxStartLag)
		eventBytes += s.eventBytes
		bodyBytes += s.bodyBytes
		if s.end.After(m.end) {
			m.end = s.end
		}
	}
	if m.Sent > 0 {
		m.EventBytes, m.BodyBytes = int(eventBytes/int64(m.Sent)), int(bodyBytes/int64(m.Sent))
	}
	slices.Sort(m.Latencies)
	return m
}
