package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Rule is an issue alert rule as stored; its conditions, filters and
// actions are JSON that package rules reads and validates.
type Rule struct {
	ID          int64
	ProjectID   int64
	Name        string
	Environment *string
	ActionMatch string
	FilterMatch string
	Frequency   int
	Conditions  string
	Filters     string
	Actions     string
	Owner       string
	CreatedBy   *int64
	Status      string
	LastError   string
	LastErrorAt *time.Time
	DateCreated time.Time
	DateUpdated time.Time
}

const ruleFields = "id, project_id, name, environment, action_match, filter_match, frequency, conditions, " +
	"filters, actions, owner, created_by, status, last_error, last_error_at, date_created, date_updated"

// ruleColumns are ruleFields of the table aliased r.
var ruleColumns = "r." + strings.ReplaceAll(ruleFields, ", ", ", r.")

func scanRule(rw row) (*Rule, error) {
	var r Rule
	err := rw.Scan(&r.ID, &r.ProjectID, &r.Name, &r.Environment, &r.ActionMatch, &r.FilterMatch, &r.Frequency,
		&r.Conditions, &r.Filters, &r.Actions, &r.Owner, &r.CreatedBy, &r.Status, &r.LastError, &r.LastErrorAt,
		&r.DateCreated, &r.DateUpdated)
	return &r, err
}

// defaultRule is the rule every new project starts with, as Sentry's:
// a new issue notifies the issue's owners by email, falling through to
// the project's active members.
func defaultRule(projectID int64) *Rule {
	return &Rule{ProjectID: projectID, Name: "Send a notification for new issues", ActionMatch: "all",
		FilterMatch: "all", Frequency: 30, Status: "active",
		Conditions: `[{"id":"sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}]`,
		Filters:    `[]`,
		Actions:    `[{"id":"sentry.mail.actions.NotifyEmailAction","fallthroughType":"ActiveMembers","targetIdentifier":"","targetType":"IssueOwners"}]`,
	}
}

// RuleCreate adds a rule to a project of the organization.
func (s *Store) RuleCreate(ctx context.Context, orgID int64, r *Rule) (*Rule, error) {
	var out *Rule
	err := s.tx(ctx, func(q querier) error {
		if err := projectInOrg(ctx, q, orgID, r.ProjectID); err != nil {
			return err
		}
		var err error
		out, err = ruleInsert(ctx, q, r)
		return err
	})
	return out, err
}

func ruleInsert(ctx context.Context, q querier, r *Rule) (*Rule, error) {
	n := now()
	out, err := scanRule(q.queryRow(ctx, `INSERT INTO rules (project_id, name, environment, action_match,
		filter_match, frequency, conditions, filters, actions, owner, created_by, status, date_created, date_updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
		RETURNING `+ruleFields, r.ProjectID, r.Name, r.Environment, r.ActionMatch, r.FilterMatch,
		r.Frequency, r.Conditions, r.Filters, r.Actions, r.Owner, r.CreatedBy, r.Status, n))
	if err != nil {
		return nil, fmt.Errorf("create rule %q: %w", r.Name, err)
	}
	if err := bumpRulesVersion(ctx, q, r.ProjectID); err != nil {
		return nil, err
	}
	return out, nil
}

// bumpRulesVersion marks the project's rules as changed (RulesVersion).
func bumpRulesVersion(ctx context.Context, q querier, projectID int64) error {
	if _, err := q.exec(ctx, `UPDATE projects SET rules_version = rules_version + 1 WHERE id = $1`, projectID); err != nil {
		return fmt.Errorf("mark the rules of project %d changed: %w", projectID, err)
	}
	return nil
}

// bumpRulesVersionOfRule is bumpRulesVersion for the project of a rule.
func bumpRulesVersionOfRule(ctx context.Context, q querier, ruleID int64) error {
	if _, err := q.exec(ctx, `UPDATE projects SET rules_version = rules_version + 1
		WHERE id = (SELECT project_id FROM rules WHERE id = $1)`, ruleID); err != nil {
		return fmt.Errorf("mark the rules of rule %d's project changed: %w", ruleID, err)
	}
	return nil
}

// RulesVersion is a number that changes whenever a rule of the project or
// a snooze of one is created, changed or removed.
func (s *Store) RulesVersion(ctx context.Context, projectID int64) (int64, error) {
	var v int64
	if err := s.r.queryRow(ctx, `SELECT rules_version FROM projects WHERE id = $1`, projectID).Scan(&v); err != nil {
		return 0, notFound(err, fmt.Sprintf("project %d", projectID))
	}
	return v, nil
}

// RuleUpdate replaces a rule's definition; its fire records stay.
func (s *Store) RuleUpdate(ctx context.Context, orgID int64, r *Rule) (*Rule, error) {
	var out *Rule
	err := s.tx(ctx, func(q querier) error {
		if err := projectInOrg(ctx, q, orgID, r.ProjectID); err != nil {
			return err
		}
		var err error
		out, err = scanRule(q.queryRow(ctx, `UPDATE rules SET name = $3, environment = $4, action_match = $5,
			filter_match = $6, frequency = $7, conditions = $8, filters = $9, actions = $10, owner = $11,
			status = $12, last_error = '', last_error_at = NULL, date_updated = $13
			WHERE id = $1 AND project_id = $2 RETURNING `+ruleFields,
			r.ID, r.ProjectID, r.Name, r.Environment, r.ActionMatch, r.FilterMatch, r.Frequency, r.Conditions,
			r.Filters, r.Actions, r.Owner, r.Status, now()))
		if err != nil {
			return notFound(err, fmt.Sprintf("rule %d", r.ID))
		}
		return bumpRulesVersion(ctx, q, r.ProjectID)
	})
	return out, err
}

// RuleGet returns a rule of a project of the organization.
func (s *Store) RuleGet(ctx context.Context, orgID, projectID, ruleID int64) (*Rule, error) {
	r, err := scanRule(s.r.queryRow(ctx, `SELECT `+ruleColumns+` FROM rules r JOIN projects p ON p.id = r.project_id
		WHERE p.organization_id = $1 AND r.project_id = $2 AND r.id = $3`, orgID, projectID, ruleID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("rule %d", ruleID))
	}
	return r, nil
}

// RuleList lists a project's rules, oldest first.
func (s *Store) RuleList(ctx context.Context, orgID, projectID int64, page Page) ([]*Rule, error) {
	return s.rules(ctx, `SELECT `+ruleColumns+` FROM rules r JOIN projects p ON p.id = r.project_id
		WHERE p.organization_id = $1 AND r.project_id = $2 ORDER BY r.id LIMIT $3 OFFSET $4`,
		orgID, projectID, page.Limit, page.Offset)
}

// RulesActive lists a project's active rules, for the engine.
func (s *Store) RulesActive(ctx context.Context, projectID int64) ([]*Rule, error) {
	return s.rules(ctx, `SELECT `+ruleColumns+` FROM rules r WHERE r.project_id = $1 AND r.status = 'active'
		ORDER BY r.id`, projectID)
}

func (s *Store) rules(ctx context.Context, query string, args ...any) ([]*Rule, error) {
	rs, err := s.r.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	defer rs.Close()
	var out []*Rule
	for rs.Next() {
		r, err := scanRule(rs)
		if err != nil {
			return nil, fmt.Errorf("list rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// RuleDelete removes a rule with its history.
func (s *Store) RuleDelete(ctx context.Context, orgID, projectID, ruleID int64) error {
	return s.tx(ctx, func(q querier) error {
		if err := projectInOrg(ctx, q, orgID, projectID); err != nil {
			return err
		}
		n, err := q.exec(ctx, `DELETE FROM rules WHERE id = $1 AND project_id = $2`, ruleID, projectID)
		if err != nil {
			return fmt.Errorf("delete rule %d: %w", ruleID, err)
		}
		if n == 0 {
			return fmt.Errorf("rule %d: %w", ruleID, ErrNotFound)
		}
		return bumpRulesVersion(ctx, q, projectID)
	})
}

// RuleSetError records why a rule could not be evaluated ("" clears it),
// so that the API can show a failing rule.
func (s *Store) RuleSetError(ctx context.Context, ruleID int64, msg string, at time.Time) error {
	var atp *time.Time
	if msg != "" {
		t := at.UTC()
		atp = &t
	}
	if _, err := s.w.exec(ctx, `UPDATE rules SET last_error = $2, last_error_at = $3 WHERE id = $1`,
		ruleID, truncateRunes(msg, 1000), atp); err != nil {
		return fmt.Errorf("record error of rule %d: %w", ruleID, err)
	}
	return nil
}

// Snooze mutes a rule for everyone (UserID 0) or for one user, until a
// time or for good.
type Snooze struct {
	RuleID      int64
	UserID      int64
	Until       *time.Time
	CreatedBy   *int64
	DateCreated time.Time
}

// RuleSnooze mutes a rule; snoozing again replaces the previous snooze.
func (s *Store) RuleSnooze(ctx context.Context, sn *Snooze) error {
	if sn.DateCreated.IsZero() {
		sn.DateCreated = now()
	}
	return s.tx(ctx, func(q querier) error {
		if _, err := q.exec(ctx, `INSERT INTO rule_snoozes (rule_id, user_id, until, created_by, date_created)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (rule_id, user_id) DO UPDATE SET until = excluded.until, created_by = excluded.created_by,
				date_created = excluded.date_created`,
			sn.RuleID, sn.UserID, sn.Until, sn.CreatedBy, sn.DateCreated); err != nil {
			return fmt.Errorf("snooze rule %d: %w", sn.RuleID, err)
		}
		return bumpRulesVersionOfRule(ctx, q, sn.RuleID)
	})
}

// RuleUnsnooze lifts a snooze; ErrNotFound when there was none.
func (s *Store) RuleUnsnooze(ctx context.Context, ruleID, userID int64) error {
	return s.tx(ctx, func(q querier) error {
		n, err := q.exec(ctx, `DELETE FROM rule_snoozes WHERE rule_id = $1 AND user_id = $2`, ruleID, userID)
		if err != nil {
			return fmt.Errorf("unsnooze rule %d: %w", ruleID, err)
		}
		if n == 0 {
			return fmt.Errorf("snooze of rule %d: %w", ruleID, ErrNotFound)
		}
		return bumpRulesVersionOfRule(ctx, q, ruleID)
	})
}

// RuleSnoozes returns the snoozes of rules in force at the time.
func (s *Store) RuleSnoozes(ctx context.Context, ruleIDs []int64, at time.Time) (map[int64][]Snooze, error) {
	out := map[int64][]Snooze{}
	if len(ruleIDs) == 0 {
		return out, nil
	}
	rs, err := s.r.query(ctx, `SELECT rule_id, user_id, until, created_by, date_created FROM rule_snoozes
		WHERE (until IS NULL OR until > $1) AND rule_id IN (`+placeholders(2, len(ruleIDs))+`)`,
		append([]any{at.UTC()}, anySlice(ruleIDs)...)...)
	if err != nil {
		return nil, fmt.Errorf("rule snoozes: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var sn Snooze
		if err := rs.Scan(&sn.RuleID, &sn.UserID, &sn.Until, &sn.CreatedBy, &sn.DateCreated); err != nil {
			return nil, fmt.Errorf("rule snoozes: %w", err)
		}
		out[sn.RuleID] = append(out[sn.RuleID], sn)
	}
	return out, rs.Err()
}

// RuleFiring is a rule that matched an issue activity.
type RuleFiring struct {
	RuleID    int64
	ProjectID int64
	IssueID   int64
	EventID   string
	Reason    string // the activity kind that fired it
	Frequency time.Duration
	At        time.Time
	// Actions are the rule's actions as JSON, one notification request each.
	Actions    []string
	MutedUsers string // users who snoozed the rule for themselves
}

// RuleFire records a firing unless the rule already fired for the issue
// within its frequency: the last-fired record is updated with
// compare-and-set, so several workers evaluating the same activity fire
// once. The fire history and one notification request per action are
// written in the same transaction. It reports whether the rule fired.
func (s *Store) RuleFire(ctx context.Context, f *RuleFiring) (bool, error) {
	fired, err := s.RulesFire(ctx, []*RuleFiring{f})
	if err != nil {
		return false, err
	}
	return fired[0], nil
}

// RulesFire records firings in one transaction, each as RuleFire does and
// in order (of two firings of one rule for one issue, the second is
// judged after the first), so that the rules a batch of activities fires
// cost one commit beside ingest's. It reports which fired.
func (s *Store) RulesFire(ctx context.Context, fs []*RuleFiring) ([]bool, error) {
	fired := make([]bool, len(fs))
	// Rounds of firings with distinct rule and issue keep the order
	// between firings of one rule and issue, and let each round write
	// its history and requests in a few statements.
	var rounds [][]int
	next := map[[2]int64]int{}
	for i, f := range fs {
		k := [2]int64{f.RuleID, f.IssueID}
		r := next[k]
		next[k] = r + 1
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], i)
	}
	err := s.tx(ctx, func(q querier) error {
		clear(fired)
		for _, round := range rounds {
			for chunk := range slices.Chunk(round, maxFiringsPerStatement) {
				if err := fireRound(ctx, q, fs, chunk, fired); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return fired, err
}

// liveFirings leaves out of idx the firings whose rule or issue was
// deleted since they were evaluated: they fire nothing, rather than fail
// the batch's transaction on a foreign key.
func liveFirings(ctx context.Context, q querier, fs []*RuleFiring, idx []int) ([]int, error) {
	rules, issues := map[int64]bool{}, map[int64]bool{}
	for _, i := range idx {
		rules[fs[i].RuleID], issues[fs[i].IssueID] = false, false
	}
	for _, c := range []struct {
		table string
		ids   map[int64]bool
	}{{"rules", rules}, {"issues", issues}} {
		keys := slices.Collect(maps.Keys(c.ids))
		rs, err := q.query(ctx, `SELECT id FROM `+c.table+` WHERE id IN (`+placeholders(1, len(keys))+`)`, anySlice(keys)...)
		if err != nil {
			return nil, fmt.Errorf("fire rules: %w", err)
		}
		for rs.Next() {
			var id int64
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return nil, fmt.Errorf("fire rules: %w", err)
			}
			c.ids[id] = true
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, fmt.Errorf("fire rules: %w", err)
		}
	}
	return slices.DeleteFunc(slices.Clone(idx), func(i int) bool { return !rules[fs[i].RuleID] || !issues[fs[i].IssueID] }), nil
}

// maxFiringsPerStatement bounds the rows of one multi-row insert (well
// under both engines' limits on parameters).
const maxFiringsPerStatement = 100

// fireRound records firings with distinct rule and issue: the
// compare-and-set of all of them in one statement, then the history and
// the notification requests of those that fired, one statement each.
func fireRound(ctx context.Context, q querier, fs []*RuleFiring, idx []int, fired []bool) error {
	idx, err := liveFirings(ctx, q, fs, idx)
	if err != nil || len(idx) == 0 {
		return err
	}
	var args []any
	var rows []string
	for _, i := range idx {
		f := fs[i]
		at := f.At.UTC()
		args = append(args, f.RuleID, f.IssueID, at, at.Add(-f.Frequency))
		rows = append(rows, "("+placeholders(len(args)-3, 4)+")")
	}
	// Each row wins when the rule last fired for the issue at or before
	// its own window start; RETURNING lists the rows inserted or updated,
	// not those whose condition failed.
	rs, err := q.query(ctx, `INSERT INTO rule_fires (rule_id, issue_id, last_fired, window_start)
		VALUES `+strings.Join(rows, ", ")+`
		ON CONFLICT (rule_id, issue_id) DO UPDATE SET last_fired = excluded.last_fired, window_start = excluded.window_start
		WHERE rule_fires.last_fired <= excluded.window_start
		RETURNING rule_id, issue_id`, args...)
	if err != nil {
		return fmt.Errorf("fire rules: %w", err)
	}
	wonPair := map[[2]int64]bool{}
	for rs.Next() {
		var rule, issue int64
		if err := rs.Scan(&rule, &issue); err != nil {
			rs.Close()
			return fmt.Errorf("fire rules: %w", err)
		}
		wonPair[[2]int64{rule, issue}] = true
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("fire rules: %w", err)
	}
	var won []int
	for _, i := range idx {
		if wonPair[[2]int64{fs[i].RuleID, fs[i].IssueID}] {
			fired[i] = true
			won = append(won, i)
		}
	}
	if len(won) == 0 {
		return nil
	}
	args, rows = args[:0], rows[:0]
	for _, i := range won {
		f := fs[i]
		args = append(args, f.RuleID, f.IssueID, f.EventID, f.Reason, f.At.UTC())
		rows = append(rows, "("+placeholders(len(args)-4, 5)+")")
	}
	rs, err = q.query(ctx, `INSERT INTO rule_fire_history (rule_id, issue_id, event_id, reason, date_created)
		VALUES `+strings.Join(rows, ", ")+` RETURNING id, rule_id, issue_id`, args...)
	if err != nil {
		return fmt.Errorf("record firings: %w", err)
	}
	fireIDs := make(map[[2]int64]int64, len(won))
	for rs.Next() {
		var id, rule, issue int64
		if err := rs.Scan(&id, &rule, &issue); err != nil {
			rs.Close()
			return fmt.Errorf("record firings: %w", err)
		}
		fireIDs[[2]int64{rule, issue}] = id
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("record firings: %w", err)
	}
	args, rows = args[:0], rows[:0]
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		_, err := q.exec(ctx, `INSERT INTO notifications (project_id, rule_id, issue_id, fire_id, event_id,
			action, reason, muted_users, date_created) VALUES `+strings.Join(rows, ", "), args...)
		args, rows = args[:0], rows[:0]
		if err != nil {
			return fmt.Errorf("request notifications: %w", err)
		}
		return nil
	}
	for _, i := range won {
		f := fs[i]
		for _, a := range f.Actions {
			args = append(args, f.ProjectID, f.RuleID, f.IssueID, fireIDs[[2]int64{f.RuleID, f.IssueID}], f.EventID,
				a, f.Reason, f.MutedUsers, f.At.UTC())
			rows = append(rows, "("+placeholders(len(args)-8, 9)+")")
			if len(rows) == maxFiringsPerStatement {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// FireGroup is one issue in a rule's fire history, as Sentry's
// group-history: how often the rule fired for it and when last.
type FireGroup struct {
	IssueID       int64
	Count         int64
	LastTriggered time.Time
	EventID       string
}

// RuleFireHistory summarizes a rule's firings between two times, the issue
// that fired it most often first.
func (s *Store) RuleFireHistory(ctx context.Context, orgID, ruleID int64, from, to time.Time, page Page) ([]*FireGroup, error) {
	rs, err := s.r.query(ctx, `SELECT h.issue_id, COUNT(*), MAX(h.date_created),
			(SELECT h2.event_id FROM rule_fire_history h2 WHERE h2.rule_id = h.rule_id AND h2.issue_id = h.issue_id
				ORDER BY h2.id DESC LIMIT 1)
		FROM rule_fire_history h JOIN rules r ON r.id = h.rule_id JOIN projects p ON p.id = r.project_id
		WHERE p.organization_id = $1 AND h.rule_id = $2 AND h.date_created >= $3 AND h.date_created < $4
		GROUP BY h.rule_id, h.issue_id ORDER BY COUNT(*) DESC, MAX(h.date_created) DESC LIMIT $5 OFFSET $6`,
		orgID, ruleID, from.UTC(), to.UTC(), page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("fire history of rule %d: %w", ruleID, err)
	}
	defer rs.Close()
	var out []*FireGroup
	for rs.Next() {
		var (
			g    FireGroup
			last any
		)
		if err := rs.Scan(&g.IssueID, &g.Count, &last, &g.EventID); err != nil {
			return nil, fmt.Errorf("fire history: %w", err)
		}
		g.LastTriggered = anyTime(last)
		out = append(out, &g)
	}
	return out, rs.Err()
}

// anyTime reads an aggregate's time: PostgreSQL gives a time.Time, SQLite
// the stored text.
func anyTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t.UTC()
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano} {
			if p, err := time.Parse(layout, t); err == nil {
				return p.UTC()
			}
		}
	}
	return time.Time{}
}

// Notification is a request to notify, made by a fired rule: the seam
// where digests and integrations take over.
type Notification struct {
	ID          int64
	ProjectID   int64
	RuleID      *int64
	IssueID     *int64
	FireID      int64
	EventID     string
	Action      string // the rule action's JSON
	Reason      string
	MutedUsers  string
	Status      string
	DateCreated time.Time
}

// NotificationList lists a project's notification requests, newest first.
func (s *Store) NotificationList(ctx context.Context, projectID int64, page Page) ([]*Notification, error) {
	rs, err := s.r.query(ctx, `SELECT id, project_id, rule_id, issue_id, fire_id, event_id, action, reason,
		muted_users, status, date_created FROM notifications WHERE project_id = $1
		ORDER BY id DESC LIMIT $2 OFFSET $3`, projectID, page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	defer rs.Close()
	var out []*Notification
	for rs.Next() {
		var n Notification
		if err := rs.Scan(&n.ID, &n.ProjectID, &n.RuleID, &n.IssueID, &n.FireID, &n.EventID, &n.Action, &n.Reason,
			&n.MutedUsers, &n.Status, &n.DateCreated); err != nil {
			return nil, fmt.Errorf("list notifications: %w", err)
		}
		out = append(out, &n)
	}
	return out, rs.Err()
}
