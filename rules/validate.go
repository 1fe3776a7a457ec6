package rules

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FieldErrors are a rule's problems by field, as Sentry's 400 body has
// them: {"conditions": ["…"], "frequency": ["…"]}.
type FieldErrors map[string][]string

func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+strings.Join(fe[k], "; "))
	}
	return strings.Join(parts, ", ")
}

func (fe FieldErrors) add(field, format string, args ...any) {
	fe[field] = append(fe[field], fmt.Sprintf(format, args...))
}

// Validate checks a rule and fills its defaults (actionMatch and
// filterMatch "all", frequency 30, status active). It returns FieldErrors.
func Validate(r *Rule) error {
	fe := FieldErrors{}
	r.Name = strings.TrimSpace(r.Name)
	switch {
	case r.Name == "":
		fe.add("name", "This field is required.")
	case utf8.RuneCountInString(r.Name) > maxName:
		fe.add("name", "Ensure this field has no more than %d characters.", maxName)
	}
	if r.ActionMatch == "" {
		r.ActionMatch = MatchAll
	}
	if r.FilterMatch == "" {
		r.FilterMatch = MatchAll
	}
	for field, v := range map[string]string{"actionMatch": r.ActionMatch, "filterMatch": r.FilterMatch} {
		if v != MatchAll && v != MatchAny && v != MatchNone {
			fe.add(field, "%q is not a valid choice (all, any, none).", v)
		}
	}
	if r.Frequency == 0 {
		r.Frequency = defaultFreq
	}
	if r.Frequency < minFreq || r.Frequency > maxFreq {
		fe.add("frequency", "Must be between %d and %d minutes.", minFreq, maxFreq)
	}
	if r.Status == "" {
		r.Status = "active"
	}
	if r.Status != "active" && r.Status != "disabled" {
		fe.add("status", "%q is not a valid choice (active, disabled).", r.Status)
	}
	if len(r.Environment) > 64 || strings.ContainsAny(r.Environment, "/\r\n") {
		fe.add("environment", "Invalid environment name.")
	}
	if r.Owner != "" {
		kind, id, ok := strings.Cut(r.Owner, ":")
		if _, err := strconv.ParseInt(id, 10, 64); !ok || (kind != "user" && kind != "team") || err != nil {
			fe.add("owner", "Expected user:ID or team:ID.")
		}
	}
	if len(r.Conditions) == 0 {
		fe.add("conditions", "You must add at least one condition.")
	}
	if len(r.Actions) == 0 {
		fe.add("actions", "You must add an action for this alert to fire.")
	}
	checkNodes(fe, "conditions", KindCondition, r.Conditions)
	checkNodes(fe, "filters", KindFilter, r.Filters)
	checkNodes(fe, "actions", KindAction, r.Actions)
	if len(fe) > 0 {
		return fe
	}
	return nil
}

func checkNodes(fe FieldErrors, field, kind string, nodes []Node) {
	if len(nodes) > maxNodes {
		fe.add(field, "At most %d %s are allowed.", maxNodes, field)
		return
	}
	for i := range nodes {
		n := &nodes[i]
		sp := specByID(n.ID)
		if sp == nil || sp.Kind != kind {
			fe.add(field, "Invalid %s id %q.", kind, n.ID)
			continue
		}
		if n.Fields == nil {
			n.Fields = map[string]any{}
		}
		for _, f := range sp.Fields {
			if msg := checkField(n, f); msg != "" {
				fe.add(field, "%s: %s", f.Name, msg)
			}
		}
		if msg := checkNode(n); msg != "" {
			fe.add(field, "%s", msg)
		}
	}
}

// checkField checks one form field of a node, normalizing numbers given
// as strings (Sentry's forms send both).
func checkField(n *Node, f field) string {
	v, present := n.Fields[f.Name]
	if !present || v == nil || v == "" {
		if f.Required {
			return "This field is required."
		}
		return ""
	}
	switch f.Type {
	case "number":
		s := n.str(f.Name)
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) {
			return fmt.Sprintf("%q is not a number.", s)
		}
		if x < f.Min || x > f.Max {
			return fmt.Sprintf("Must be between %g and %g.", f.Min, f.Max)
		}
		// ParseFloat takes "+5" and "0x1p4", which are no JSON numbers:
		// store the number as JSON writes it.
		n.Fields[f.Name] = json.Number(strconv.FormatFloat(x, 'f', -1, 64))
	case "choice":
		s := n.str(f.Name)
		if !slices.ContainsFunc(f.Choices, func(c [2]string) bool { return c[0] == s }) {
			return fmt.Sprintf("%q is not a valid choice.", s)
		}
		n.Fields[f.Name] = s
	case "string":
		s, ok := v.(string)
		if !ok {
			if _, isNum := v.(json.Number); !isNum {
				return "Expected a string."
			}
			s = n.str(f.Name)
			n.Fields[f.Name] = s
		}
		if utf8.RuneCountInString(s) > maxStringField {
			return fmt.Sprintf("At most %d characters.", maxStringField)
		}
	case "list":
		l, ok := v.([]any)
		if !ok {
			return "Expected a list."
		}
		if len(l) > 100 {
			return "At most 100 items."
		}
		for _, it := range l {
			if _, ok := it.(string); !ok {
				return "Expected a list of strings."
			}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "Expected true or false."
		}
	}
	return ""
}

// checkNode checks what spans fields: a match that needs a value, a
// regular expression that must compile, a team or member target.
func checkNode(n *Node) string {
	switch n.ID {
	case TaggedEvent, EventAttribute:
		switch m := n.str("match"); m {
		case "is", "ns":
		case "re":
			if _, err := regexp.Compile(n.str("value")); err != nil {
				return fmt.Sprintf("value: invalid regular expression: %v", err)
			}
		default:
			if n.str("value") == "" {
				return "value: This field is required."
			}
		}
	case AssignedTo, EmailNotify:
		if t := n.str("targetType"); (t == "Team" || t == "Member") && n.str("targetIdentifier") == "" {
			return "targetIdentifier: This field is required for a team or member target."
		}
	case EventFrequency, UserFrequency:
		if n.str("comparisonType") == "percent" && n.str("comparisonInterval") == "" {
			return "comparisonInterval: This field is required for a percent comparison."
		}
	}
	return ""
}
