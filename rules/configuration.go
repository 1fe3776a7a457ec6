package rules

import (
	"regexp"
	"slices"
)

// NodeConfig describes one kind of condition, filter or action for
// clients, as Sentry's project rules configuration endpoint lists them
// (src/sentry/api/endpoints/project_rules_configuration.py).
type NodeConfig struct {
	ID     string
	Kind   string // KindCondition, KindFilter or KindAction
	Label  string // with {field} placeholders, as Sentry's labels
	Fields []FormField
}

// FormField is one field of a node's form.
type FormField struct {
	Name     string
	Type     string      // number, choice, string, list, boolean
	Label    string      // "" when the name says it
	Choices  [][2]string // value and label, for choice fields
	Required bool
	Min, Max float64 // bounds of number fields
}

// Configuration returns every condition, filter and action kind that rules
// accept, in a stable order: conditions, then filters, then actions.
func Configuration() []NodeConfig {
	out := make([]NodeConfig, 0, len(specs))
	for _, kind := range []string{KindCondition, KindFilter, KindAction} {
		for _, sp := range specs {
			if sp.Kind != kind {
				continue
			}
			nc := NodeConfig{ID: sp.ID, Kind: sp.Kind, Label: sp.Label}
			for _, f := range sp.Fields {
				nc.Fields = append(nc.Fields, FormField{Name: f.Name, Type: f.Type, Label: f.Label,
					Choices: slices.Clone(f.Choices), Required: f.Required, Min: f.Min, Max: f.Max})
			}
			out = append(out, nc)
		}
	}
	return out
}

var placeholderRE = regexp.MustCompile(`\{([A-Za-z_]+)\}`)

// Label renders a node as people read it, its kind's label with the
// node's values in place of the placeholders (a choice shows its label),
// as Sentry's rule serializer adds a "name" to each node. An unknown kind
// renders as its id.
func Label(n Node) string {
	sp := specByID(n.ID)
	if sp == nil {
		return n.ID
	}
	return placeholderRE.ReplaceAllStringFunc(sp.Label, func(ph string) string {
		name := ph[1 : len(ph)-1]
		v := n.str(name)
		for _, f := range sp.Fields {
			if f.Name != name {
				continue
			}
			for _, c := range f.Choices {
				if c[0] == v {
					return c[1]
				}
			}
		}
		if v == "" {
			return "…"
		}
		return v
	})
}
