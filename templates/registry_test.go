package templates_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/github"
	"github.com/tocsin/tocsin/integrations/slack"
	"github.com/tocsin/tocsin/integrations/trello"
	"github.com/tocsin/tocsin/integrations/webhook"
	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// all are every service's templates, as the API serves them.
var all = slices.Concat(email.Templates, slack.Templates, github.Templates, trello.Templates, webhook.Templates)

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, got)
	}
}

// pretty indents JSON output for readable golden files.
func pretty(t *testing.T, name, out string) []byte {
	t.Helper()
	if !strings.HasSuffix(name, ".json") {
		return []byte(out)
	}
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%s: output is not JSON: %v\n%s", name, err, out)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// Every built-in template, rendered for each sample notification it
// serves, in every language: golden files under testdata/NAME.KIND.LANG.
func TestRegistry_builtins(t *testing.T) {
	t.Parallel()
	if len(all) != len(slices.Compact(slices.Sorted(slices.Values(all.Names())))) {
		t.Fatalf("duplicate template names: %v", all.Names())
	}
	for _, tmpl := range all {
		for _, lang := range locale.Languages {
			for _, n := range templates.Samples(tmpl.Name, lang) {
				name := tmpl.Name + "." + n.Kind + "." + lang
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					out, warning, err := tmpl.Render(n)
					if err != nil || warning != "" {
						t.Fatalf("Render: %v (warning %q)", err, warning)
					}
					if strings.TrimSpace(out) == "" {
						t.Fatal("empty output")
					}
					golden(t, name+".golden", pretty(t, tmpl.Name, out))
				})
			}
			if err := tmpl.Check(tmpl.Default()); err != nil {
				t.Errorf("the built-in %s does not pass Check: %v", tmpl.Name, err)
			}
		}
	}
}
