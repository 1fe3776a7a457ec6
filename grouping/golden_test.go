package grouping

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/event"
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
	type pinned struct {
		Hash   string `json:"hash"`
		Method string `json:"method"`
	}
	got := map[string]pinned{}
	add := func(name string, ev *event.Event) {
		r := Group(ev)
		got[name] = pinned{r.Hash, r.Method}
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name != "golden" {
			add(name, load(t, name))
		}
	}
	add("python+fingerprint", fixture("python", setFingerprint("{{ default }}", "{{ transaction }}", "tenant-a"))(t))
	add("python+exception-only", fixture("python", lastException(dropStack))(t))
	add("empty-python", &event.Event{Platform: "python"})
	golden := struct {
		Version string            `json:"version"`
		Results map[string]pinned `json:"results"`
	}{Version, got}
	data, err := json.MarshalIndent(golden, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	path := filepath.Join("testdata", "golden.json")
	want, err := os.ReadFile(path)
	if *update {
		// Issues store the Version they were grouped with: a hash may only
		// change together with it. New fixtures may be added any time.
		var old struct {
			Version string            `json:"version"`
			Results map[string]pinned `json:"results"`
		}
		if err == nil && json.Unmarshal(want, &old) == nil && old.Version == Version {
			for name, r := range old.Results {
				if n, ok := got[name]; ok && n != r {
					t.Fatalf("%s: grouping changed under the same Version %q; bump Version first", name, Version)
				}
			}
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%v (run go test ./grouping/ -run Golden -update)", err)
	}
	if !bytes.Equal(want, data) {
		t.Errorf("grouping changed; if intended, bump Version and run go test ./grouping/ -run Golden -update\ngot:\n%s", data)
	}
}
