// Package rules is Tocsin's issue alert rules: Sentry's model (conditions
// that trigger, filters that narrow, actions that notify, actionMatch and
// filterMatch, a per-issue frequency), its validation, and the engine that
// evaluates a project's rules on every issue activity and turns fired rules
// into durable notification requests.
package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
)

// Node is one condition, filter or action: an "id" naming its kind and the
// fields of its form, as Sentry's rule JSON has them.
type Node struct {
	ID     string
	Fields map[string]any
}

// MarshalJSON writes the node as one flat object, "id" first.
func (n Node) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"id":`)
	id, _ := json.Marshal(n.ID)
	b.Write(id)
	keys := make([]string, 0, len(n.Fields))
	for k := range n.Fields {
		if k != "id" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(n.Fields[k])
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		b.WriteByte(',')
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a flat object with an "id".
func (n *Node) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	if m == nil {
		return fmt.Errorf("expected an object with an id")
	}
	id, _ := m["id"].(string)
	delete(m, "id")
	n.ID, n.Fields = id, m
	return nil
}

// str reads a field as a string; numbers are accepted, as Sentry's forms
// send "40" and 40 alike.
func (n Node) str(key string) string {
	switch v := n.Fields[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return fmt.Sprint(v)
	case bool:
		return fmt.Sprint(v)
	}
	return ""
}

// Rule is one issue alert rule of a project.
type Rule struct {
	ID          int64
	ProjectID   int64
	Name        string
	Environment string // "" means any environment
	ActionMatch string // all, any, none
	FilterMatch string // all, any, none
	Frequency   int    // minutes between two firings for one issue
	Conditions  []Node
	Filters     []Node
	Actions     []Node
	Owner       string // "user:ID", "team:ID" or ""
	Status      string // active, disabled

	// regexps are the filters' regular expressions, compiled once when the
	// rule is read for evaluation.
	regexps map[string]*regexp.Regexp
}

// Match modes of actionMatch and filterMatch.
const (
	MatchAll  = "all"
	MatchAny  = "any"
	MatchNone = "none"
)

// Limits of a rule, to keep evaluation bounded.
const (
	maxNodes       = 50
	maxName        = 256
	defaultFreq    = 30
	minFreq        = 1
	maxFreq        = 60 * 24 * 30
	maxStringField = 1000
)
