package event

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// ParseStoredForRules must give the rules every typed field ParseStored
// gives, on events of every platform and on members built to trip a
// scanner (quotes, backslashes and brackets inside skipped strings).
func TestParseStoredForRulesAgreesWithParseStored(t *testing.T) {
	payloads := map[string][]byte{
		"tricky": []byte(`{"event_id": "0123456789abcdef0123456789abcdef", "platform": "python", "level": "warning",
			"message": "it broke", "environment": "production", "release": "app@1.2",
			"tags": {"vars": "kept", "region": "eu-west-1"},
			"breadcrumbs": {"values": [{"message": "a \"quoted\" } ] { [ \\\\ string", "data": {"x": [1, {"y": "\\""}]}}]},
			"extra": {"s": "\\", "n": -1.5e3, "t": true, "z": null, "a": [[], {}]},
			"modules": {"django": "4.2"}, "debug_meta": {"images": []}, "spans": [],
			"user": {"id": "42", "email": "ada@example.com"},
			"request": {"url": "https://example.com/api/orders?id=1", "method": "POST", "data": {"vars": "kept"}},
			"contexts": {"vars": {"vars": "kept"}},
			"exception": {"values": [{"type": "KeyError", "value": "'id'", "mechanism": {"type": "generic", "handled": true},
				"stacktrace": {"frames": [{"filename": "app/orders.py", "module": "app.orders", "function": "get",
					"lineno": 7, "in_app": true, "context_line": "    return d['id']",
					"pre_context": ["\"", "]", "}"], "post_context": ["\\"], "vars": {"d": "{'a': \"}\"}"}}]}}]},
			"threads": {"values": [{"id": 1, "stacktrace": {"frames": [{"filename": "t.py", "vars": {"q": "]"}}]}}]}}`),
	}
	files, _ := filepath.Glob("../grouping/testdata/*.json")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		payloads[filepath.Base(f)] = data
	}
	if len(payloads) < 10 {
		t.Fatalf("only %d payloads: the grouping fixtures are missing", len(payloads))
	}
	received := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	for name, data := range payloads {
		t.Run(name, func(t *testing.T) {
			ev, err := Parse(data, ParseOptions{Received: received})
			if err != nil {
				t.Skipf("not an event: %v", err)
			}
			stored, err := MarshalData(ev.Data)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ParseStored(stored)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseStoredForRules(stored)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.IndexTags(), want.IndexTags()) || got.Title() != want.Title() {
				t.Errorf("tags or title differ:\n got %v %q\nwant %v %q", got.IndexTags(), got.Title(), want.IndexTags(), want.Title())
			}
			for _, k := range []string{"breadcrumbs", "extra", "modules", "debug_meta", "spans"} {
				if _, ok := got.Data[k]; ok {
					t.Errorf("Data still has %s", k)
				}
			}
			got.Data, want.Data = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("typed fields differ:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseStoredForRulesRefusesBrokenJSON(t *testing.T) {
	for _, data := range []string{``, `[]`, `{"extra": {"a": "b}`, `{"extra": [1, 2`, `{"a": 1`} {
		if _, err := ParseStoredForRules([]byte(data)); err == nil {
			t.Errorf("%q: no error", data)
		}
	}
}

func BenchmarkParseStored(b *testing.B) {
	files, _ := filepath.Glob("../grouping/testdata/*.json")
	if len(files) == 0 {
		b.Skip("no fixtures")
	}
	var stored [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		ev, err := Parse(data, ParseOptions{Received: time.Now()})
		if err != nil {
			continue
		}
		s, err := MarshalData(ev.Data)
		if err != nil {
			b.Fatal(err)
		}
		stored = append(stored, s)
	}
	for _, bc := range []struct {
		name  string
		parse func([]byte) (*Event, error)
	}{{"all", ParseStored}, {"rules", ParseStoredForRules}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := bc.parse(stored[i%len(stored)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
