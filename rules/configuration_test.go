package rules_test

import (
	"encoding/json"
	"testing"

	"github.com/tocsin/tocsin/rules"
)

func TestConfiguration(t *testing.T) {
	t.Parallel()
	cfg := rules.Configuration()
	kinds := map[string]int{rules.KindCondition: 0, rules.KindFilter: 1, rules.KindAction: 2}
	seen := map[string]bool{}
	last := 0
	for _, nc := range cfg {
		k, ok := kinds[nc.Kind]
		if !ok || k < last {
			t.Errorf("%s: kind %q out of order (conditions, filters, actions)", nc.ID, nc.Kind)
		}
		last = k
		if seen[nc.ID] {
			t.Errorf("%s listed twice", nc.ID)
		}
		seen[nc.ID] = true
		if nc.Label == "" {
			t.Errorf("%s has no label", nc.ID)
		}
		for _, f := range nc.Fields {
			if f.Type == "choice" && len(f.Choices) == 0 {
				t.Errorf("%s.%s is a choice without choices", nc.ID, f.Name)
			}
		}
	}
	if len(cfg) != 22 {
		t.Errorf("%d node kinds, want 22 (8 conditions, 8 filters, 6 actions)", len(cfg))
	}
	// The returned configuration is a copy: changing it changes nothing.
	for i := range cfg {
		for j := range cfg[i].Fields {
			for k := range cfg[i].Fields[j].Choices {
				cfg[i].Fields[j].Choices[k][0] = "changed"
			}
		}
	}
	r := &rules.Rule{Name: "x", Conditions: []rules.Node{{ID: rules.EventFrequency,
		Fields: map[string]any{"value": json.Number("5"), "interval": "1h"}}}, Actions: []rules.Node{{ID: rules.LegacyNotify}}}
	if err := rules.Validate(r); err != nil {
		t.Errorf("changing the configuration changed validation: %v", err)
	}
}

func TestLabel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		node rules.Node
		want string
	}{
		{rules.Node{ID: rules.FirstSeen}, "A new issue is created"},
		{rules.Node{ID: rules.EventFrequency, Fields: map[string]any{"value": json.Number("100"), "interval": "1h"}},
			"The issue is seen more than 100 times in 1h"},
		{rules.Node{ID: rules.LevelFilter, Fields: map[string]any{"match": "gte", "level": "40"}},
			"The event's level is greater than or equal to error"},
		{rules.Node{ID: rules.TaggedEvent, Fields: map[string]any{"key": "url", "match": "sw", "value": "/checkout"}},
			"The event's tags match url starts with /checkout"},
		{rules.Node{ID: rules.EmailNotify, Fields: map[string]any{"targetType": "IssueOwners"}},
			"Send a notification to Suggested assignees"},
		{rules.Node{ID: rules.SlackNotify, Fields: map[string]any{"workspace": "3"}},
			"Send a Slack notification to 3 in …"},
		{rules.Node{ID: "sentry.rules.conditions.nope"}, "sentry.rules.conditions.nope"},
	} {
		if got := rules.Label(tc.node); got != tc.want {
			t.Errorf("Label(%s) = %q, want %q", tc.node.ID, got, tc.want)
		}
	}
}
