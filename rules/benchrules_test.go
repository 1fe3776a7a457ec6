package rules_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/tocsin/tocsin/rules"
)

var update = flag.Bool("update", false, "rewrite testdata/bench-rules.json")

// benchRulesFile holds benchRules as the rules API takes them (one JSON
// object a line), so that the benchmark against `tocsin run` in
// docs/performance.md posts the same 100 rules as BenchmarkIngestRules.
const benchRulesFile = "testdata/bench-rules.jsonl"

func TestBenchRulesFile(t *testing.T) {
	var b bytes.Buffer
	for _, r := range benchRules() {
		js := map[string]any{"name": r.Name, "actionMatch": r.ActionMatch, "filterMatch": "all", "frequency": 30,
			"conditions": r.Conditions, "filters": r.Filters,
			"actions": []rules.Node{{ID: rules.LegacyNotify}}}
		if r.Environment != "" {
			js["environment"] = r.Environment
		}
		line, err := json.Marshal(js)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if *update {
		if err := os.WriteFile(benchRulesFile, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(benchRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatalf("%s is not benchRules; run go test ./rules -run TestBenchRulesFile -update", benchRulesFile)
	}
}
