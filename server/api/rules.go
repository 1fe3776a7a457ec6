package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
)

// The issue alert rule endpoints, as Sentry's
// (src/sentry/api/endpoints/project_rules.py, project_rule_details.py,
// project_rules_configuration.py, rule_snooze.py,
// project_rule_group_history.py).

// Scopes of the rule endpoints, as Sentry's ProjectAlertRulePermission.
var (
	alertsRead  = []string{"alerts:read", "alerts:write", "project:read", "project:write", "project:admin"}
	alertsWrite = []string{"alerts:write", "project:write", "project:admin"}
)

// rule resolves the {project} and {rule} path values inside the
// organization; a rule of another project or organization is 404.
func (h *Handler) rule(w http.ResponseWriter, r *http.Request, or *orgRequest) (*store.Project, *store.Rule, bool) {
	return projectChild(h, w, r, or, "rule", h.store.RuleGet)
}

// projectList answers a paginated list of the {project}'s objects, read
// with list and written with toJSON.
func projectList[T, J any](h *Handler, w http.ResponseWriter, r *http.Request, or *orgRequest,
	list func(ctx context.Context, orgID, projectID int64, page store.Page) ([]T, error), toJSON func(T) J) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	items, err := list(r.Context(), or.org.ID, p.ID, pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	paginate(w, pg, items, toJSON)
}

// projectChild resolves the {project} path value and the numeric id in
// path value key, and gets that object of the project with get; anything
// of another project or organization, or a malformed id, is 404.
func projectChild[T any](h *Handler, w http.ResponseWriter, r *http.Request, or *orgRequest, key string,
	get func(ctx context.Context, orgID, projectID, id int64) (T, error)) (*store.Project, T, bool) {
	var zero T
	p, ok := h.project(w, r, or)
	if !ok {
		return nil, zero, false
	}
	n, err := strconv.ParseInt(r.PathValue(key), 10, 64)
	if err != nil || n <= 0 {
		writeError(w, http.StatusNotFound, "The requested resource does not exist")
		return nil, zero, false
	}
	v, err := get(r.Context(), or.org.ID, p.ID, n)
	if err != nil {
		h.fail(w, r, err, "")
		return nil, zero, false
	}
	return p, v, true
}

func (h *Handler) ruleList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	rs, err := h.store.RuleList(r.Context(), or.org.ID, p.ID, pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	rs = rs[:pg.trim(w, len(rs))]
	rc, err := h.newRuleContext(r.Context(), or, p, rs)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	out := make([]ruleJSON, 0, len(rs))
	for _, sr := range rs {
		out = append(out, rc.ruleJSON(sr))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) ruleCreate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	var req ruleRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	rule := &rules.Rule{ProjectID: p.ID}
	if !h.checkRule(w, r, or, &req, rule) {
		return
	}
	sr := rule.ToStore()
	sr.CreatedBy = &or.user.ID
	created, err := h.store.RuleCreate(r.Context(), or.org.ID, sr)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	h.writeRule(w, r, or, p, created, http.StatusCreated)
}

func (h *Handler) ruleGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, sr, ok := h.rule(w, r, or)
	if !ok {
		return
	}
	h.writeRule(w, r, or, p, sr, http.StatusOK)
}

// ruleUpdate answers PUT …/rules/{rule}/. As Sentry's, fields left out
// keep their values; conditions, filters and actions given replace the
// rule's whole lists.
func (h *Handler) ruleUpdate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, sr, ok := h.rule(w, r, or)
	if !ok {
		return
	}
	var req ruleRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	rule := fromStore(sr)
	if !h.checkRule(w, r, or, &req, rule) {
		return
	}
	updated, err := h.store.RuleUpdate(r.Context(), or.org.ID, rule.ToStore())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	h.writeRule(w, r, or, p, updated, http.StatusOK)
}

// ruleDelete answers 202 with no body, as Sentry's.
func (h *Handler) ruleDelete(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, sr, ok := h.rule(w, r, or)
	if !ok {
		return
	}
	if err := h.store.RuleDelete(r.Context(), or.org.ID, p.ID, sr.ID); err != nil {
		h.fail(w, r, err, "")
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h *Handler) writeRule(w http.ResponseWriter, r *http.Request, or *orgRequest, p *store.Project, sr *store.Rule, code int) {
	rc, err := h.newRuleContext(r.Context(), or, p, []*store.Rule{sr})
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, code, rc.ruleJSON(sr))
}

// ruleConfiguration lists the conditions, filters and actions rules
// accept, with their form fields.
func (h *Handler) ruleConfiguration(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	if _, ok := h.project(w, r, or); !ok {
		return
	}
	writeJSON(w, http.StatusOK, rulesConfigurationJSON())
}

// checkRule applies a request to a rule and validates the result; it
// answers 400 itself, with Sentry's {"field": ["message", …]} body, and
// reports whether the rule may be saved.
func (h *Handler) checkRule(w http.ResponseWriter, r *http.Request, or *orgRequest, req *ruleRequest, rule *rules.Rule) bool {
	fe := rules.FieldErrors{}
	req.apply(rule, fe)
	if err := rules.Validate(rule); err != nil {
		var vfe rules.FieldErrors
		if !errors.As(err, &vfe) {
			h.fail(w, r, err, "")
			return false
		}
		// A field whose type was wrong keeps that one complaint.
		for field, msgs := range vfe {
			if _, seen := fe[field]; !seen {
				fe[field] = msgs
			}
		}
	}
	// The store is asked only about fields that are otherwise valid, so
	// that a rule at most holds Validate's limit of nodes to look up.
	_, actionsBad := fe["actions"]
	if err := h.checkPeople(r.Context(), or, rule, fe); err != nil {
		h.fail(w, r, err, "")
		return false
	}
	if !actionsBad {
		if err := h.checkActionTargets(r.Context(), or, rule.Actions, fe); err != nil {
			h.fail(w, r, err, "")
			return false
		}
	}
	if len(fe) > 0 {
		writeJSON(w, http.StatusBadRequest, fe)
		return false
	}
	return true
}

// checkPeople checks that the users and teams a rule names (its owner,
// email action targets, assigned-to filters) are the organization's. It
// skips fields that already have errors.
func (h *Handler) checkPeople(ctx context.Context, or *orgRequest, rule *rules.Rule, fe rules.FieldErrors) error {
	if _, bad := fe["owner"]; !bad && rule.Owner != "" {
		kind, ref, _ := strings.Cut(rule.Owner, ":")
		msg, err := h.checkPerson(ctx, or, kind, ref)
		if err != nil {
			return err
		}
		if msg != "" {
			addError(fe, "owner", "%s", msg)
		}
	}
	for field, nodes := range map[string][]rules.Node{"actions": rule.Actions, "filters": rule.Filters} {
		if _, bad := fe[field]; bad {
			continue
		}
		for _, n := range nodes {
			if n.ID != rules.EmailNotify && n.ID != rules.AssignedTo {
				continue
			}
			var kind string
			switch n.Fields["targetType"] {
			case "Member":
				kind = "user"
			case "Team":
				kind = "team"
			default:
				continue
			}
			ref, _ := n.Fields["targetIdentifier"].(string)
			msg, err := h.checkPerson(ctx, or, kind, ref)
			if err != nil {
				return err
			}
			if msg != "" {
				addError(fe, field, "targetIdentifier: %s", msg)
			}
		}
	}
	return nil
}

// checkPerson checks that user or team ref (an id) is the organization's;
// it returns the complaint, or "".
func (h *Handler) checkPerson(ctx context.Context, or *orgRequest, kind, ref string) (string, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(ref), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Sprintf("%q is not a %s id.", ref, kind), nil
	}
	var found bool
	switch kind {
	case "user":
		var users []*store.MemberUser
		users, err = h.store.MemberUsers(ctx, or.org.ID, []int64{n}, 0)
		if err == nil && len(users) == 0 {
			return fmt.Sprintf("User %d is not a member of the organization.", n), nil
		}
	case "team":
		found, err = h.store.OrganizationHasTeam(ctx, or.org.ID, n)
		if err == nil && !found {
			return fmt.Sprintf("Team %d is not a team of the organization.", n), nil
		}
	default:
		return "Expected user:ID or team:ID.", nil
	}
	return "", err
}

// integrationFields are the action fields that name an integration, and
// the provider the integration must be ("" for any).
var integrationFields = map[string]struct{ field, provider string }{
	rules.NotifyIntegration: {"integration", ""},
	rules.ServiceNotify:     {"service", ""},
	rules.SlackNotify:       {"workspace", "slack"},
	rules.GitHubTicket:      {"integration", "github"},
}

// checkActionTargets checks that each integration an action names is one
// of the request's organization (and of the action's provider), so that
// no rule can send through another organization's integration: 400
// otherwise, nothing saved. A disabled integration is accepted; delivery
// skips it until it is enabled again.
func (h *Handler) checkActionTargets(ctx context.Context, or *orgRequest, actions []rules.Node, fe rules.FieldErrors) error {
	for _, a := range actions {
		want, ok := integrationFields[a.ID]
		if !ok {
			continue
		}
		ref, _ := a.Fields[want.field].(string)
		ref = strings.TrimSpace(ref)
		if ref == "" {
			addError(fe, "actions", "%s: This field may not be blank.", want.field)
			continue
		}
		n, err := strconv.ParseInt(ref, 10, 64)
		var in *store.Integration
		if err == nil && n > 0 {
			in, err = h.store.IntegrationGet(ctx, or.org.ID, n)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		switch {
		case in == nil:
			addError(fe, "actions", "%s: %q is not an integration of this organization.", want.field, ref)
		case want.provider != "" && in.Provider != want.provider:
			addError(fe, "actions", "%s: integration %d is a %s integration, not %s.", want.field, n, in.Provider, want.provider)
		case in.Provider == "sentry":
			// The Sentry bridge only takes webhooks in; it cannot notify.
			addError(fe, "actions", "%s: integration %d is a Sentry bridge, which cannot send notifications.", want.field, n)
		}
	}
	return nil
}

// snoozeRequest is the body of POST and DELETE …/rules/{rule}/snooze/.
type snoozeRequest struct {
	Target json.RawMessage `json:"target"`
	Until  json.RawMessage `json:"until"`
}

// snoozeTarget reads "me" or "everyone"; "" when left out and not required.
func snoozeTarget(raw json.RawMessage, required bool, fe rules.FieldErrors) string {
	if raw == nil || isNull(raw) {
		if required {
			addError(fe, "target", "This field is required.")
		}
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || (s != "me" && s != "everyone") {
		addError(fe, "target", "Expected \"me\" or \"everyone\".")
		return ""
	}
	return s
}

// ruleSnooze mutes a rule for the requesting user or for everyone,
// optionally until a time. As Sentry's, a snooze in force for the same
// target is not replaced (410); an expired one is.
func (h *Handler) ruleSnooze(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	_, sr, ok := h.rule(w, r, or)
	if !ok {
		return
	}
	var req snoozeRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	now := time.Now().UTC()
	fe := rules.FieldErrors{}
	target := snoozeTarget(req.Target, true, fe)
	var until *time.Time
	if req.Until != nil && !isNull(req.Until) {
		var (
			s string
			t time.Time
		)
		err := json.Unmarshal(req.Until, &s)
		if err == nil {
			t, err = parseTime(s)
		}
		switch {
		case err != nil:
			addError(fe, "until", "Datetime has wrong format. Use ISO 8601.")
		case !t.After(now):
			addError(fe, "until", "Must be in the future.")
		default:
			until = &t
		}
	}
	if len(fe) > 0 {
		writeJSON(w, http.StatusBadRequest, fe)
		return
	}
	var userID int64
	if target == "me" {
		userID = or.user.ID
	}
	current, err := h.store.RuleSnoozes(r.Context(), []int64{sr.ID}, now)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	for _, sn := range current[sr.ID] {
		if sn.UserID == userID {
			writeError(w, http.StatusGone, "RuleSnooze already exists for this rule and scope.")
			return
		}
	}
	sn := &store.Snooze{RuleID: sr.ID, UserID: userID, Until: until, CreatedBy: &or.user.ID, DateCreated: now}
	if err := h.store.RuleSnooze(r.Context(), sn); err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusCreated, snoozeToJSON(sn))
}

// ruleUnsnooze lifts the snooze of the target given in the body (or
// ?target=); with none, as Sentry's, both the snooze for everyone and the
// requesting user's own. 404 when there was none.
func (h *Handler) ruleUnsnooze(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	_, sr, ok := h.rule(w, r, or)
	if !ok {
		return
	}
	var req snoozeRequest
	if replyBadRequest(w, decodeOptional(w, r, &req)) {
		return
	}
	if req.Target == nil && r.URL.Query().Has("target") {
		req.Target, _ = json.Marshal(r.URL.Query().Get("target"))
	}
	fe := rules.FieldErrors{}
	target := snoozeTarget(req.Target, false, fe)
	if len(fe) > 0 {
		writeJSON(w, http.StatusBadRequest, fe)
		return
	}
	users := []int64{0, or.user.ID}
	switch target {
	case "everyone":
		users = users[:1]
	case "me":
		users = users[1:]
	}
	removed := false
	for _, uid := range users {
		err := h.store.RuleUnsnooze(r.Context(), sr.ID, uid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		removed = true
	}
	if !removed {
		writeError(w, http.StatusNotFound, "This rulesnooze object doesn't exist.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// defaultHistoryPeriod is the group history's period when the request
// names none, as Sentry's.
const defaultHistoryPeriod = 14 * 24 * time.Hour

// ruleGroupHistory answers …/rules/{rule}/group-history/: the issues the
// rule fired for in a period (?statsPeriod=, or ?start= and ?end=), the
// one it fired for most often first.
func (h *Handler) ruleGroupHistory(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	_, sr, ok := h.rule(w, r, or)
	if !ok {
		return
	}
	from, to, err := historyRange(r.URL.Query(), time.Now().UTC())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	groups, err := h.store.RuleFireHistory(r.Context(), or.org.ID, sr.ID, from, to, pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	groups = groups[:pg.trim(w, len(groups))]
	ic, err := h.newIssueContext(r.Context(), or)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	out := make([]fireGroupJSON, 0, len(groups))
	for _, g := range groups {
		is, err := h.store.IssueGet(r.Context(), or.org.ID, g.IssueID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since
		}
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		out = append(out, fireGroupJSON{Group: h.issueJSON(r.Context(), ic, is), Count: g.Count,
			LastTriggered: g.LastTriggered, EventID: optional(g.EventID)})
	}
	writeJSON(w, http.StatusOK, out)
}

// historyRange reads ?statsPeriod=, or ?start= and ?end= (ISO 8601), as
// Sentry's get_date_range_from_params; the default is the last 14 days.
func historyRange(q url.Values, now time.Time) (from, to time.Time, err error) {
	if p := q.Get("statsPeriod"); p != "" {
		span, _, err := parsePeriod(p)
		if err != nil {
			return from, to, err
		}
		return now.Add(-span), now, nil
	}
	start, end := q.Get("start"), q.Get("end")
	if start == "" && end == "" {
		return now.Add(-defaultHistoryPeriod), now, nil
	}
	if start == "" || end == "" {
		return from, to, errors.New("start and end are both required")
	}
	if from, err = parseTime(start); err != nil {
		return from, to, fmt.Errorf("start: %w", err)
	}
	if to, err = parseTime(end); err != nil {
		return from, to, fmt.Errorf("end: %w", err)
	}
	if !to.After(from) {
		return from, to, errors.New("end must be after start")
	}
	return from, to, nil
}

// parseTime reads an ISO 8601 time as Sentry's clients send it: with a
// zone, or without one meaning UTC, or a date alone.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", s)
}
