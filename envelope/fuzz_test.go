package envelope

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tocsin/tocsin/event"
)

// FuzzParse checks Parse's invariants on any input: it never panics, refuses
// only with a 400 or 413 *Error, keeps to its limits, and what it accepts
// survives Write and Parse again unchanged. The recorded SDK requests are
// seeds in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"{}",
		"{}\n{\"type\":\"event\",\"length\":2}\n{}\n{\"type\":\"attachment\"}\nabc",
		"{\"event_id\":\"9ec79c33-ec99-42ab-8353-589fcb2e04dc\",\"sdk\":{\"name\":\"x\",\"packages\":[{\"name\":1}]}}\n\n{\"type\":\"session\"}\n\n",
		"{}\r\n{\"type\":\"client_report\",\"length\":0}\r\n\n{\"type\":\"check_in\",\"content_type\":null}",
	} {
		f.Add([]byte(s))
	}
	// Small limits so that the fuzzer reaches the 413 paths.
	lim := Limits{
		MaxEnvelopeBytes: 64 << 10,
		MaxItemBytes:     map[string]int{"event": 1 << 10, "session": 16, "attachment": 32 << 10},
		MaxItems:         8,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(bytes.NewReader(data), lim)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 413) || e.Reason == "" {
				t.Fatalf("err = %#v, want a 400 or 413 *Error", err)
			}
			return
		}
		if len(env.Items) > lim.MaxItems {
			t.Fatalf("%d items past the limit of %d", len(env.Items), lim.MaxItems)
		}
		for i, it := range env.Items {
			if len(it.Payload) > lim.itemLimit(it.Type) {
				t.Fatalf("item %d (%s) of %d bytes past its limit", i, it.Type, len(it.Payload))
			}
			if it.Length != -1 && it.Length != len(it.Payload) {
				t.Fatalf("item %d declares %d bytes, has %d", i, it.Length, len(it.Payload))
			}
			if it.Payload == nil {
				t.Fatalf("item %d has a nil payload", i)
			}
		}
		if env.Header.EventID != "" {
			if id := event.NormalizeID(env.Header.EventID); id == "" || id != env.Header.EventID {
				t.Fatalf("EventID %q is not normalized", env.Header.EventID)
			}
		}
		var buf bytes.Buffer
		if err := env.Write(&buf); err != nil {
			t.Fatalf("Write: %v", err)
		}
		written := buf.String()
		// Written lengths and header fields may make the envelope larger.
		again, err := Parse(bytes.NewReader(buf.Bytes()), Limits{MaxItemBytes: lim.MaxItemBytes, MaxItems: lim.MaxItems})
		if err != nil {
			t.Fatalf("Parse(Write()): %v\n%q", err, written)
		}
		if err := sameContent(env, again); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		buf.Reset()
		if err := again.Write(&buf); err != nil {
			t.Fatalf("second Write: %v", err)
		}
		if buf.String() != written {
			t.Fatalf("Write is not stable:\n%q\nthen\n%q", written, buf.String())
		}
	})
}
