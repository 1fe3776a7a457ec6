package templates

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	texttemplate "text/template"
	"time"
)

func TestJSONString(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"plain", `"}, {"type": "x`, "a\\b\n\t\u2028<>&", "[1, 2]: {}", "\x00\x7f", "bad \xff utf-8", "中文"} {
		got := JSONString(in)
		var back string
		if err := json.Unmarshal([]byte(`"`+got+`"`), &back); err != nil {
			t.Errorf("JSONString(%q) = %q is not the inside of a JSON string: %v", in, got, err)
			continue
		}
		if want := strings.ToValidUTF8(in, "\uFFFD"); back != want {
			t.Errorf("JSONString(%q) reads back as %q", in, back)
		}
		// Printed outside quotes, it cannot be JSON structure.
		if strings.ContainsAny(got, `{}[],:"`) && json.Valid([]byte(`{"a": `+got+`}`)) {
			t.Errorf("JSONString(%q) = %q makes JSON outside a string", in, got)
		}
	}
}

func TestCanonical(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want, err string }{
		{in: ` { "b" : [1, 2.50, true, null], "a": "\u007b<&>" } `, want: `{"b":[1,2.50,true,null],"a":"{\u003c\u0026\u003e"}`},
		{in: `{"a": 1, "a": 2}`, err: "duplicate"},
		{in: `{} {}`, err: "more than one"},
		{in: `{"a": }`, err: "invalid"},
		{in: `{"a": 1`, err: "end of JSON"},
		{in: strings.Repeat("[", 40) + strings.Repeat("]", 40), err: "deep"},
	} {
		got, err := Canonical([]byte(tc.in))
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Canonical(%q): %v, want an error with %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || string(got) != tc.want):
			t.Errorf("Canonical(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestEscapeStrings(t *testing.T) {
	t.Parallel()
	type inner struct {
		S    string
		P    *string
		Safe Safe
	}
	type outer struct {
		A    string
		N    int
		T    time.Time
		In   inner
		Ptr  *inner
		List [][2]string
		M    map[string]any
		Nil  *inner
		priv string
	}
	p := "p"
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("X", 3600))
	in := outer{A: "a", N: 3, T: at, In: inner{S: "s", P: &p, Safe: "<b>"}, Ptr: &inner{S: "t"},
		List: [][2]string{{"k", "v"}}, M: map[string]any{"k": "v", "n": 1}, priv: "raw"}
	got := EscapeStrings(in, strings.ToUpper)
	if got.A != "A" || got.N != 3 || !got.T.Equal(at) || got.T.Location() != at.Location() || got.In.S != "S" || *got.In.P != "P" ||
		got.In.Safe != "<b>" || got.Ptr.S != "T" || got.List[0] != [2]string{"K", "V"} || got.M["K"] != "V" || got.M["N"] != 1 ||
		got.Nil != nil {
		t.Errorf("EscapeStrings = %+v", got)
	}
	if in.A != "a" || *in.In.P != "p" || in.Ptr.S != "t" || in.List[0][0] != "k" {
		t.Errorf("EscapeStrings changed its argument: %+v", in)
	}
}

func TestWithColumn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, want string }{
		{"ok\n  {{ oops }}", "n.txt:2:6: "},
		{"ok\n{{if .Event}}unclosed", "n.txt:2:22: "},
		{"x\n{{end}}", "n.txt:2:1: "},
		{"x {{.A}\n", "n.txt:1:7: "},
		// The quote in the action, not the JSON's first.
		{`{"text": "{{.Issue.Title"}`, "n.txt:1:25: "},
	} {
		_, err := texttemplate.New("n.txt").Parse(tc.body)
		if err == nil {
			t.Fatalf("%q parses", tc.body)
		}
		if got := withColumn(err, tc.body); !strings.Contains(got.Error(), tc.want) {
			t.Errorf("withColumn(%v) = %v, want %q", err, got, tc.want)
		}
	}
	other := errors.New("template: n.txt:1:2: executing")
	if withColumn(other, "x") != other {
		t.Error("an error with a column already is changed")
	}
}
