package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/store"
)

// Engine evaluates a project's rules on issue activities. It is the
// worker's ActivityHandler: activities come from the store's outbox, at
// least once; a rule fires at most once per issue per frequency however
// many workers evaluate the same activity, because firing is a
// compare-and-set on the rule's last-fired record.
type Engine struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time

	mu        sync.Mutex
	cache     map[int64]cachedRules // by project
	lastFired map[int64]firedEntry  // by issue

	evaluated prometheus.Counter
	fired     prometheus.Counter
	failed    prometheus.Counter
}

type cachedRules struct {
	rules []*Rule
	// snoozes of the rules in force when they were read (by rule); whether
	// one still is, is checked against each activity's time.
	snoozes map[int64][]store.Snooze
	version int64 // store.RulesVersion when they were read
	expires time.Time
}

// firedEntry is what the engine knows of when an issue's rules last fired:
// read from the store, plus its own firings since. It only lets the engine
// skip rules that cannot fire yet; RulesFire's compare-and-set decides, so
// a firing by another worker that the entry misses costs an evaluation,
// never a second notification. Entries are not changed once stored (a
// firing replaces the entry), since evaluations read them concurrently.
type firedEntry struct {
	rules   map[int64]time.Time
	expires time.Time
}

// firedTTL is how long a firedEntry is used before the store is read again.
const firedTTL = 10 * time.Second

// maxFiredEntries bounds the lastFired cache; past it expired entries are
// dropped, and if none are, all of them.
const maxFiredEntries = 50000

// rulesTTL is how long a project's rules are reused between evaluations
// at most. A change to a rule or a snooze applies at once anyway: each use
// of the cache first compares the project's rules version (one indexed
// read instead of the rules and their snoozes).
const rulesTTL = time.Minute

// NewEngine returns an engine; now is its clock (nil for time.Now).
func NewEngine(st *store.Store, log *slog.Logger, reg prometheus.Registerer, now func() time.Time) (*Engine, error) {
	if now == nil {
		now = time.Now
	}
	e := &Engine{store: st, log: log, now: now, cache: map[int64]cachedRules{}, lastFired: map[int64]firedEntry{},
		evaluated: prometheus.NewCounter(prometheus.CounterOpts{Name: "tocsin_rules_evaluated_total",
			Help: "Rule evaluations (one rule on one issue activity)."}),
		fired: prometheus.NewCounter(prometheus.CounterOpts{Name: "tocsin_rules_fired_total",
			Help: "Rule firings recorded."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "tocsin_rules_failed_total",
			Help: "Rule evaluations that failed (recorded on the rule)."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{e.evaluated, e.fired, e.failed} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register rule metrics: %w", err)
			}
		}
	}
	return e, nil
}

// HandleActivities evaluates outbox entries. It returns an error only when
// the store fails, so that the entries are handed out again; a rule that
// cannot be evaluated is recorded as failing and the others still run.
func (e *Engine) HandleActivities(ctx context.Context, entries []*store.OutboxEntry) error {
	// Each project's rules are looked up once per batch: their version is
	// one read, and a batch holds many activities of a few projects.
	byProject := map[int64]cachedRules{}
	var due []*store.OutboxEntry
	var issueIDs []int64
	seen := map[int64]bool{}
	for _, en := range entries {
		if en.Kind == store.ActivityStatus {
			continue // people changing an issue do not trigger issue alerts
		}
		cr, ok := byProject[en.ProjectID]
		if !ok {
			var err error
			if cr, err = e.projectRules(ctx, en.ProjectID); err != nil {
				return err
			}
			byProject[en.ProjectID] = cr
		}
		if !slices.ContainsFunc(cr.rules, func(r *Rule) bool { return r.mayFire(en.Kind) }) {
			// Most activities are plain events, and most projects' rules
			// watch for new issues and regressions: skip the reads.
			continue
		}
		due = append(due, en)
		if en.Issue == nil && !seen[en.IssueID] {
			seen[en.IssueID] = true
			issueIDs = append(issueIDs, en.IssueID)
		}
	}
	if len(due) == 0 {
		return nil
	}
	// The batch's issues that ingest did not hand over are read once, as
	// they are now: the counts an activity's rules read are current too.
	var issues map[int64]*store.Issue
	if len(issueIDs) > 0 {
		var err error
		if issues, err = e.store.IssuesByIDs(ctx, issueIDs); err != nil {
			return err
		}
	}
	b := newBatch()
	for _, en := range due {
		is := en.Issue // as the event left it, when ingest handed it over
		if is == nil {
			if is = issues[en.IssueID]; is == nil {
				continue // deleted since
			}
		}
		act := &Activity{Kind: en.Kind, Issue: is, Now: en.DateCreated, Event: en.Event}
		if en.EventRowID != nil {
			act.EventRowID = *en.EventRowID
		}
		if err := e.evaluate(ctx, act, byProject[en.ProjectID], b); err != nil {
			return err
		}
	}
	return e.fire(ctx, b)
}

// Evaluate runs the project's active rules on one activity.
func (e *Engine) Evaluate(ctx context.Context, act *Activity) error {
	cr, err := e.projectRules(ctx, act.Issue.ProjectID)
	if err != nil {
		return err
	}
	b := newBatch()
	if err := e.evaluate(ctx, act, cr, b); err != nil {
		return err
	}
	return e.fire(ctx, b)
}

// batch collects the firings of the activities evaluated together, which
// are recorded in one transaction at the end.
type batch struct {
	firings []*store.RuleFiring
	// pending says when a firing of the batch fired a rule for an issue,
	// so that later activities of the issue skip the rule as they would
	// after its record.
	pending map[[2]int64]time.Time
}

func newBatch() *batch { return &batch{pending: map[[2]int64]time.Time{}} }

// evaluate runs the rules cr on one activity, adding its firings to b.
func (e *Engine) evaluate(ctx context.Context, act *Activity, cr cachedRules, b *batch) error {
	rules := cr.rules
	if len(rules) == 0 {
		return nil
	}
	// Rules that fired for the issue within their frequency cannot fire
	// now: skip them instead of evaluating them and losing RuleFire's
	// compare-and-set, which stays the authority. An issue created by
	// this very activity has fired nothing yet.
	var lastFired map[int64]time.Time
	if act.Kind != store.ActivityNewIssue {
		var err error
		if lastFired, err = e.firedFor(ctx, act.Issue.ID); err != nil {
			return err
		}
	}
	loaded := &loadedEvent{}
	if act.Event != nil && act.EventRowID != 0 {
		loaded.ev, loaded.id, loaded.done = act.Event, act.Event.ID, true
	}
	for _, r := range rules {
		if act.Kind == kindSweep && !r.countsVolume() {
			continue // the sweep is for frequency conditions only
		}
		freq := time.Duration(r.Frequency) * time.Minute
		if last, ok := lastFired[r.ID]; ok && act.Now.Before(last.Add(freq)) {
			continue
		}
		if last, ok := b.pending[[2]int64{r.ID, act.Issue.ID}]; ok && act.Now.Before(last.Add(freq)) {
			continue
		}
		e.evaluated.Inc()
		var muted []string
		everyone := false
		for _, sn := range cr.snoozes[r.ID] {
			if sn.Until != nil && !sn.Until.After(act.Now) {
				continue // over
			}
			if sn.UserID == 0 {
				everyone = true
			} else {
				muted = append(muted, strconv.FormatInt(sn.UserID, 10))
			}
		}
		if everyone {
			continue
		}
		c := &evalCtx{ctx: ctx, store: e.store, act: act, rule: r, loaded: loaded}
		ok, err := c.matches()
		if err != nil {
			if isStoreError(err) {
				return err
			}
			e.failed.Inc()
			e.log.Warn("rule failed", "rule", r.ID, "err", err)
			if serr := e.store.RuleSetError(ctx, r.ID, err.Error(), e.now()); serr != nil {
				return serr
			}
			continue
		}
		if !ok {
			continue
		}
		f, err := e.firing(c, strings.Join(muted, " "))
		if err != nil {
			return err
		}
		b.firings = append(b.firings, f)
		b.pending[[2]int64{r.ID, act.Issue.ID}] = act.Now
	}
	return nil
}

// ruleError is a rule's own fault (a bad regular expression, say), which
// is recorded on the rule instead of retrying the activity.
type ruleError struct{ error }

func isStoreError(err error) bool {
	var re *ruleError
	return !errors.As(err, &re)
}

// matches applies the environment, the conditions (actionMatch) and the
// filters (filterMatch).
func (c *evalCtx) matches() (bool, error) {
	r := c.rule
	// A sweep has no event; its counts are the rule's environment's.
	if r.Environment != "" && c.act.Kind != kindSweep {
		ev, err := c.event()
		if err != nil {
			return false, err
		}
		if ev == nil || ev.Environment != r.Environment {
			return false, nil
		}
	}
	// Both folds are pure, so their order is free: when the conditions
	// count over time, the filters (which read the event, loaded once)
	// go first and spare the counts when they fail.
	if r.countsVolume() && len(r.Filters) > 0 {
		if ok, err := combine(r.FilterMatch, r.Filters, c.filter); err != nil || !ok {
			return false, err
		}
		return combine(r.ActionMatch, r.Conditions, c.condition)
	}
	ok, err := combine(r.ActionMatch, r.Conditions, c.condition)
	if err != nil || !ok {
		return false, err
	}
	if len(r.Filters) == 0 {
		return true, nil
	}
	return combine(r.FilterMatch, r.Filters, c.filter)
}

// countsVolume reports whether the rule has a condition on counts over
// time, which the sweep checks.
func (r *Rule) countsVolume() bool {
	for _, n := range r.Conditions {
		switch n.ID {
		case EventFrequency, UserFrequency, PercentSessions:
			return true
		}
	}
	return false
}

// mayFire reports whether the rule's conditions could hold for an activity
// of this kind, judging by the conditions alone: first seen only on a new
// issue, regression only on a regression, and so on; volume conditions and
// every-event may hold on any event. It errs towards yes.
func (r *Rule) mayFire(kind string) bool {
	if len(r.Conditions) == 0 {
		return true
	}
	may := func(n Node) bool {
		switch n.ID {
		case FirstSeen:
			return kind == store.ActivityNewIssue
		case Regression:
			return kind == store.ActivityRegression
		case Reappeared:
			return kind == store.ActivityUnignored || kind == store.ActivityEscalating
		case MonitorFailure:
			return kind == store.ActivityCheckIn
		}
		return true // every event, volume, or unknown (reported when evaluated)
	}
	switch r.ActionMatch {
	case MatchAll:
		return !slices.ContainsFunc(r.Conditions, func(n Node) bool { return !may(n) })
	case MatchAny:
		return slices.ContainsFunc(r.Conditions, may)
	}
	return true // none: holds when no condition does, whatever the kind
}

// combine folds nodes by a match mode: all, any, none.
func combine(mode string, nodes []Node, eval func(Node) (bool, error)) (bool, error) {
	for _, n := range nodes {
		ok, err := eval(n)
		if err != nil {
			return false, err
		}
		switch {
		case mode == MatchAny && ok:
			return true, nil
		case mode == MatchAll && !ok:
			return false, nil
		case mode == MatchNone && ok:
			return false, nil
		}
	}
	return mode != MatchAny, nil
}

// firing is what a matched rule records: its actions as notification
// requests for the activity's issue and event.
func (e *Engine) firing(c *evalCtx, muted string) (*store.RuleFiring, error) {
	// The notification needs only the event's id; reading it costs a lookup
	// where loading the event costs decompressing and parsing it.
	if l := c.loaded; !l.done && l.id == "" && c.act.EventRowID != 0 {
		id, err := e.store.EventIDByRowID(c.ctx, c.act.EventRowID)
		if err != nil {
			return nil, err
		}
		l.id = id
	}
	actions := make([]string, 0, len(c.rule.Actions))
	for _, a := range c.rule.Actions {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("rule %d action: %w", c.rule.ID, err)
		}
		actions = append(actions, string(b))
	}
	return &store.RuleFiring{
		RuleID: c.rule.ID, ProjectID: c.act.Issue.ProjectID, IssueID: c.act.Issue.ID, EventID: c.loaded.id,
		Reason: c.act.Kind, Frequency: time.Duration(c.rule.Frequency) * time.Minute, At: c.act.Now,
		Actions: actions, MutedUsers: muted,
	}, nil
}

// fire records a batch's firings and their notification requests in one
// transaction, each unless its rule fired for the issue within its
// frequency.
func (e *Engine) fire(ctx context.Context, b *batch) error {
	if len(b.firings) == 0 {
		return nil
	}
	fired, err := e.store.RulesFire(ctx, b.firings)
	if err != nil {
		return err
	}
	e.noteFired(b.firings, fired)
	for i, ok := range fired {
		if ok {
			f := b.firings[i]
			e.fired.Inc()
			e.log.Info("rule fired", "rule", f.RuleID, "issue", f.IssueID, "reason", f.Reason)
		}
	}
	return nil
}

// projectRules returns a project's active rules and their snoozes, cached
// while the project's rules version stays the same (for rulesTTL at most).
func (e *Engine) projectRules(ctx context.Context, projectID int64) (cachedRules, error) {
	now := e.now()
	version, err := e.store.RulesVersion(ctx, projectID)
	if errors.Is(err, store.ErrNotFound) {
		return cachedRules{}, nil // the project was deleted since: no rules
	}
	if err != nil {
		return cachedRules{}, err
	}
	e.mu.Lock()
	cr, ok := e.cache[projectID]
	e.mu.Unlock()
	if ok && now.Before(cr.expires) && cr.version == version {
		return cr, nil
	}
	stored, err := e.store.RulesActive(ctx, projectID)
	if err != nil {
		return cachedRules{}, err
	}
	var rules []*Rule
	for _, sr := range stored {
		r, err := FromStore(sr)
		if err != nil {
			// Stored rules were validated; one that no longer reads is
			// reported on the rule and skipped.
			_ = e.store.RuleSetError(ctx, sr.ID, err.Error(), now)
			continue
		}
		rules = append(rules, r)
	}
	ids := make([]int64, len(rules))
	for i, r := range rules {
		ids[i] = r.ID
	}
	snoozes, err := e.store.RuleSnoozes(ctx, ids, now)
	if err != nil {
		return cachedRules{}, err
	}
	cr = cachedRules{rules: rules, snoozes: snoozes, version: version, expires: now.Add(rulesTTL)}
	e.mu.Lock()
	e.cache[projectID] = cr
	e.mu.Unlock()
	return cr, nil
}

// firedFor returns when the issue's rules last fired, from the cache or
// the store.
func (e *Engine) firedFor(ctx context.Context, issueID int64) (map[int64]time.Time, error) {
	now := e.now()
	e.mu.Lock()
	fe, ok := e.lastFired[issueID]
	e.mu.Unlock()
	if ok && now.Before(fe.expires) {
		return fe.rules, nil
	}
	m, err := e.store.RuleLastFired(ctx, issueID)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.storeFiredLocked(issueID, firedEntry{rules: m, expires: now.Add(firedTTL)}, now)
	e.mu.Unlock()
	return m, nil
}

// noteFired adds the firings that won their compare-and-set to their
// issues' cached entries, where there are some.
func (e *Engine) noteFired(firings []*store.RuleFiring, won []bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	changed := map[int64]map[int64]time.Time{}
	for i, f := range firings {
		if !won[i] {
			continue
		}
		m, ok := changed[f.IssueID]
		if !ok {
			fe, cached := e.lastFired[f.IssueID]
			if !cached {
				continue
			}
			if m = maps.Clone(fe.rules); m == nil {
				m = map[int64]time.Time{}
			}
			changed[f.IssueID] = m
		}
		m[f.RuleID] = f.At
	}
	for id, m := range changed {
		fe := e.lastFired[id]
		fe.rules = m
		e.lastFired[id] = fe
	}
}

func (e *Engine) storeFiredLocked(issueID int64, fe firedEntry, now time.Time) {
	if len(e.lastFired) >= maxFiredEntries {
		maps.DeleteFunc(e.lastFired, func(_ int64, v firedEntry) bool { return !now.Before(v.expires) })
		if len(e.lastFired) >= maxFiredEntries {
			clear(e.lastFired)
		}
	}
	e.lastFired[issueID] = fe
}

// FromStore reads a stored rule.
func FromStore(sr *store.Rule) (*Rule, error) {
	r := &Rule{ID: sr.ID, ProjectID: sr.ProjectID, Name: sr.Name, ActionMatch: sr.ActionMatch,
		FilterMatch: sr.FilterMatch, Frequency: sr.Frequency, Owner: sr.Owner, Status: sr.Status}
	if sr.Environment != nil {
		r.Environment = *sr.Environment
	}
	for field, dst := range map[string]*[]Node{sr.Conditions: &r.Conditions, sr.Filters: &r.Filters, sr.Actions: &r.Actions} {
		if err := json.Unmarshal([]byte(field), dst); err != nil {
			return nil, fmt.Errorf("rule %d: %w", sr.ID, err)
		}
	}
	for _, f := range r.Filters {
		if f.str("match") == "re" {
			re, err := regexp.Compile(f.str("value"))
			if err != nil {
				return nil, fmt.Errorf("rule %d: regular expression %q: %w", sr.ID, f.str("value"), err)
			}
			if r.regexps == nil {
				r.regexps = map[string]*regexp.Regexp{}
			}
			r.regexps[f.str("value")] = re
		}
	}
	return r, nil
}

// ToStore renders a rule for storing.
func (r *Rule) ToStore() *store.Rule {
	enc := func(nodes []Node) string {
		if nodes == nil {
			nodes = []Node{}
		}
		b, _ := json.Marshal(nodes)
		return string(b)
	}
	sr := &store.Rule{ID: r.ID, ProjectID: r.ProjectID, Name: r.Name, ActionMatch: r.ActionMatch,
		FilterMatch: r.FilterMatch, Frequency: r.Frequency, Conditions: enc(r.Conditions), Filters: enc(r.Filters),
		Actions: enc(r.Actions), Owner: r.Owner, Status: r.Status}
	if r.Environment != "" {
		env := r.Environment
		sr.Environment = &env
	}
	return sr
}

// sweepLimit bounds the issues one project's sweep looks at.
const sweepLimit = 1000

// Sweep evaluates the frequency conditions of every project's rules on the
// issues that had events within the longest interval, so that "more than
// 100 in an hour" fires when crossed even if no further event arrives.
func (e *Engine) Sweep(ctx context.Context) error {
	projects, err := e.store.ProjectsWithActiveRules(ctx)
	if err != nil {
		return err
	}
	now := e.now().UTC()
	for _, pid := range projects {
		cr, err := e.projectRules(ctx, pid)
		if err != nil {
			return err
		}
		var longest time.Duration
		for _, r := range cr.rules {
			for _, n := range r.Conditions {
				switch n.ID {
				case EventFrequency, UserFrequency:
					longest = max(longest, frequencyIntervals[n.str("interval")])
				case PercentSessions:
					longest = max(longest, sessionIntervals[n.str("interval")])
				}
			}
		}
		if longest == 0 {
			continue
		}
		ids, err := e.store.IssuesActiveSince(ctx, pid, now.Add(-longest), sweepLimit)
		if err != nil {
			return err
		}
		issues, err := e.store.IssuesByIDs(ctx, ids)
		if err != nil {
			return err
		}
		// One batch per project: its firings are recorded together.
		b := newBatch()
		for _, id := range ids {
			is := issues[id]
			if is == nil || is.Status != store.StatusUnresolved {
				continue // deleted since, or resolved or ignored: no volume alerts
			}
			if err := e.evaluate(ctx, &Activity{Kind: kindSweep, Issue: is, Now: now}, cr, b); err != nil {
				return err
			}
		}
		if err := e.fire(ctx, b); err != nil {
			return err
		}
	}
	return nil
}
