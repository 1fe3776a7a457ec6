package rules_test

import (
	"context"
	"fmt"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/bench"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/server"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
	"github.com/tocsin/tocsin/worker"
)

// benchRules are 100 rules as a busy project has them: new-issue alerts,
// regressions, volume alerts with filters, and routing by tag and level.
// Against the benchmark's events most do not match; some do, and then
// fire once per issue per frequency.
func benchRules() []rules.Rule {
	var out []rules.Rule
	add := func(name, env, actionMatch, conds, filters string) {
		out = append(out, rules.Rule{Name: name, Environment: env, ActionMatch: actionMatch,
			Conditions: mustNodes("[" + conds + "]"), Filters: mustNodes("[" + filters + "]")})
	}
	level := func(match string, lvl int) string {
		return fmt.Sprintf(`{"id": "sentry.rules.filters.level.LevelFilter", "match": %q, "level": %d}`, match, lvl)
	}
	frequency := func(id string, value int, interval string) string {
		return fmt.Sprintf(`{"id": %q, "value": %d, "interval": %q}`, id, value, interval)
	}
	const (
		events = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
		users  = "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition"
	)
	tiers := []string{"free", "pro", "enterprise"}
	// 15 new-issue alerts.
	for i := range 15 {
		switch i % 3 {
		case 0:
			add("new issue", "", "all", firstSeen, "")
		case 1:
			add("new issue in production", "production", "all", firstSeen, level("gte", 40))
		case 2:
			add("new issue for a tier", "", "all", firstSeen, tagged("customer_tier", "eq", tiers[i%3]))
		}
	}
	// 10 regressions and reappearances.
	for i := range 10 {
		add("regression", "", "any", regression+","+reappeared, level("gte", 30+10*(i%3)))
	}
	// 30 volume alerts: counts (some crossed by the busiest issues), users,
	// percent comparisons, in an environment or not, with filters.
	intervals := []string{"1m", "5m", "15m", "1h", "1d"}
	for i := range 30 {
		iv := intervals[i%len(intervals)]
		switch i % 6 {
		case 0:
			add("spike", "", "all", frequency(events, 1000, iv), level("gte", 40))
		case 1:
			add("spike for a tier", "production", "all", frequency(events, 10, iv), tagged("customer_tier", "eq", tiers[i%3]))
		case 2:
			add("many users", "", "all", frequency(users, 100, iv), "")
		case 3:
			add("spike vs last week", "", "all", fmt.Sprintf(`{"id": %q, "value": 200, "interval": "1h",
				"comparisonType": "percent", "comparisonInterval": "1w"}`, events), "")
		case 4:
			add("spike in staging", "staging", "all", frequency(events, 5, iv), "")
		case 5:
			add("new or busy", "", "any", firstSeen+","+frequency(events, 500, iv), tagged("region", "eq", "eu-west-1"))
		}
	}
	// 25 routing rules by tag.
	routes := []string{
		tagged("server_name", "eq", "web-1"), tagged("transaction", "sw", "/api/orders"),
		tagged("customer_tier", "in", "pro, enterprise"), tagged("region", "co", "us-"),
		tagged("transaction", "re", `^/api/(cart|checkout)s/`), tagged("browser", "ns", ""),
		attribute("exception.type", "eq", "KeyError"), attribute("stacktrace.module", "sw", "app.payments"),
		attribute("http.url", "nc", "/healthz"), attribute("user.email", "ew", "@example.com"),
	}
	for i := range 25 {
		add("route", "", "all", everyEvent, routes[i%len(routes)])
	}
	// 20 routing rules by level.
	for i := range 20 {
		switch i % 4 {
		case 0:
			add("fatal", "", "all", everyEvent, level("eq", 50))
		case 1:
			add("errors in staging", "staging", "all", everyEvent, level("gte", 40))
		case 2:
			add("warnings", "", "all", everyEvent, level("lte", 30))
		case 3:
			add("old errors", "", "all", everyEvent, level("gte", 40)+`,{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter", "comparison_type": "older", "value": 1, "time": "week"}`)
		}
	}
	return out
}

// BenchmarkEvaluate is the cost of evaluating one issue activity against
// a project's 100 rules (benchRules): reading the snoozes, the event, the
// per-minute counters of each volume condition, and recording the
// firings. The project has 50 issues with an hour of history; each op
// evaluates the next of their events, at a time 100 ms after the previous
// op's, so that rules fire again once their frequency has passed. The
// event is read back from the store (event=store, as from the outbox) or
// given as ingest parsed it (event=ingest, as `tocsin run` hands it over).
//
//	go test -run '^$' -bench BenchmarkEvaluate -benchmem ./rules/
//	TOCSIN_TEST_DATABASE_URL=postgres://… go test -run '^$' -bench BenchmarkEvaluate -benchmem ./rules/
func BenchmarkEvaluate(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			ctx := context.Background()
			for _, c := range []struct{ kind, from string }{{store.ActivityEvent, "store"},
				{store.ActivityNewIssue, "store"}, {store.ActivityEvent, "ingest"}} {
				b.Run("kind="+c.kind+"/event="+c.from, func(b *testing.B) {
					s := storetest.Open(b, engine)
					bd := setup(b, s)
					for _, r := range benchRules() {
						bd.rule(b, r)
					}
					acts := benchHistory(b, bd)
					now := t0.Add(time.Hour)
					before := countNotifications(b, bd)
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						a := *acts[i%len(acts)]
						a.Kind, a.Now = c.kind, now
						if c.from == "store" {
							a.Event = nil // read back from the store, as from the outbox
						}
						if err := bd.engine.Evaluate(ctx, &a); err != nil {
							b.Fatal(err)
						}
						i++
						now = now.Add(100 * time.Millisecond)
					}
					b.ReportMetric(float64(countNotifications(b, bd)-before)/float64(i), "notifications/op")
				})
			}
		})
	}
}

// countNotifications is how many notification requests the project has.
func countNotifications(b *testing.B, bd *bundle) int {
	ns, err := bd.st.NotificationList(context.Background(), bd.project.ID, store.Page{Limit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	return len(ns)
}

// benchHistory stores an hour of events of 50 issues, 20 each, from 200
// users, with the tags of the load generator's events, and returns one
// activity per event. Rules are evaluated on none of them.
func benchHistory(b *testing.B, bd *bundle) []*rules.Activity {
	b.Helper()
	ctx := context.Background()
	tiers := []string{"free", "pro", "enterprise"}
	nouns := []string{"order", "cart", "checkout", "invoice", "user"}
	var acts []*rules.Activity
	for minute := range 20 {
		at := t0.Add(time.Duration(minute*3) * time.Minute)
		var payloads []string
		for g := range 50 {
			payloads = append(payloads, bd.payload(at, map[string]any{
				"fingerprint": []string{fmt.Sprint("group-", g)},
				"level":       []string{"error", "error", "error", "warning", "fatal"}[g%5],
				"server_name": fmt.Sprintf("web-%d", g%4+1),
				"transaction": fmt.Sprintf("/api/%ss/{id}/", nouns[g%len(nouns)]),
				"user":        map[string]any{"id": fmt.Sprint("u", (minute*50+g)%200), "email": fmt.Sprintf("u%d@example.com", g)},
				"tags":        map[string]any{"customer_tier": tiers[g%3], "region": "eu-west-1"},
			}))
		}
		env := bd.envelope(b, at, payloads...)
		bd.store(b, env)
		for i, r := range env.Results {
			is, err := bd.st.IssueByID(ctx, r.IssueID)
			if err != nil {
				b.Fatal(err)
			}
			// The event as ingest parsed it, as the in-process hand-off
			// gives it (without its JSON).
			ev := *env.Events[i].Event
			ev.Data = nil
			acts = append(acts, &rules.Activity{Issue: is, EventRowID: r.EventRowID, Event: &ev})
		}
	}
	// Drop the outbox: the benchmark hands activities to Evaluate itself.
	if es, err := bd.st.OutboxClaim(ctx, 10000, time.Hour); err == nil {
		ids := make([]int64, len(es))
		for i, e := range es {
			ids[i] = e.ID
		}
		if err := bd.st.OutboxDone(ctx, ids); err != nil {
			b.Fatal(err)
		}
	} else {
		b.Fatal(err)
	}
	return acts
}

// BenchmarkIngestRules is `tocsin bench ingest` against `tocsin run` in
// one process, with no rule and with benchRules' 100 in the project: the
// load generator (package bench) sends gzip envelopes over loopback HTTP
// to the server, and a worker hands the outbox to the rules engine as
// `tocsin run` does. One op is one event. It reports the events/s of the
// load, the process's CPU per event during the load and until the worker
// has evaluated every activity, and how long that took after the load.
// PostgreSQL runs when TOCSIN_TEST_DATABASE_URL is set.
//
//	go test -run '^$' -bench BenchmarkIngestRules -benchtime 10000x ./rules/
func BenchmarkIngestRules(b *testing.B) {
	for _, cfg := range []struct {
		engine store.Engine
		rules  int
	}{{store.SQLite, 0}, {store.SQLite, 100}, {store.Postgres, 0}, {store.Postgres, 100}} {
		b.Run(fmt.Sprintf("%s/rules=%d", cfg.engine, cfg.rules), func(b *testing.B) {
			n := cfg.rules
			ctx := context.Background()
			st := storetest.Open(b, cfg.engine)
			boot, err := st.Setup(ctx, &store.BootstrapParams{AdminPassword: "bench password"})
			if err != nil {
				b.Fatal(err)
			}
			bd := &bundle{st: st, org: boot.Organization, project: boot.Project}
			existing, err := st.RuleList(ctx, bd.org.ID, bd.project.ID, store.Page{Limit: 10})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range existing {
				if err := st.RuleDelete(ctx, bd.org.ID, bd.project.ID, r.ID); err != nil {
					b.Fatal(err)
				}
			}
			for _, r := range benchRules()[:n] {
				bd.rule(b, r)
			}
			log := slog.New(slog.DiscardHandler)
			reg := prometheus.NewRegistry()
			local := worker.NewLocal(worker.DefaultLocalCapacity)
			srv, err := server.New(server.Config{Addr: "127.0.0.1:0", BaseURL: "http://tocsin.bench", Role: server.RoleAll,
				Version: "bench", Handoff: local}, st, reg, log)
			if err != nil {
				b.Fatal(err)
			}
			if err := srv.Start(); err != nil {
				b.Fatal(err)
			}
			engine, err := rules.NewEngine(st, log, reg, nil)
			if err != nil {
				b.Fatal(err)
			}
			wk, err := worker.New(worker.Config{Role: "all", Version: "bench", Local: local, Handlers: []worker.ActivityHandler{engine},
				Periodic: []worker.Periodic{{Name: "rules sweep", Interval: time.Minute, Run: engine.Sweep}}}, st, log, reg)
			if err != nil {
				b.Fatal(err)
			}
			if err := wk.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = srv.Stop(ctx)
				wk.Stop(ctx)
			})
			dsn := boot.Key.DSN("http://" + srv.Addr().String())
			cpu0 := cpuTime(b)
			b.ResetTimer()
			res, err := bench.Run(ctx, bench.Config{DSN: dsn, Concurrency: 32, Events: b.N, Groups: 300})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if res.Failed() > 0 || res.Accepted != b.N {
				b.Fatalf("%d of %d events accepted, %d failed (%v, %s)", res.Accepted, b.N, res.Failed(), res.Rejected, res.FirstError)
			}
			cpu1, loaded := cpuTime(b), time.Now()
			for {
				pending, err := st.OutboxPending(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if pending == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			drain, cpu2 := time.Since(loaded), cpuTime(b)
			b.ReportMetric(res.Throughput(), "events/s")
			b.ReportMetric(float64(cpu1-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/event")
			b.ReportMetric(float64(cpu2-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/event-evaluated")
			b.ReportMetric(drain.Seconds(), "drain-s")
			b.ReportMetric(localShare(b, reg), "local-%")
		})
	}
}

// localShare is the percentage of activities the worker took from ingest
// in memory rather than from the outbox.
func localShare(b *testing.B, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	by := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "tocsin_worker_activities_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" {
					by[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	if total := by["local"] + by["outbox"]; total > 0 {
		return 100 * by["local"] / total
	}
	return 0
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
