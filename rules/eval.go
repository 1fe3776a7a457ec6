package rules

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/store"
)

// Activity is what a rule is evaluated on: one thing that happened to an
// issue, at a time.
type Activity struct {
	Kind  string // store.Activity*, or kindSweep for the periodic frequency check
	Issue *store.Issue
	// EventRowID is the triggering event; 0 when there is none (a sweep).
	EventRowID int64
	// Event is that event when the caller has it parsed already (ingest
	// in the same process); nil means the engine reads it when a rule
	// needs it.
	Event *event.Event
	Now   time.Time
}

// kindSweep marks the periodic evaluation of frequency conditions.
const kindSweep = "sweep"

// evalCtx carries one activity through one rule.
type evalCtx struct {
	ctx   context.Context
	store *store.Store
	act   *Activity
	rule  *Rule
	// loaded is what the activity's rules share: its event, loaded at
	// most once, and the counts already read.
	loaded *loadedEvent
}

type loadedEvent struct {
	ev     *event.Event
	id     string
	done   bool
	tags   []event.Tag // the event's index tags, once a filter asked
	tagsOK bool
	counts map[countKey]int64
}

// countKey names a count of an issue's events or users over a window.
type countKey struct {
	users       bool
	environment string
	from, to    int64 // UnixNano
}

// event loads the triggering event; nil when there is none.
func (c *evalCtx) event() (*event.Event, error) {
	l := c.loaded
	if l.done {
		return l.ev, nil
	}
	l.done = true
	if c.act.EventRowID == 0 {
		return nil, nil
	}
	se, err := c.store.EventByRowID(c.ctx, c.act.EventRowID)
	if err != nil {
		return nil, fmt.Errorf("load event: %w", err)
	}
	ev, err := event.ParseStoredForRules(se.JSON)
	if err != nil {
		return nil, fmt.Errorf("read event %s: %w", se.EventID, err)
	}
	l.ev, l.id = ev, se.EventID
	return ev, nil
}

// isEvent reports whether the activity carries an event (every kind but
// status changes and sweeps).
func (c *evalCtx) isEvent() bool { return c.act.EventRowID != 0 }

// condition evaluates one trigger.
func (c *evalCtx) condition(n Node) (bool, error) {
	k := c.act.Kind
	switch n.ID {
	case FirstSeen:
		return k == store.ActivityNewIssue, nil
	case Regression:
		return k == store.ActivityRegression, nil
	case Reappeared:
		return k == store.ActivityUnignored || k == store.ActivityEscalating, nil
	case EveryEvent:
		return c.isEvent(), nil
	case MonitorFailure:
		return k == store.ActivityCheckIn, nil
	case EventFrequency, UserFrequency:
		return c.frequency(n)
	case PercentSessions:
		return c.percentSessions(n)
	}
	return false, &ruleError{fmt.Errorf("unknown condition %q", n.ID)}
}

// justAfter ends a count's [from, to) window just after now, so that the
// event received at now counts. Stored times keep microseconds: a
// nanosecond later is the same time on PostgreSQL.
const justAfter = time.Microsecond

// frequency: more than value events (or users) in the interval; with
// comparisonType percent, more than value percent higher than the same
// interval comparisonInterval earlier.
func (c *evalCtx) frequency(n Node) (bool, error) {
	if c.act.Kind == store.ActivityStatus {
		return false, nil
	}
	interval := frequencyIntervals[n.str("interval")]
	value, _ := strconv.ParseFloat(n.str("value"), 64)
	users := n.ID == UserFrequency
	percent := n.str("comparisonType") == "percent"
	// The issue's own totals bound every window's count: an issue seen 30
	// times cannot have had more than 100 events in an hour. Most issues
	// are far below most thresholds, so most counts need no read.
	bound := c.act.Issue.TimesSeen
	if users {
		bound = c.act.Issue.UserCount
	}
	if !percent && float64(bound) <= value {
		return false, nil
	}
	if percent && float64(bound) <= 1+value/100 {
		// cur-prev > prev*value/100 with prev ≥ 1 needs cur > 1+value/100.
		return false, nil
	}
	count := func(from, to time.Time) (int64, error) {
		return c.count(users, from, to)
	}
	now := c.act.Now
	if !percent {
		cur, err := count(now.Add(-interval), now.Add(justAfter))
		if err != nil {
			return false, err
		}
		return float64(cur) > value, nil
	}
	// The baseline first: an issue younger than the comparison interval
	// has none, which needs no read.
	back := comparisonIntervals[n.str("comparisonInterval")]
	prev, err := count(now.Add(-back-interval), now.Add(-back))
	if err != nil {
		return false, err
	}
	if prev == 0 {
		return false, nil // no baseline: nothing to compare with, as Sentry
	}
	cur, err := count(now.Add(-interval), now.Add(justAfter))
	if err != nil {
		return false, err
	}
	return float64(cur-prev)/float64(prev)*100 > value, nil
}

// beforeIssue is how long before an issue's first seen time a window must
// end to hold none of its events: first seen is the earliest event
// timestamp, a timestamp is at most a minute after its event was received
// (event.Parse), and counts by the minute include the window end's minute.
const beforeIssue = 2 * time.Minute

// count reads the issue's events (or users) in [from, to) in the rule's
// environment, once per activity: rules with the same window share it.
func (c *evalCtx) count(users bool, from, to time.Time) (int64, error) {
	if to.Before(c.act.Issue.FirstSeen.Add(-beforeIssue)) {
		return 0, nil // a window before the issue's first event
	}
	l := c.loaded
	k := countKey{users: users, environment: c.rule.Environment, from: from.UnixNano(), to: to.UnixNano()}
	if n, ok := l.counts[k]; ok {
		return n, nil
	}
	var n int64
	var err error
	if users {
		n, err = c.store.IssueUserCount(c.ctx, c.act.Issue.ID, c.rule.Environment, from, to)
	} else {
		n, err = c.store.IssueEventCount(c.ctx, c.act.Issue.ID, c.rule.Environment, from, to)
	}
	if err != nil {
		return 0, err
	}
	if l.counts == nil {
		l.counts = map[countKey]int64{}
	}
	l.counts[k] = n
	return n, nil
}

// percentSessions: the issue's events are more than value percent of the
// project's sessions in the interval.
func (c *evalCtx) percentSessions(n Node) (bool, error) {
	if c.act.Kind == store.ActivityStatus {
		return false, nil
	}
	interval := sessionIntervals[n.str("interval")]
	value, _ := strconv.ParseFloat(n.str("value"), 64)
	now := c.act.Now
	sessions, err := c.store.ProjectSessionCount(c.ctx, c.act.Issue.ProjectID, c.rule.Environment, now.Add(-interval), now)
	if err != nil || sessions == 0 {
		return false, err
	}
	events, err := c.count(false, now.Add(-interval), now.Add(justAfter))
	if err != nil {
		return false, err
	}
	return float64(events)/float64(sessions)*100 > value, nil
}

// levels maps Sentry's numeric levels.
var levels = map[string]int{event.LevelFatal: 50, event.LevelError: 40, event.LevelWarning: 30, event.LevelInfo: 20, event.LevelDebug: 10}

// filter evaluates one filter.
func (c *evalCtx) filter(n Node) (bool, error) {
	is := c.act.Issue
	switch n.ID {
	case AgeComparison:
		v, _ := strconv.ParseFloat(n.str("value"), 64)
		unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour, "week": 7 * 24 * time.Hour}[n.str("time")]
		age := c.act.Now.Sub(is.FirstSeen)
		limit := time.Duration(v * float64(unit))
		if n.str("comparison_type") == "older" {
			return age > limit, nil
		}
		return age < limit, nil
	case IssueOccurrences:
		v, _ := strconv.ParseFloat(n.str("value"), 64)
		return float64(is.TimesSeen) >= v, nil
	case AssignedTo:
		switch n.str("targetType") {
		case "Unassigned":
			return is.AssigneeUserID == nil && is.AssigneeTeamID == nil, nil
		case "Team":
			return is.AssigneeTeamID != nil && strconv.FormatInt(*is.AssigneeTeamID, 10) == n.str("targetIdentifier"), nil
		case "Member":
			return is.AssigneeUserID != nil && strconv.FormatInt(*is.AssigneeUserID, 10) == n.str("targetIdentifier"), nil
		}
		return false, nil
	case IssueCategory:
		cat := "1"
		// Cron failure events (monitors.FailureEvent) have the logger
		// "monitor"; an SDK's logger named "monitoring.x" is an error's.
		if is.Logger == "monitor" {
			cat = "4"
		}
		return cat == n.str("value"), nil
	}
	ev, err := c.event()
	if err != nil {
		return false, err
	}
	if ev == nil {
		return false, nil // event filters cannot pass without an event
	}
	switch n.ID {
	case LevelFilter:
		want, _ := strconv.Atoi(n.str("level"))
		got := levels[ev.Level]
		switch n.str("match") {
		case "gte":
			return got >= want, nil
		case "lte":
			return got <= want, nil
		}
		return got == want, nil
	case TaggedEvent:
		var vals []string
		if !c.loaded.tagsOK {
			c.loaded.tags, c.loaded.tagsOK = ev.IndexTags(), true
		}
		key := n.str("key")
		for _, t := range c.loaded.tags {
			if strings.EqualFold(t.Key, key) {
				vals = append(vals, t.Value)
			}
		}
		return match(n.str("match"), n.str("value"), vals, c.rule.regexps)
	case EventAttribute:
		return match(n.str("match"), n.str("value"), attributeValues(ev, n.str("attribute")), c.rule.regexps)
	case LatestRelease:
		latest, err := c.store.LatestRelease(c.ctx, is.ProjectID)
		if err != nil {
			return false, err
		}
		return latest != "" && ev.Release == latest, nil
	}
	return false, &ruleError{fmt.Errorf("unknown filter %q", n.ID)}
}

// match applies a Sentry match operator to a field's values: positive
// operators pass when any value matches, negative ones when none does.
func match(op, want string, vals []string, compiled map[string]*regexp.Regexp) (bool, error) {
	switch op {
	case "is":
		return len(vals) > 0, nil
	case "ns":
		return len(vals) == 0, nil
	case "ne":
		return !anyMatch(vals, func(v string) bool { return strings.EqualFold(v, want) }), nil
	case "nc":
		return !anyMatch(vals, func(v string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(want)) }), nil
	}
	var pred func(string) bool
	switch op {
	case "eq":
		pred = func(v string) bool { return strings.EqualFold(v, want) }
	case "sw":
		pred = func(v string) bool { return strings.HasPrefix(strings.ToLower(v), strings.ToLower(want)) }
	case "ew":
		pred = func(v string) bool { return strings.HasSuffix(strings.ToLower(v), strings.ToLower(want)) }
	case "co":
		pred = func(v string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(want)) }
	case "in":
		set := map[string]bool{}
		for _, w := range strings.Split(want, ",") {
			set[strings.ToLower(strings.TrimSpace(w))] = true
		}
		pred = func(v string) bool { return set[strings.ToLower(v)] }
	case "re":
		re := compiled[want]
		if re == nil {
			var err error
			if re, err = regexp.Compile(want); err != nil {
				return false, &ruleError{fmt.Errorf("regular expression %q: %w", want, err)}
			}
		}
		pred = re.MatchString
	default:
		return false, &ruleError{fmt.Errorf("unknown match %q", op)}
	}
	return anyMatch(vals, pred), nil
}

func anyMatch(vals []string, pred func(string) bool) bool {
	for _, v := range vals {
		if pred(v) {
			return true
		}
	}
	return false
}

// frameFields read the frame fields of the stacktrace.* attributes.
var frameFields = map[string]func(*event.Frame) string{
	"code":     func(f *event.Frame) string { return f.ContextLine },
	"module":   func(f *event.Frame) string { return f.Module },
	"filename": func(f *event.Frame) string { return f.Filename },
	"abs_path": func(f *event.Frame) string { return f.AbsPath },
	"package":  func(f *event.Frame) string { return f.Package },
}

// attributeValues reads an event attribute of EventAttributeFilter; some
// have several values (every exception, every frame).
func attributeValues(ev *event.Event, attr string) []string {
	one := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	switch attr {
	case "message":
		if ev.Message != "" {
			return []string{ev.Message}
		}
		return one(ev.Title())
	case "platform":
		return one(ev.Platform)
	case "environment":
		return one(ev.Environment)
	case "type":
		return one(ev.Type)
	case "error.handled", "error.unhandled":
		h := ev.Handled()
		if h == nil {
			return nil
		}
		v := *h
		if attr == "error.unhandled" {
			v = !v
		}
		return []string{strconv.FormatBool(v)}
	case "exception.type", "exception.value":
		var out []string
		for _, e := range ev.Exceptions {
			if attr == "exception.type" {
				out = append(out, e.Type)
			} else {
				out = append(out, e.Value)
			}
		}
		return out
	case "user.id", "user.email", "user.username", "user.ip_address":
		if ev.User == nil {
			return nil
		}
		switch attr {
		case "user.id":
			return one(ev.User.ID)
		case "user.email":
			return one(ev.User.Email)
		case "user.username":
			return one(ev.User.Username)
		}
		return one(ev.User.IPAddress)
	case "http.method", "http.url":
		if ev.Request == nil {
			return nil
		}
		if attr == "http.method" {
			return one(ev.Request.Method)
		}
		return one(ev.Request.URL)
	case "sdk.name":
		return one(ev.SDK.Name)
	}
	if f, ok := strings.CutPrefix(attr, "stacktrace."); ok {
		field := frameFields[f]
		if field == nil {
			return nil
		}
		var out []string
		visit := func(st *event.Stacktrace) {
			if st == nil {
				return
			}
			for i := range st.Frames {
				if v := field(&st.Frames[i]); v != "" {
					out = append(out, v)
				}
			}
		}
		for _, e := range ev.Exceptions {
			visit(e.Stacktrace)
		}
		visit(ev.Stacktrace)
		for _, t := range ev.Threads {
			visit(t.Stacktrace)
		}
		return out
	}
	return nil
}
