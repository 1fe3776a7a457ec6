package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
)

// deliveryTo returns the one acme delivery to an integration's target.
func (w *world) deliveryTo(t *testing.T, in *store.Integration, target string) *store.Delivery {
	t.Helper()
	var out *store.Delivery
	for _, d := range w.deliveries(t, w.org) {
		if d.IntegrationID != nil && *d.IntegrationID == in.ID && d.Target == target {
			if out != nil {
				t.Fatalf("two deliveries to integration %d, target %q", in.ID, target)
			}
			out = d
		}
	}
	if out == nil {
		t.Fatalf("no delivery to integration %d, target %q", in.ID, target)
	}
	return out
}

func wantOutcomes(t *testing.T, rows []attemptRow, want ...string) {
	t.Helper()
	var got []string
	for _, r := range rows {
		got = append(got, r.Outcome)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("attempt outcomes %v, want %v", got, want)
	}
}

func rateLimited(after time.Duration) answer {
	return func(*integrations.Notification) (*integrations.Result, error) {
		return nil, &integrations.RetryError{Reason: integrations.ReasonRateLimited, Status: 429, After: after,
			Err: errors.New("slow down")}
	}
}

func TestWorker_Delivered(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		f := newFake()
		in := w.integration(t, w.org, "fake", map[string]any{"service": "chat"}, map[string]any{"token": "s3cret-token"})
		f.queue("chat", "#ops", func(*integrations.Notification) (*integrations.Result, error) {
			return &integrations.Result{Handle: "C0OPS:1700000000.000001", URL: "https://chat.example.com/p1", Status: 200}, nil
		})
		wk := w.worker(t, f, Config{BaseURL: "https://tocsin.example.com/"})
		w.fire(t, w.issue, t0, "", notify(in, "#ops"))
		run(t, wk)

		calls := f.callsTo("chat")
		if len(calls) != 1 {
			t.Fatalf("%d notifications, want 1", len(calls))
		}
		d := w.deliveryTo(t, in, "#ops")
		c, n := calls[0], calls[0].Note
		issueURL := fmt.Sprintf("https://tocsin.example.com/organizations/acme/issues/%d/", w.issue)
		switch {
		case c.Token != "s3cret-token":
			t.Errorf("the notifier was built with token %q, want the sealed secret opened", c.Token)
		case !c.Deadline:
			t.Error("the attempt has no deadline of its own")
		case n.Kind != integrations.KindAlert || n.Target != "#ops" || n.Handle != "" || n.IdempotencyKey != d.IdempotencyKey:
			t.Errorf("notification kind %q target %q handle %q key %q; want alert to #ops, no handle, key %s",
				n.Kind, n.Target, n.Handle, n.IdempotencyKey, d.IdempotencyKey)
		case n.Issue.ID != w.issue || n.Issue.Title != "ValueError: card declined" || n.Issue.URL != issueURL ||
			n.Issue.Organization != "acme" || n.Issue.Project.Slug != "shop" || !strings.HasPrefix(n.Issue.ShortID, "SHOP-"):
			t.Errorf("notification issue %+v, want the issue at %s", n.Issue, issueURL)
		case n.Event == nil || n.Event.ID != w.events[w.issue] || n.Event.URL != issueURL+"events/"+w.events[w.issue]+"/":
			t.Errorf("notification event %+v, want the event that fired the rule", n.Event)
		case n.Rule == nil || n.Rule.ID != w.rule.ID || n.Rule.Name != w.rule.Name:
			t.Errorf("notification rule %+v, want %q", n.Rule, w.rule.Name)
		case n.Options["target"] != "#ops" || !n.At.Equal(t0):
			t.Errorf("notification options %v at %s, want the action's fields at %s", n.Options, n.At, t0)
		case n.Unsure:
			t.Error("a first attempt is marked Unsure")
		}

		if d.Status != store.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != 200 || d.LastError != "" ||
			d.Handle != "C0OPS:1700000000.000001" || d.URL != "https://chat.example.com/p1" ||
			d.DateDelivered == nil || !d.DateDelivered.Equal(t0) {
			t.Errorf("delivery %+v, want delivered at %s after 1 attempt with the service's handle", d, t0)
		}
		rows := w.attempts(t, d.ID)
		wantOutcomes(t, rows, store.OutcomeDelivered)
		if rows[0].StatusCode != 200 || !rows[0].Started.Equal(t0) || rows[0].NextAttempt != nil {
			t.Errorf("attempt %+v, want status 200 started at %s", rows[0], t0)
		}
		link, err := w.st.IssueLinkGet(ctx, in.ID, w.issue, "#ops")
		if err != nil || link == nil || link.Handle != "C0OPS:1700000000.000001" || link.URL != "https://chat.example.com/p1" {
			t.Fatalf("issue link %+v (%v), want the service's handle", link, err)
		}

		// The rule fires again for the issue: the notification carries
		// the handle, so that the service threads instead of posting anew.
		// Another target of the same integration has no thread yet.
		w.clock.Add(time.Hour)
		w.fire(t, w.issue, t0.Add(time.Hour), "", notify(in, "#ops"), notify(in, "#dev"))
		run(t, wk)
		calls = f.callsTo("chat")
		if len(calls) != 3 {
			t.Fatalf("%d notifications after the second firing, want 3", len(calls))
		}
		for _, c := range calls[1:] {
			want := map[string]string{"#ops": "C0OPS:1700000000.000001", "#dev": ""}[c.Note.Target]
			if c.Note.Handle != want {
				t.Errorf("notification to %s has handle %q, want %q", c.Note.Target, c.Note.Handle, want)
			}
		}
		if f.builds != 1 {
			t.Errorf("the notifier was built %d times for unchanged settings, want once", f.builds)
		}
		// Changed settings build a new notifier, with the new secret.
		sealed, err := w.box.Seal([]byte(`{"token":"rotated-token"}`), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		in.Secrets = sealed
		if _, err := w.st.IntegrationUpdate(ctx, in); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(time.Hour)
		w.fire(t, w.issue, t0.Add(2*time.Hour), "", notify(in, "#ops"))
		run(t, wk)
		calls = f.callsTo("chat")
		if len(calls) != 4 || calls[3].Token != "rotated-token" || f.builds != 2 {
			t.Errorf("after a settings change: %d calls, %d builds, token %q; want a rebuilt notifier with the new token",
				len(calls), f.builds, calls[len(calls)-1].Token)
		}
	})
}

func TestWorker_RetryAfterHoldsOnlyItsDestination(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider  string
		perTarget bool
	}{
		{"fake", false},
		{"fakepertarget", true},
	} {
		t.Run(tc.provider, func(t *testing.T) {
			t.Parallel()
			forEachEngine(t, func(t *testing.T, w *world) {
				f := newFake()
				a := w.integration(t, w.org, tc.provider, map[string]any{"service": "a"}, nil)
				b := w.integration(t, w.org, tc.provider, map[string]any{"service": "b"}, nil)
				f.queue("a", "#x", rateLimited(30*time.Second))
				wk := w.worker(t, f, Config{})
				w.fire(t, w.issue, t0, "", notify(a, "#x"), notify(b, "#x"))
				run(t, wk)

				held := w.deliveryTo(t, a, "#x")
				if held.Status != store.DeliveryRetrying || held.Attempts != 0 || !held.NextAttempt.Equal(t0.Add(30*time.Second)) ||
					held.LastStatus != 429 || !strings.Contains(held.LastError, "slow down") {
					t.Fatalf("rate-limited delivery %+v, want retrying at %s without spending an attempt", held, t0.Add(30*time.Second))
				}
				rows := w.attempts(t, held.ID)
				wantOutcomes(t, rows, store.OutcomeHeld)
				if r := rows[0]; r.Reason != integrations.ReasonRateLimited || r.StatusCode != 429 ||
					r.NextAttempt == nil || !r.NextAttempt.Equal(t0.Add(30*time.Second)) {
					t.Errorf("held attempt %+v, want rate_limited, 429, next at +30s", r)
				}
				dest := ""
				if tc.perTarget {
					dest = "#x"
				}
				if h := w.holds(t, a.ID); len(h) != 1 || !h[dest].Equal(t0.Add(30*time.Second)) {
					t.Errorf("holds of the integration %v, want %q until %s", h, dest, t0.Add(30*time.Second))
				}
				if h := w.holds(t, b.ID); len(h) != 0 {
					t.Errorf("the other integration is held: %v", h)
				}
				if d := w.deliveryTo(t, b, "#x"); d.Status != store.DeliveryDelivered {
					t.Errorf("the other integration's delivery is %s, want delivered meanwhile", d.Status)
				}

				// Meanwhile another target of the held integration: held too
				// when the service limits the whole integration, delivered
				// when it limits each target.
				w.fire(t, w.issue, t0, "", notify(a, "#y"), notify(b, "#y"))
				run(t, wk)
				wantY := store.DeliveryPending
				if tc.perTarget {
					wantY = store.DeliveryDelivered
				}
				if d := w.deliveryTo(t, a, "#y"); d.Status != wantY {
					t.Errorf("another target of the held integration is %s, want %s", d.Status, wantY)
				}
				if d := w.deliveryTo(t, b, "#y"); d.Status != store.DeliveryDelivered {
					t.Errorf("the other integration's second delivery is %s, want delivered", d.Status)
				}

				// Not before the service's time; at it, everything goes.
				w.clock.Add(30*time.Second - time.Millisecond)
				run(t, wk)
				if d := w.deliveryTo(t, a, "#x"); d.Status != store.DeliveryRetrying {
					t.Fatalf("the held delivery is %s before its time", d.Status)
				}
				w.clock.Add(time.Millisecond)
				run(t, wk)
				for _, target := range []string{"#x", "#y"} {
					if d := w.deliveryTo(t, a, target); d.Status != store.DeliveryDelivered || d.Attempts != 1 {
						t.Errorf("delivery to %s: %s after %d attempts, want delivered after 1 counted", target, d.Status, d.Attempts)
					}
				}
				wantOutcomes(t, w.attempts(t, held.ID), store.OutcomeHeld, store.OutcomeDelivered)
				byTarget := map[string]int{}
				for _, c := range f.callsTo("a") {
					byTarget[c.Note.Target]++
				}
				if byTarget["#x"] != 2 || byTarget["#y"] != 1 {
					t.Errorf("integration a got %v, want #x twice (held, then delivered) and #y once", byTarget)
				}
			})
		})
	}
}

func TestWorker_RetryBacksOff(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		f := newFake()
		in := w.integration(t, w.org, "fake", map[string]any{"service": "a"}, nil)
		f.queue("a", "#x",
			func(*integrations.Notification) (*integrations.Result, error) {
				return nil, &integrations.RetryError{Reason: integrations.ReasonServer, Status: 503, Err: errors.New("unavailable")}
			},
			func(*integrations.Notification) (*integrations.Result, error) {
				return nil, errors.New("connection reset by peer") // not classified: a network failure
			})
		wk := w.worker(t, f, Config{})
		w.fire(t, w.issue, t0, "", notify(in, "#x"))

		for i, want := range []struct {
			reason string
			status int
			base   time.Duration // Backoff(attempt) before jitter
		}{
			{integrations.ReasonServer, 503, 10 * time.Second},
			{integrations.ReasonNetwork, 0, 20 * time.Second},
		} {
			started := w.clock.Now()
			run(t, wk)
			d := w.deliveryTo(t, in, "#x")
			wait := d.NextAttempt.Sub(started)
			if d.Status != store.DeliveryRetrying || d.Attempts != i+1 || d.LastStatus != want.status ||
				wait < want.base*8/10 || wait > want.base*12/10 {
				t.Fatalf("after failure %d: %s, %d attempts, status %d, next in %s; want retrying after %d, next in %s ±20%%",
					i+1, d.Status, d.Attempts, d.LastStatus, wait, i+1, want.base)
			}
			rows := w.attempts(t, d.ID)
			if r := rows[len(rows)-1]; r.Outcome != store.OutcomeRetry || r.Reason != want.reason || r.StatusCode != want.status ||
				r.NextAttempt == nil || !r.NextAttempt.Equal(d.NextAttempt) {
				t.Errorf("attempt %d %+v, want retry, %s, %d, next %s", i+1, r, want.reason, want.status, d.NextAttempt)
			}
			// Not due before its next attempt.
			w.clock.Set(d.NextAttempt.Add(-time.Millisecond))
			run(t, wk)
			if n := len(f.callsTo("a")); n != i+1 {
				t.Fatalf("%d calls before the next attempt is due, want %d", n, i+1)
			}
			w.clock.Set(d.NextAttempt)
		}
		run(t, wk)
		d := w.deliveryTo(t, in, "#x")
		if d.Status != store.DeliveryDelivered || d.Attempts != 3 || d.LastError != "" {
			t.Errorf("delivery %+v, want delivered on the 3rd attempt", d)
		}
		wantOutcomes(t, w.attempts(t, d.ID), store.OutcomeRetry, store.OutcomeRetry, store.OutcomeDelivered)
	})
}

func TestWorker_PermanentFailure(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		for _, tc := range []struct {
			reason    string
			status    int
			unhealthy bool
		}{
			{integrations.ReasonAuth, 401, true},
			{integrations.ReasonConfig, 0, true},
			{integrations.ReasonNotFound, 404, true}, // an unknown channel, repository or list
			{integrations.ReasonClient, 400, false},
		} {
			t.Run(tc.reason, func(t *testing.T) {
				f := newFake()
				service := "svc-" + tc.reason
				in := w.integration(t, w.org, "fake", map[string]any{"service": service}, nil)
				other := w.integration(t, w.org, "fake", map[string]any{"service": service + "-other"}, nil)
				f.queue(service, "#x", func(*integrations.Notification) (*integrations.Result, error) {
					return nil, &integrations.PermanentError{Reason: tc.reason, Status: tc.status, Err: errors.New("refused: " + tc.reason)}
				})
				wk := w.worker(t, f, Config{})
				w.fire(t, w.issue, t0, "", notify(in, "#x"), notify(other, "#x"))
				run(t, wk)
				d := w.deliveryTo(t, in, "#x")
				if d.Status != store.DeliveryFailed || d.Attempts != 1 || d.LastStatus != tc.status ||
					!strings.Contains(d.LastError, "refused: "+tc.reason) {
					t.Fatalf("delivery %+v, want failed at once with the service's error", d)
				}
				rows := w.attempts(t, d.ID)
				wantOutcomes(t, rows, store.OutcomeFailed)
				if rows[0].Reason != tc.reason || rows[0].StatusCode != tc.status {
					t.Errorf("attempt %+v, want reason %s status %d", rows[0], tc.reason, tc.status)
				}
				got, err := w.st.IntegrationGet(ctx, w.org.ID, in.ID)
				if err != nil {
					t.Fatal(err)
				}
				if tc.unhealthy && (got.Status != store.IntegrationUnhealthy || !strings.Contains(got.StatusReason, "refused: "+tc.reason)) {
					t.Errorf("integration %s (%q), want unhealthy with the reason", got.Status, got.StatusReason)
				}
				if !tc.unhealthy && got.Status != store.IntegrationActive {
					t.Errorf("integration %s (%q) after one refused request, want active", got.Status, got.StatusReason)
				}
				if o, _ := w.st.IntegrationGet(ctx, w.org.ID, other.ID); o.Status != store.IntegrationActive {
					t.Errorf("the other integration is %s", o.Status)
				}
				// A failed delivery is not tried again.
				w.clock.Add(48 * time.Hour)
				run(t, wk)
				if n := len(f.callsTo(service)); n != 1 {
					t.Errorf("the failed delivery was tried %d times", n)
				}
			})
		}
	})
}

func TestWorker_MaxAge(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		for _, tc := range []struct {
			name string
			age  time.Duration
			fail answer
			want string
		}{
			{"retry error, young", 24*time.Hour - time.Second, func(*integrations.Notification) (*integrations.Result, error) {
				return nil, &integrations.RetryError{Reason: integrations.ReasonServer, Status: 500, Err: errors.New("boom")}
			}, store.DeliveryRetrying},
			{"retry error, too old", 24 * time.Hour, func(*integrations.Notification) (*integrations.Result, error) {
				return nil, &integrations.RetryError{Reason: integrations.ReasonServer, Status: 500, Err: errors.New("boom")}
			}, store.DeliveryFailed},
			{"network error, too old", 25 * time.Hour, func(*integrations.Notification) (*integrations.Result, error) {
				return nil, errors.New("no route to host")
			}, store.DeliveryFailed},
			{"rate limited, young", time.Hour, rateLimited(time.Minute), store.DeliveryRetrying},
			{"rate limited, too old", 24 * time.Hour, rateLimited(time.Minute), store.DeliveryFailed},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := newFake()
				in := w.integration(t, w.org, "fake", map[string]any{"service": tc.name}, nil)
				f.queue(tc.name, "", tc.fail)
				w.fire(t, w.issue, t0, "", notify(in, ""))
				w.fanOut(t)
				w.clock.Set(t0.Add(tc.age))
				run(t, w.worker(t, f, Config{})) // MaxAge defaults to 24 h
				d := w.deliveryTo(t, in, "")
				if d.Status != tc.want {
					t.Fatalf("a delivery %s old that failed: %s, want %s", tc.age, d.Status, tc.want)
				}
				if tc.want == store.DeliveryFailed {
					wantOutcomes(t, w.attempts(t, d.ID), store.OutcomeFailed)
				}
			})
		}
	})
}

func TestWorker_LeaseRunsOut(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		f := newFake()
		in := w.integration(t, w.org, "fake", map[string]any{"service": "a"}, nil)
		w.fire(t, w.issue, t0, "", notify(in, "#x"))
		w.fanOut(t)
		// A worker claims the delivery and dies before recording anything.
		claimed, err := w.st.DeliveriesClaim(ctx, w.clock.Now(), 20, lease)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %d deliveries (%v), want 1", len(claimed), err)
		}
		wk := w.worker(t, f, Config{})
		run(t, wk)
		w.clock.Add(lease - time.Second)
		run(t, wk)
		if n := len(f.allCalls()); n != 0 {
			t.Fatalf("a leased delivery was sent %d times before its lease ran out", n)
		}
		w.clock.Add(2 * time.Second)
		run(t, wk)
		run(t, wk)
		w.clock.Add(time.Hour)
		run(t, wk)
		calls := f.allCalls()
		if n := len(calls); n != 1 {
			t.Fatalf("sent %d times after the lease ran out, want exactly once", n)
		}
		if !calls[0].Note.Unsure {
			t.Error("the notification after a lost claim is not marked Unsure: the service cannot look for an earlier post")
		}
		if d := w.deliveryTo(t, in, "#x"); d.Status != store.DeliveryDelivered || d.Attempts != 1 {
			t.Errorf("delivery %+v, want delivered after 1 attempt", d)
		}
	})
}

func TestWorker_ConcurrentWorkersDeliverOnce(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		f := newFake()
		in := w.integration(t, w.org, "fakepertarget", map[string]any{"service": "a"}, nil)
		var actions []map[string]any
		for i := range 30 {
			actions = append(actions, notify(in, fmt.Sprintf("#c%d", i)))
		}
		w.fire(t, w.issue, t0, "", actions...)
		var wg sync.WaitGroup
		for range 3 {
			wk := w.worker(t, f, Config{})
			wg.Go(func() {
				if err := wk.Run(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		byTarget := map[string]int{}
		for _, c := range f.allCalls() {
			byTarget[c.Note.Target]++
		}
		for i := range 30 {
			if n := byTarget[fmt.Sprintf("#c%d", i)]; n != 1 {
				t.Errorf("#c%d was notified %d times, want once", i, n)
			}
		}
		for _, d := range w.deliveries(t, w.org) {
			if d.Status != store.DeliveryDelivered || d.Attempts != 1 {
				t.Errorf("delivery to %s: %s after %d attempts", d.Target, d.Status, d.Attempts)
			}
		}
	})
}

func TestWorker_EmailRoute(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		action := map[string]any{"id": rules.EmailNotify, "targetType": "Member", "targetIdentifier": w.alice.ID}

		t.Run("without SMTP", func(t *testing.T) {
			w.fire(t, w.issue, t0, "", action)
			run(t, w.worker(t, newFake(), Config{}))
			ds := w.deliveries(t, w.org)
			d := ds[len(ds)-1]
			if d.Provider != ProviderEmail || d.IntegrationID != nil || d.Status != store.DeliveryFailed ||
				!strings.Contains(d.LastError, "TOCSIN_SMTP_URL") {
				t.Fatalf("delivery %+v, want the email route failed for want of TOCSIN_SMTP_URL", d)
			}
			rows := w.attempts(t, d.ID)
			wantOutcomes(t, rows, store.OutcomeFailed)
			if rows[0].Reason != integrations.ReasonConfig {
				t.Errorf("attempt reason %q, want config", rows[0].Reason)
			}
		})

		t.Run("with SMTP", func(t *testing.T) {
			var mu sync.Mutex
			var got []*integrations.Notification
			mail := integrations.NotifierFunc(func(_ context.Context, n *integrations.Notification) (*integrations.Result, error) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, n)
				return &integrations.Result{Handle: "<issue@tocsin>"}, nil
			})
			w.fire(t, w.issue, t0, "", action)
			run(t, w.worker(t, newFake(), Config{Email: mail}))
			ds := w.deliveries(t, w.org)
			d := ds[len(ds)-1]
			if d.Status != store.DeliveryDelivered || len(got) != 1 || got[0].Target != "alice@example.com" ||
				got[0].Issue.Title != "ValueError: card declined" || got[0].Handle != "" {
				t.Fatalf("delivery %s, %d mails (%+v); want one to alice about the issue, starting its thread", d.Status, len(got), got)
			}
			// The next mail about the issue replies in the thread the first
			// started: the built-in email has no issue links, its
			// deliveries remember the root.
			w.clock.Add(time.Hour)
			w.fire(t, w.issue, w.clock.Now(), "", action)
			run(t, w.worker(t, newFake(), Config{Email: mail}))
			if len(got) != 2 || got[1].Handle != "<issue@tocsin>" {
				t.Fatalf("%d mails, the second with handle %q; want a reply in the first's thread", len(got), got[len(got)-1].Handle)
			}
		})
	})
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		base time.Duration
	}{
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{3, 40 * time.Second},
		{5, 160 * time.Second},
		{9, 2560 * time.Second},
		{10, time.Hour},
		{20, time.Hour},
		{1000, time.Hour},
	} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			t.Parallel()
			lo, hi := tc.base*8/10, tc.base*12/10
			seen := map[time.Duration]bool{}
			for range 200 {
				d := Backoff(tc.n)
				if d < lo || d > hi {
					t.Fatalf("Backoff(%d) = %s, want %s to %s", tc.n, d, lo, hi)
				}
				seen[d] = true
			}
			if len(seen) < 2 {
				t.Errorf("Backoff(%d) gave one value 200 times: no jitter", tc.n)
			}
		})
	}
	// Capped: never past an hour and a fifth, however many attempts.
	if d := Backoff(1 << 20); d > time.Hour*12/10 {
		t.Errorf("Backoff(2^20) = %s", d)
	}
}

func TestWorker_HealthyAgain(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		ctx := context.Background()
		f := newFake()
		in := w.integration(t, w.org, "fake", map[string]any{"service": "svc-heal"}, nil)
		if err := w.st.IntegrationSetStatus(ctx, in.ID, store.IntegrationUnhealthy, "HTTP 401: an old token"); err != nil {
			t.Fatal(err)
		}
		f.queue("svc-heal", "#x", func(*integrations.Notification) (*integrations.Result, error) {
			return &integrations.Result{Status: 200}, nil
		})
		wk := w.worker(t, f, Config{})
		w.fire(t, w.issue, t0, "", notify(in, "#x"))
		run(t, wk)
		if d := w.deliveryTo(t, in, "#x"); d.Status != store.DeliveryDelivered {
			t.Fatalf("delivery %+v, want delivered", d)
		}
		got, err := w.st.IntegrationGet(ctx, w.org.ID, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.IntegrationActive || got.StatusReason != "" {
			t.Errorf("integration %s (%q) after a delivery went through, want active", got.Status, got.StatusReason)
		}
	})
}

// TestWorker_EmailRecipients resolves an email integration's "to":
// user:EMAIL for a member, team:SLUG for a team's members, plain addresses.
func TestWorker_EmailRecipients(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, w *world) {
		var (
			mu  sync.Mutex
			got []string
		)
		rec := &integrations.Provider{Name: "email", Build: func(config, _ map[string]any) (integrations.Notifier, error) {
			return integrations.NotifierFunc(func(_ context.Context, n *integrations.Notification) (*integrations.Result, error) {
				mu.Lock()
				got = append(got, n.Target)
				mu.Unlock()
				return &integrations.Result{}, nil
			}), nil
		}}
		in := w.integration(t, w.org, "email", map[string]any{"to": []any{
			"user:" + strings.ToUpper(w.alice.Email), "team:web", "oncall@example.com", "user:nobody@example.com"}}, nil)
		wk, err := New(Config{Now: w.clock.Now, BaseURL: "https://tocsin.example.com"}, w.st, w.box,
			Registry{"email": rec}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		w.fire(t, w.issue, t0, "", notify(in, ""))
		run(t, wk)
		want := w.alice.Email + "," + w.carol.Email + ",oncall@example.com"
		if len(got) != 1 || got[0] != want {
			t.Errorf("sent to %q, want %q (alice, team web's carol, the plain address; no unknown user)", got, want)
		}
	})
}
