package event

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var received = time.Date(2026, 11, 26, 20, 5, 0, 0, time.UTC)

func parse(t *testing.T, payload string) *Event {
	t.Helper()
	ev, err := Parse([]byte(payload), ParseOptions{Received: received, ClientIP: "203.0.113.9"})
	if err != nil {
		t.Fatalf("Parse(%s): %v", payload, err)
	}
	return ev
}

// capture returns the event payload of a recorded client request: the
// (gunzipped) body of a store request, or the event item of an envelope.
func capture(t *testing.T, name string) []byte {
	t.Helper()
	dir := "../testdata/sdk-captures/"
	body, err := os.ReadFile(filepath.Join(dir, name+".body"))
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, name+".http.json"))
	if bytes.Contains(meta, []byte(`"gzip"`)) {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(name, "envelope") {
		lines := bytes.Split(body, []byte("\n"))
		for i, l := range lines {
			if bytes.Contains(l, []byte(`"type":"event"`)) && i+1 < len(lines) {
				return lines[i+1]
			}
		}
		t.Fatalf("%s has no event item", name)
	}
	return body
}

func TestParse_RealClients(t *testing.T) {
	t.Parallel()
	tests := []struct {
		capture, id, title, culprit, level, platform, release string
	}{
		{"python-sentry-sdk-1.9.10-store-exception", "403227d8508d45d69fd40cd7c56eb57b", "KeyError: 'missing'", "__main__ in handler", "error", "python", "app@1.2.3"},
		{"python-sentry-sdk-1.9.10-store-message", "ece45d8acba74866af985db66699f3d0", "payment service answered 503 for order 123", "", "info", "python", "app@1.2.3"},
		{"node-sdk-11.12.0-envelope-exception", "564e4fe25cd848e3ae64c0c30b28dc68", "SyntaxError: Expected property name or '}' in JSON at position 1", "n in loadUser", "error", "node", "web@2.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.capture, func(t *testing.T) {
			t.Parallel()
			ev, err := Parse(capture(t, tt.capture), ParseOptions{Received: received})
			if err != nil {
				t.Fatal(err)
			}
			if ev.ID != tt.id || ev.Title() != tt.title || ev.DerivedCulprit() != tt.culprit ||
				ev.Level != tt.level || ev.Platform != tt.platform || ev.Release != tt.release {
				t.Errorf("got id=%s title=%q culprit=%q level=%s platform=%s release=%s",
					ev.ID, ev.Title(), ev.DerivedCulprit(), ev.Level, ev.Platform, ev.Release)
			}
			if tt.platform == "python" && (ev.User == nil || ev.User.Identity() != "id:u1") {
				t.Errorf("user = %+v", ev.User)
			}
		})
	}
}

func TestParse_Normalization(t *testing.T) {
	t.Parallel()
	ev := parse(t, `{
		"event_id": "AB12CD34-ab12-cd34-ab12-cd34ab12cd34",
		"timestamp": 1795723439.5,
		"level": "warn", "platform": "Python",
		"message": {"message": "user %s failed %d times", "params": ["bob", 3]},
		"tags": {"browser": "Firefox", "bad key!": "x", "multi": "a\nb", "num": 5},
		"user": {"id": 42, "ip_address": "{{auto}}"},
		"environment": "prod/eu",
		"sentry.interfaces.Http": {"url": "https://shop.test/cart?x=1", "method": "POST"}
	}`)
	if ev.ID != "ab12cd34ab12cd34ab12cd34ab12cd34" || ev.Level != "warning" || ev.Platform != "python" {
		t.Errorf("id %s level %s platform %s", ev.ID, ev.Level, ev.Platform)
	}
	if want := time.Unix(1795723439, 500_000_000).UTC(); !ev.Timestamp.Equal(want) {
		t.Errorf("timestamp %v, want %v", ev.Timestamp, want)
	}
	if ev.Message != "user bob failed 3 times" || ev.MessageTemplate != "user %s failed %d times" || ev.Type != "default" {
		t.Errorf("message %q template %q type %s", ev.Message, ev.MessageTemplate, ev.Type)
	}
	if got := ev.Tags; len(got) != 2 || got[0] != (Tag{"browser", "Firefox"}) || got[1] != (Tag{"num", "5"}) {
		t.Errorf("tags %v", got)
	}
	if ev.User.ID != "42" || ev.User.IPAddress != "203.0.113.9" {
		t.Errorf("user %+v", ev.User)
	}
	if ev.Environment != "" {
		t.Errorf("environment with a slash kept: %q", ev.Environment)
	}
	if ev.Request == nil || ev.Request.Method != "POST" || ev.DerivedCulprit() != "https://shop.test/cart" {
		t.Errorf("request %+v culprit %q", ev.Request, ev.DerivedCulprit())
	}
}

func TestParse_Timestamps(t *testing.T) {
	t.Parallel()
	for payload, want := range map[string]time.Time{
		`{"timestamp": "2026-11-26T20:03:57.295348Z"}`: time.Date(2026, 11, 26, 20, 3, 57, 295348000, time.UTC),
		`{"timestamp": "2026-11-26T20:03:57"}`:         time.Date(2026, 11, 26, 20, 3, 57, 0, time.UTC),
		`{"timestamp": "1795723439"}`:                  time.Unix(1795723439, 0).UTC(),
		`{"timestamp": "yesterday"}`:                   received,
		`{}`:                                           received,
		`{"timestamp": 4102444800}`:                    received, // 2100: clock skew
	} {
		if got := parse(t, payload).Timestamp; !got.Equal(want) {
			t.Errorf("%s: timestamp %v, want %v", payload, got, want)
		}
	}
}

func TestParse_Rejects(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	for name, payload := range map[string]string{
		"empty":        "",
		"not json":     "{nope",
		"array":        `[1,2]`,
		"trailing":     `{} {}`,
		"invalid utf8": "{\"message\": \"\xff\xfe\"}",
		"deep":         `{"extra": ` + deep + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(payload), ParseOptions{Received: received})
			var e *Error
			if err == nil || !asError(err, &e) || e.Reason == "" {
				t.Errorf("Parse(%.40q) = %v, want an *Error with a reason", payload, err)
			}
		})
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

func TestParse_Scrubbing(t *testing.T) {
	t.Parallel()
	ev := parse(t, `{
		"message": "charge 4111 1111 1111 1111 via https://admin:hunter2@db.internal/x with Bearer abcdefghijklmnop",
		"extra": {"password": "hunter2", "nested": {"api_key": "k-123", "ok": "keep me"}, "order": "1234567890123"},
		"request": {
			"url": "https://shop.test/login?token=t0ps3cret",
			"query_string": "next=/home&access_token=abc123",
			"headers": [["Authorization", "Bearer sk_live_xyz"], ["User-Agent", "curl"]],
			"cookies": "sessionid=s3ss10n",
			"data": {"username": "bob", "passwd": "hunter2"}
		},
		"breadcrumbs": [{"message": "login with password", "data": {"secret": "x"}}],
		"exception": {"values": [{"type": "ValueError", "value": "bad card 5500-0000-0000-0004",
			"stacktrace": {"frames": [{"function": "f", "vars": {"token": "abc", "n": 1}}]}}]}
	}`)
	out, _ := json.Marshal(ev.Data)
	s := string(out)
	for _, secret := range []string{"4111 1111 1111 1111", "hunter2", "k-123", "t0ps3cret", "abc123", "sk_live_xyz",
		"s3ss10n", "abcdefghijklmnop", "5500-0000-0000-0004", `"abc"`} {
		if strings.Contains(s, secret) {
			t.Errorf("secret %q survived scrubbing", secret)
		}
	}
	for _, kept := range []string{"keep me", "1234567890123", "curl", "bob", "login with password", "ValueError"} {
		if !strings.Contains(s, kept) {
			t.Errorf("%q was scrubbed but is no secret", kept)
		}
	}
}

func TestParse_Trimming(t *testing.T) {
	t.Parallel()
	var frames, crumbs []string
	for i := range 400 {
		frames = append(frames, `{"function": "f`+itoa(i)+`"}`)
		crumbs = append(crumbs, `{"message": "c`+itoa(i)+`"}`)
	}
	ev := parse(t, `{"exception": {"values": [{"type": "E", "value": "`+strings.Repeat("v", 20000)+`",
		"stacktrace": {"frames": [`+strings.Join(frames, ",")+`]}}]},
		"breadcrumbs": {"values": [`+strings.Join(crumbs, ",")+`]},
		"extra": {"big": "`+strings.Repeat("x", 100000)+`"}}`)
	fr := ev.Exceptions[0].Stacktrace.Frames
	if len(fr) != maxFrames || fr[0].Function != "f0" || fr[len(fr)-1].Function != "f399" {
		t.Errorf("frames: %d, first %s, last %s", len(fr), fr[0].Function, fr[len(fr)-1].Function)
	}
	if n := len(list(obj(ev.Data["breadcrumbs"])["values"])); n != maxBreadcrumbs {
		t.Errorf("%d breadcrumbs kept", n)
	}
	if n := len([]rune(ev.Exceptions[0].Value)); n != maxExcValue {
		t.Errorf("exception value of %d runes", n)
	}
	if n := len(obj(ev.Data["extra"])["big"].(string)); n > maxBagString {
		t.Errorf("extra string of %d bytes", n)
	}
}

func TestEvent_TitleAndCulprit(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, payload, title, culprit string }{
		{"chained: outermost names it", `{"exception": {"values": [
			{"type": "KeyError", "value": "'a'"},
			{"type": "RuntimeError", "value": "lookup failed\nmore", "stacktrace": {"frames": [
				{"module": "app.views", "function": "index", "in_app": true},
				{"module": "django.core", "function": "handle", "in_app": false}]}}]}}`,
			"RuntimeError: lookup failed", "app.views in index"},
		{"transaction wins", `{"transaction": "/api/orders", "exception": {"values": [{"type": "E"}]}}`, "E", "/api/orders"},
		{"js file", `{"platform": "javascript", "exception": {"values": [{"type": "TypeError", "value": "x is undefined",
			"stacktrace": {"frames": [{"filename": "app.js", "function": "render"}]}}]}}`, "TypeError: x is undefined", "app.js in render"},
		{"no message", `{}`, "<unlabeled event>", ""},
		{"client culprit", `{"culprit": "mine", "message": "m"}`, "m", "mine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := parse(t, tt.payload)
			if ev.Title() != tt.title || ev.DerivedCulprit() != tt.culprit {
				t.Errorf("title %q culprit %q; want %q, %q", ev.Title(), ev.DerivedCulprit(), tt.title, tt.culprit)
			}
		})
	}
}

func TestEvent_IndexTags(t *testing.T) {
	t.Parallel()
	ev := parse(t, `{"level": "fatal", "environment": "prod", "release": "r1", "user": {"email": "a@b.c"},
		"tags": {"level": "spoofed", "shard": "7"},
		"exception": {"values": [{"type": "E", "mechanism": {"type": "generic", "handled": false}}]}}`)
	got := map[string]string{}
	for _, tg := range ev.IndexTags() {
		got[tg.Key] = tg.Value
	}
	want := map[string]string{"level": "fatal", "environment": "prod", "release": "r1", "user": "email:a@b.c",
		"handled": "no", "mechanism": "generic", "shard": "7"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("tag %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestParseStoredReadsWhatParseStored(t *testing.T) {
	data, err := os.ReadFile("../grouping/testdata/python.json")
	if err != nil {
		t.Skip("no python fixture")
	}
	ev, err := Parse(data, ParseOptions{Received: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := MarshalData(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseStored(stored)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, ev) {
		t.Errorf("ParseStored of the stored JSON differs from Parse:\n got %+v\nwant %+v", again, ev)
	}
	if _, err := ParseStored([]byte(`[1]`)); err == nil {
		t.Error("ParseStored of a list: no error")
	}
}
