package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
)

// The rule JSON follows Sentry's RuleSerializer
// (src/sentry/api/serializers/models/rule.py); lastError is Tocsin's own.

type ruleJSON struct {
	ID                string           `json:"id"`
	Name              string           `json:"name"`
	Conditions        []rules.Node     `json:"conditions"`
	Filters           []rules.Node     `json:"filters"`
	Actions           []rules.Node     `json:"actions"`
	ActionMatch       string           `json:"actionMatch"`
	FilterMatch       string           `json:"filterMatch"`
	Frequency         int              `json:"frequency"`
	Environment       *string          `json:"environment"`
	Owner             *string          `json:"owner"`
	CreatedBy         *ruleCreatorJSON `json:"createdBy"`
	DateCreated       time.Time        `json:"dateCreated"`
	Projects          []string         `json:"projects"`
	Status            string           `json:"status"`
	Snooze            bool             `json:"snooze"`
	SnoozeForEveryone bool             `json:"snoozeForEveryone"`
	SnoozeCreatedBy   *string          `json:"snoozeCreatedBy,omitempty"`
	LastError         *ruleErrorJSON   `json:"lastError"`
}

// ruleCreatorJSON is Sentry's createdBy, whose id is a number.
type ruleCreatorJSON struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// ruleErrorJSON is why the rule last failed to evaluate (a bad regular
// expression, a missing integration); saving the rule clears it.
type ruleErrorJSON struct {
	Message string     `json:"message"`
	Date    *time.Time `json:"date"`
}

// ruleContext holds what serializing a page of rules needs beyond them.
type ruleContext struct {
	project *store.Project
	userID  int64 // the requesting user, whose own snoozes show
	snoozes map[int64][]store.Snooze
	users   map[int64]*store.User
}

func (h *Handler) newRuleContext(ctx context.Context, or *orgRequest, p *store.Project, rs []*store.Rule) (*ruleContext, error) {
	rc := &ruleContext{project: p, userID: or.user.ID, users: map[int64]*store.User{}}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	var err error
	if rc.snoozes, err = h.store.RuleSnoozes(ctx, ids, time.Now()); err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.CreatedBy != nil {
			if err := rc.loadUser(ctx, h.store, *r.CreatedBy); err != nil {
				return nil, err
			}
		}
		for _, sn := range rc.snoozes[r.ID] {
			if sn.CreatedBy != nil {
				if err := rc.loadUser(ctx, h.store, *sn.CreatedBy); err != nil {
					return nil, err
				}
			}
		}
	}
	return rc, nil
}

func (rc *ruleContext) loadUser(ctx context.Context, st *store.Store, id int64) error {
	if _, ok := rc.users[id]; ok {
		return nil
	}
	u, err := st.UserGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		u, err = nil, nil
	}
	rc.users[id] = u
	return err
}

// storedNodes reads a stored node list; stored rules were validated, so a
// list that does not read shows as empty rather than failing the request.
func storedNodes(s string) []rules.Node {
	var nodes []rules.Node
	if err := json.Unmarshal([]byte(s), &nodes); err != nil || nodes == nil {
		return []rules.Node{}
	}
	return nodes
}

// fromStore reads a stored rule for editing.
func fromStore(sr *store.Rule) *rules.Rule {
	r := &rules.Rule{ID: sr.ID, ProjectID: sr.ProjectID, Name: sr.Name, ActionMatch: sr.ActionMatch,
		FilterMatch: sr.FilterMatch, Frequency: sr.Frequency, Owner: sr.Owner, Status: sr.Status,
		Conditions: storedNodes(sr.Conditions), Filters: storedNodes(sr.Filters), Actions: storedNodes(sr.Actions)}
	if sr.Environment != nil {
		r.Environment = *sr.Environment
	}
	return r
}

// labelled adds Sentry's rendered "name" to each node.
func labelled(nodes []rules.Node) []rules.Node {
	out := make([]rules.Node, len(nodes))
	for i, n := range nodes {
		fields := make(map[string]any, len(n.Fields)+1)
		for k, v := range n.Fields {
			fields[k] = v
		}
		fields["name"] = rules.Label(n)
		out[i] = rules.Node{ID: n.ID, Fields: fields}
	}
	return out
}

func (rc *ruleContext) ruleJSON(sr *store.Rule) ruleJSON {
	out := ruleJSON{
		ID: id(sr.ID), Name: sr.Name, ActionMatch: sr.ActionMatch, FilterMatch: sr.FilterMatch,
		Frequency: sr.Frequency, Environment: sr.Environment, Owner: optional(sr.Owner),
		Conditions: labelled(storedNodes(sr.Conditions)), Filters: labelled(storedNodes(sr.Filters)),
		Actions: labelled(storedNodes(sr.Actions)), DateCreated: sr.DateCreated,
		Projects: []string{rc.project.Slug}, Status: sr.Status,
	}
	if sr.CreatedBy != nil {
		if u := rc.users[*sr.CreatedBy]; u != nil {
			out.CreatedBy = &ruleCreatorJSON{ID: u.ID, Name: userToJSON(u).Name, Email: u.Email}
		}
	}
	if sr.LastError != "" {
		out.LastError = &ruleErrorJSON{Message: sr.LastError, Date: sr.LastErrorAt}
	}
	// As Sentry, the snooze shown is the one for everyone, else the
	// requesting user's own.
	var shown *store.Snooze
	for i, sn := range rc.snoozes[sr.ID] {
		if sn.UserID == 0 {
			shown = &rc.snoozes[sr.ID][i]
			break
		}
		if sn.UserID == rc.userID {
			shown = &rc.snoozes[sr.ID][i]
		}
	}
	if shown != nil {
		out.Snooze, out.SnoozeForEveryone = true, shown.UserID == 0
		if shown.CreatedBy != nil {
			by := ""
			if *shown.CreatedBy == rc.userID {
				by = "You"
			} else if u := rc.users[*shown.CreatedBy]; u != nil {
				by = userToJSON(u).Name
			}
			if by != "" {
				out.SnoozeCreatedBy = &by
			}
		}
	}
	return out
}

// ruleRequest is the body of POST and PUT …/rules/. Each field is read on
// its own so that a wrong type is reported under its name, in Sentry's
// shape; fields left out keep their value (PUT) or default (POST).
type ruleRequest struct {
	Name        json.RawMessage `json:"name"`
	Environment json.RawMessage `json:"environment"`
	ActionMatch json.RawMessage `json:"actionMatch"`
	FilterMatch json.RawMessage `json:"filterMatch"`
	Frequency   json.RawMessage `json:"frequency"`
	Conditions  json.RawMessage `json:"conditions"`
	Filters     json.RawMessage `json:"filters"`
	Actions     json.RawMessage `json:"actions"`
	Owner       json.RawMessage `json:"owner"`
	Status      json.RawMessage `json:"status"`
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

func addError(fe rules.FieldErrors, field, format string, args ...any) {
	fe[field] = append(fe[field], fmt.Sprintf(format, args...))
}

// readString reads a string field of a request body into dst: absent
// leaves dst (or, when required, records "This field is required."), null
// gives "" when nullable, anything but a string is recorded in fe.
func readString(fe rules.FieldErrors, field string, raw json.RawMessage, nullable, required bool, dst *string) {
	if raw == nil {
		if required {
			addError(fe, field, "This field is required.")
		}
		return
	}
	if isNull(raw) {
		if nullable {
			*dst = ""
		} else {
			addError(fe, field, "This field may not be null.")
		}
		return
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		addError(fe, field, "Not a valid string.")
		return
	}
	*dst = s
}

// apply copies the request's fields onto the rule, recording wrong types.
func (req *ruleRequest) apply(r *rules.Rule, fe rules.FieldErrors) {
	str := func(field string, raw json.RawMessage, nullable bool, dst *string) {
		readString(fe, field, raw, nullable, false, dst)
	}
	str("name", req.Name, false, &r.Name)
	str("environment", req.Environment, true, &r.Environment)
	str("actionMatch", req.ActionMatch, true, &r.ActionMatch)
	str("filterMatch", req.FilterMatch, true, &r.FilterMatch)
	str("owner", req.Owner, true, &r.Owner)
	str("status", req.Status, true, &r.Status)

	if req.Frequency != nil {
		if isNull(req.Frequency) {
			r.Frequency = 0 // the default
		} else if n, ok := parseInt(req.Frequency); !ok {
			addError(fe, "frequency", "A valid integer is required.")
		} else if n < 1 {
			addError(fe, "frequency", "Ensure this value is greater than or equal to 1.")
		} else {
			r.Frequency = int(min(n, math.MaxInt32)) // Validate reports one too large
		}
	}
	nodes := func(field string, raw json.RawMessage, dst *[]rules.Node) {
		if raw == nil {
			return
		}
		if isNull(raw) {
			*dst = nil
			return
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			addError(fe, field, "Expected a list of objects.")
			return
		}
		out := make([]rules.Node, 0, len(items))
		for i, it := range items {
			var n rules.Node
			if err := json.Unmarshal(it, &n); err != nil {
				addError(fe, field, "Item %d: expected an object with an id.", i)
				return
			}
			// "name" is the rendered label the API adds; clients send it back.
			delete(n.Fields, "name")
			out = append(out, n)
		}
		*dst = out
	}
	nodes("conditions", req.Conditions, &r.Conditions)
	nodes("filters", req.Filters, &r.Filters)
	nodes("actions", req.Actions, &r.Actions)
}

// parseInt reads a JSON integer, or a string holding one, as Django REST
// framework's IntegerField accepts both (and 30.0 for 30).
func parseInt(raw json.RawMessage) (int64, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(raw)
	}
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false
	}
	return int64(f), true
}

// ruleConfigJSON is one entry of Sentry's project rules configuration.
type ruleConfigJSON struct {
	ID         string                   `json:"id"`
	Label      string                   `json:"label"`
	Enabled    bool                     `json:"enabled"`
	FormFields map[string]formFieldJSON `json:"formFields,omitempty"`
}

type formFieldJSON struct {
	Type     string      `json:"type"`
	Label    string      `json:"label,omitempty"`
	Choices  [][2]string `json:"choices,omitempty"`
	Required bool        `json:"required"`
	Min      *float64    `json:"min,omitempty"`
	Max      *float64    `json:"max,omitempty"`
}

// rulesConfigurationJSON is the answer of …/rules/configuration/.
func rulesConfigurationJSON() map[string][]ruleConfigJSON {
	out := map[string][]ruleConfigJSON{"actions": {}, "conditions": {}, "filters": {}}
	key := map[string]string{rules.KindCondition: "conditions", rules.KindFilter: "filters", rules.KindAction: "actions"}
	for _, nc := range rules.Configuration() {
		c := ruleConfigJSON{ID: nc.ID, Label: nc.Label, Enabled: true}
		for _, f := range nc.Fields {
			if c.FormFields == nil {
				c.FormFields = map[string]formFieldJSON{}
			}
			ff := formFieldJSON{Type: f.Type, Label: f.Label, Choices: f.Choices, Required: f.Required}
			if f.Type == "number" {
				lo, hi := f.Min, f.Max
				ff.Min, ff.Max = &lo, &hi
			}
			c.FormFields[f.Name] = ff
		}
		out[key[nc.Kind]] = append(out[key[nc.Kind]], c)
	}
	return out
}

// snoozeJSON follows Sentry's RuleSnoozeSerializer: userId is "everyone"
// and until "forever" when they do not apply.
type snoozeJSON struct {
	OwnerID   *int64    `json:"ownerId"`
	UserID    any       `json:"userId"`
	Until     any       `json:"until"`
	DateAdded time.Time `json:"dateAdded"`
	RuleID    int64     `json:"ruleId"`
}

func snoozeToJSON(sn *store.Snooze) snoozeJSON {
	out := snoozeJSON{OwnerID: sn.CreatedBy, UserID: "everyone", Until: "forever", DateAdded: sn.DateCreated.UTC(), RuleID: sn.RuleID}
	if sn.UserID != 0 {
		out.UserID = sn.UserID
	}
	if sn.Until != nil {
		out.Until = sn.Until.UTC()
	}
	return out
}

// fireGroupJSON is one issue of a rule's group history, as Sentry's
// RuleGroupHistorySerializer.
type fireGroupJSON struct {
	Group         issueJSON `json:"group"`
	Count         int64     `json:"count"`
	LastTriggered time.Time `json:"lastTriggered"`
	EventID       *string   `json:"eventId"`
}
