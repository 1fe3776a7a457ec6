package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

var digestPolicy = store.DigestPolicy{MinDelay: 5 * time.Minute, Increment: 30 * time.Second, MaxDelay: 30 * time.Minute}

// digestIssues makes n issues; issue i has i+1 events, so that the most
// frequent is the last made.
func digestIssues(t *testing.T, s *store.Store, p *store.Project, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		var payloads []string
		for j := range i + 1 {
			payloads = append(payloads, eventtest.PythonError(i*100+j+1, t0, fingerprint(fmt.Sprint("digest-", i))))
		}
		res := ingest(t, s, p, t0.Add(time.Duration(i)*time.Second), payloads...)
		ids = append(ids, res[0].IssueID)
	}
	return ids
}

func addRecord(t *testing.T, s *store.Store, p *store.Project, issue int64, target string, at time.Time) time.Time {
	t.Helper()
	due, err := s.DigestAdd(context.Background(), &store.DigestRecord{OrganizationID: p.OrganizationID, ProjectID: p.ID,
		Provider: "slack", Target: target, IssueID: issue, Count: 1, At: at}, digestPolicy)
	if err != nil {
		t.Fatal(err)
	}
	return due
}

func claim(t *testing.T, s *store.Store, at time.Time) []*store.DigestTimeline {
	t.Helper()
	ds, err := s.DigestsClaim(context.Background(), at, 10, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// Ten new issues in two minutes to one Slack channel make one digest,
// delivered five minutes after the first, listing all ten by event count.
func TestStore_DigestCollects(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "acme")
		ids := digestIssues(t, s, a.project, 10)
		for i, id := range ids {
			addRecord(t, s, a.project, id, "#ops", t0.Add(time.Duration(i)*12*time.Second)) // 0:00 … 1:48
		}
		addRecord(t, s, a.project, ids[0], "#ops", t0.Add(2*time.Minute)) // the same issue again: one entry

		if ds := claim(t, s, t0.Add(5*time.Minute-time.Second)); len(ds) != 0 {
			t.Fatalf("%d digests claimed before they were due", len(ds))
		}
		ds := claim(t, s, t0.Add(5*time.Minute))
		if len(ds) != 1 {
			t.Fatalf("%d digests at 5:00, want 1", len(ds))
		}
		d := ds[0]
		if d.Target != "#ops" || !d.Due.Equal(t0.Add(5*time.Minute)) || len(d.Entries) != 10 {
			t.Fatalf("digest to %s due %s with %d entries, want #ops at 5:00 with 10", d.Target, d.Due, len(d.Entries))
		}
		for i, e := range d.Entries {
			if want := ids[len(ids)-1-i]; e.IssueID != want {
				t.Errorf("entry %d is issue %d (%d events), want issue %d: most events first", i, e.IssueID, e.TimesSeen, want)
			}
		}
		if last := d.Entries[len(d.Entries)-1]; last.IssueID != ids[0] || last.Records != 2 {
			t.Errorf("issue %d has %d records in its entry, want 2 summed", last.IssueID, last.Records)
		}
		if ds := claim(t, s, t0.Add(6*time.Minute)); len(ds) != 0 {
			t.Errorf("the digest was claimed again: %d", len(ds))
		}
		if err := s.DigestDone(context.Background(), d.ID); err != nil {
			t.Fatal(err)
		}
		// A record after the claim opens a new timeline.
		if due := addRecord(t, s, a.project, ids[1], "#ops", t0.Add(6*time.Minute)); !due.Equal(t0.Add(11 * time.Minute)) {
			t.Errorf("a record after delivery is due %s, want 11:00 (a new timeline)", due)
		}
	})
}

// A record just before the digest is due extends it by the increment;
// records never push it past the maximum delay.
func TestStore_DigestExtends(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "acme")
		ids := digestIssues(t, s, a.project, 2)
		if due := addRecord(t, s, a.project, ids[0], "#ops", t0); !due.Equal(t0.Add(5 * time.Minute)) {
			t.Fatalf("first record due %s, want 5:00", due)
		}
		if due := addRecord(t, s, a.project, ids[1], "#ops", t0.Add(4*time.Minute+50*time.Second)); !due.Equal(t0.Add(5*time.Minute + 20*time.Second)) {
			t.Fatalf("a record at 4:50 makes it due %s, want 5:20", due)
		}
		if ds := claim(t, s, t0.Add(5*time.Minute)); len(ds) != 0 {
			t.Fatal("claimed at 5:00 although extended")
		}
		// Keep adding every 20 s: it is due at 30:00 at the latest.
		var due time.Time
		for at := t0.Add(5 * time.Minute); at.Before(t0.Add(40 * time.Minute)); at = at.Add(20 * time.Second) {
			due = addRecord(t, s, a.project, ids[at.Second()%2], "#ops", at)
			if due.After(t0.Add(30 * time.Minute)) {
				t.Fatalf("at %s the digest is due %s, past the 30-minute maximum", at.Sub(t0), due.Sub(t0))
			}
			if !at.Before(t0.Add(30 * time.Minute)) {
				break
			}
		}
		if !due.Equal(t0.Add(30 * time.Minute)) {
			t.Errorf("due %s after constant records, want 30:00", due.Sub(t0))
		}
		if ds := claim(t, s, t0.Add(30*time.Minute)); len(ds) != 1 {
			t.Errorf("%d digests at 30:00, want 1", len(ds))
		}
	})
}

// Timelines are per target and project; a store opened again on the same
// database (a restart) delivers what was collected, once, and several
// claimers at once get each digest once.
func TestStore_DigestDurableOnce(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "acme")
		ids := digestIssues(t, s, a.project, 3)
		targets := []string{"#ops", "#dev", "ops@example.com"}
		for i, target := range targets {
			addRecord(t, s, a.project, ids[i], target, t0)
		}
		// Claims running at once, as several workers would.
		var mu sync.Mutex
		got := map[int64]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				ds, err := s.DigestsClaim(context.Background(), t0.Add(5*time.Minute), 10, time.Minute, nil)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, d := range ds {
					got[d.ID]++
				}
			})
		}
		wg.Wait()
		if len(got) != 3 {
			t.Fatalf("claimed %d digests, want one per target", len(got))
		}
		for id, n := range got {
			if n != 1 {
				t.Errorf("digest %d claimed %d times", id, n)
			}
		}
		// The claimer died before delivering: after its lease another
		// claims the digests again, still once each.
		if ds := claim(t, s, t0.Add(5*time.Minute+30*time.Second)); len(ds) != 0 {
			t.Fatalf("%d digests claimed within the lease", len(ds))
		}
		again := claim(t, s, t0.Add(7*time.Minute))
		if len(again) != 3 {
			t.Fatalf("%d digests after the lease ran out, want 3", len(again))
		}
		for _, d := range again {
			if err := s.DigestDone(context.Background(), d.ID); err != nil {
				t.Fatal(err)
			}
			if len(d.Entries) != 1 {
				t.Errorf("digest to %s has %d entries, want 1", d.Target, len(d.Entries))
			}
		}
		if ds := claim(t, s, t0.Add(time.Hour)); len(ds) != 0 {
			t.Errorf("%d digests left after delivery", len(ds))
		}
	})
}

// A restart mid-timeline: the process that collected the records is gone
// (its store closed); a new one on the same database delivers the digest,
// once.
func TestStore_DigestSurvivesRestart(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := storetest.DatabaseURL(t, e)
			first := storetest.OpenURL(t, url)
			a := newTenant(t, first, "acme")
			ids := digestIssues(t, first, a.project, 3)
			for i, id := range ids {
				addRecord(t, first, a.project, id, "#ops", t0.Add(time.Duration(i)*time.Minute))
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}

			second := storetest.OpenURL(t, url)
			ds := claim(t, second, t0.Add(5*time.Minute))
			if len(ds) != 1 || len(ds[0].Entries) != 3 {
				t.Fatalf("after the restart %d digests (%v), want the one with 3 issues", len(ds), ds)
			}
			if err := second.DigestDone(ctx, ds[0].ID); err != nil {
				t.Fatal(err)
			}
			if again := claim(t, second, t0.Add(time.Hour)); len(again) != 0 {
				t.Errorf("%d digests after it was delivered", len(again))
			}
		})
	}
}

// A claimer may keep issues of a due timeline back (its target's quiet
// time): they stay in the open timeline, due when the hold ends, with the
// records that come meanwhile; the other issues are claimed at once, as a
// timeline of their own. Several claimers at once still get each once.
func TestStore_DigestHold(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		ids := digestIssues(t, s, a.project, 3)
		for i, id := range ids {
			addRecord(t, s, a.project, id, "#ops", t0.Add(time.Duration(i)*time.Minute))
		}
		addRecord(t, s, a.project, ids[0], "#dev", t0)
		until := t0.Add(time.Hour)
		hold := func(d *store.DigestTimeline) (*store.DigestHold, error) {
			if d.Target != "#ops" {
				return nil, nil
			}
			if len(d.Entries) != 3 {
				t.Errorf("asked about a digest of %d issues, want the 3 of #ops", len(d.Entries))
			}
			return &store.DigestHold{Until: until, Issues: []int64{ids[0], ids[1]}}, nil
		}

		var mu sync.Mutex
		got := map[string][]*store.DigestTimeline{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				ds, err := s.DigestsClaim(ctx, t0.Add(5*time.Minute), 10, time.Minute, hold)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for _, d := range ds {
					got[d.Target] = append(got[d.Target], d)
				}
			})
		}
		wg.Wait()
		if len(got) != 2 || len(got["#ops"]) != 1 || len(got["#dev"]) != 1 {
			t.Fatalf("claimed %v, want #dev and the unheld part of #ops once each", got)
		}
		if e := got["#ops"][0].Entries; len(e) != 1 || e[0].IssueID != ids[2] {
			t.Fatalf("claimed #ops with %d entries, want issue %d alone", len(e), ids[2])
		}
		for _, d := range []*store.DigestTimeline{got["#ops"][0], got["#dev"][0]} {
			if err := s.DigestDone(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
		}

		// The held issues wait in the open timeline: a record meanwhile
		// joins it and leaves its due time at the hold's end.
		if due := addRecord(t, s, a.project, ids[2], "#ops", t0.Add(10*time.Minute)); !due.Equal(until) {
			t.Errorf("a record during the hold is due %s, want %s (the hold's end)", due.Sub(t0), until.Sub(t0))
		}
		if ds := claim(t, s, until.Add(-time.Second)); len(ds) != 0 {
			t.Fatalf("%d digests claimed before the hold ends", len(ds))
		}
		// At the end the claimer holds nothing: the whole timeline goes.
		ds, err := s.DigestsClaim(ctx, until, 10, time.Minute, func(*store.DigestTimeline) (*store.DigestHold, error) {
			return &store.DigestHold{Until: until, Issues: ids}, nil // ended: not held
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].Target != "#ops" || len(ds[0].Entries) != 3 {
			t.Fatalf("at the hold's end %d digests (%v), want #ops with its 3 issues", len(ds), ds)
		}
		if err := s.DigestDone(ctx, ds[0].ID); err != nil {
			t.Fatal(err)
		}
		if ds := claim(t, s, until.Add(time.Hour)); len(ds) != 0 {
			t.Errorf("%d digests left after delivery", len(ds))
		}
	})
}

// A timeline whose every issue is held is not claimed, and its new due
// time outlives the process: a store opened again on the database claims
// it when the hold ends, once.
func TestStore_DigestHoldSurvivesRestart(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := storetest.DatabaseURL(t, e)
			first := storetest.OpenURL(t, url)
			a := newTenant(t, first, "acme")
			ids := digestIssues(t, first, a.project, 2)
			for i, id := range ids {
				addRecord(t, first, a.project, id, "#ops", t0.Add(time.Duration(i)*time.Minute))
			}
			until := t0.Add(9 * time.Hour)
			ds, err := first.DigestsClaim(ctx, t0.Add(5*time.Minute), 10, time.Minute,
				func(d *store.DigestTimeline) (*store.DigestHold, error) {
					return &store.DigestHold{Until: until, Issues: ids}, nil
				})
			if err != nil || len(ds) != 0 {
				t.Fatalf("claimed %d digests (%v), want all held", len(ds), err)
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}

			second := storetest.OpenURL(t, url)
			if ds := claim(t, second, until.Add(-time.Second)); len(ds) != 0 {
				t.Fatalf("after the restart %d digests claimed before the hold ends", len(ds))
			}
			ds = claim(t, second, until)
			if len(ds) != 1 || len(ds[0].Entries) != 2 {
				t.Fatalf("after the restart %d digests at the hold's end (%v), want the one with 2 issues", len(ds), ds)
			}
			if err := second.DigestDone(ctx, ds[0].ID); err != nil {
				t.Fatal(err)
			}
			if again := claim(t, second, until.Add(time.Hour)); len(again) != 0 {
				t.Errorf("%d digests after it was delivered", len(again))
			}
		})
	}
}
