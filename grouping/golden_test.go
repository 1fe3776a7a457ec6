package grouping

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json")

// TestGroup_Golden pins the hash of every fixture: a change in the
// algorithm shows up here and needs a new Version (existing issues keep
// the hashes of the version they were grouped with).
func TestGroup_Golden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name == "golden" {
			continue
		}
		r := Group(load(t, name))
		r.Version = "" // stated once below
		got[name] = r
	}
	golden := struct {
		Version string            `json:"version"`
		Results map[string]Result `json:"results"`
	}{Version, got}
	data, err := json.MarshalIndent(golden, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	path := filepath.Join("testdata", "golden.json")
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./grouping/ -run Golden -update)", err)
	}
	if !bytes.Equal(want, data) {
		t.Errorf("grouping changed; if intended, bump Version and run go test ./grouping/ -run Golden -update\ngot:\n%s", data)
	}
}
