package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sameContent reports how b differs from a in what Parse reads and Write
// writes: the typed header fields and each item's typed headers and payload.
func sameContent(a, b *Envelope) error {
	ha, hb := a.Header, b.Header
	if ha.EventID != hb.EventID || ha.DSN != hb.DSN || !ha.SentAt.Equal(hb.SentAt) || !reflect.DeepEqual(ha.SDK, hb.SDK) {
		return fmt.Errorf("header %+v became %+v", ha, hb)
	}
	if len(a.Items) != len(b.Items) {
		return fmt.Errorf("%d items became %d", len(a.Items), len(b.Items))
	}
	for i := range a.Items {
		x, y := a.Items[i], b.Items[i]
		if x.Type != y.Type || x.ContentType != y.ContentType || x.Filename != y.Filename ||
			x.AttachmentType != y.AttachmentType || !bytes.Equal(x.Payload, y.Payload) {
			return fmt.Errorf("item %d %s %q became %s %q", i, x.Type, x.Payload, y.Type, y.Payload)
		}
	}
	return nil
}

func TestEnvelope_WriteRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  *Envelope
	}{
		{"zero", &Envelope{}},
		{"typed fields only", &Envelope{
			Header: Header{
				EventID: "9ec79c33ec9942ab8353589fcb2e04dc",
				DSN:     "http://0123456789abcdef0123456789abcdef@127.0.0.1:9000/42",
				SentAt:  time.Date(2026, 11, 26, 20, 4, 6, 437e6, time.UTC),
				SDK:     &SDKInfo{Name: "tocsin.loadgen", Version: "1.0", Integrations: []string{"a"}, Packages: []Package{{Name: "go:tocsin", Version: "1"}}},
			},
			Items: []Item{
				{Type: "event", Payload: []byte(`{"message":"hi"}`)},
				{Type: "attachment", Filename: "core.bin", ContentType: "application/octet-stream", AttachmentType: "event.minidump",
					Payload: []byte("\n\n\x00\xff{\"type\":\"event\"}\n")},
				{Type: "session", Payload: []byte{}},
				{Type: "made_up", Headers: map[string]any{"item_count": 3}, Payload: []byte("x")},
			},
		}},
	}
	for _, name := range []string{"node-sdk-11.12.0-envelope-exception", "node-sdk-11.12.0-envelope-session", "sentry-cli-2.58.6-send-event"} {
		env, err := Parse(bytes.NewReader(readCapture(t, name)), DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name string
			env  *Envelope
		}{name, env})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := tt.env.Write(&buf); err != nil {
				t.Fatal(err)
			}
			written := buf.String()
			got, err := Parse(strings.NewReader(written), DefaultLimits())
			if err != nil {
				t.Fatalf("Parse(Write()): %v\n%s", err, written)
			}
			if err := sameContent(tt.env, got); err != nil {
				t.Error(err)
			}
			for i, it := range got.Items {
				if it.Length != len(it.Payload) {
					t.Errorf("item %d written with length %d for %d bytes", i, it.Length, len(it.Payload))
				}
			}
			buf.Reset()
			if err := got.Write(&buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() != written {
				t.Errorf("Write is not stable:\n%s\nthen\n%s", written, buf.String())
			}
		})
	}
}

func TestEnvelope_WriteFormat(t *testing.T) {
	t.Parallel()
	env := &Envelope{
		Header: Header{EventID: "9ec79c33ec9942ab8353589fcb2e04dc", Raw: map[string]any{"event_id": "old", "trace": map[string]any{"x": "<&>"}}},
		Items: []Item{
			{Type: "event", Length: 99, Headers: map[string]any{"length": 5, "type": "old"}, Payload: []byte("{}")},
			{Type: "attachment", Filename: "a.txt", Payload: []byte("a\nb")},
		},
	}
	var buf bytes.Buffer
	if err := env.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","trace":{"x":"<&>"}}` + "\n" +
		`{"length":2,"type":"event"}` + "\n{}\n" +
		`{"filename":"a.txt","length":3,"type":"attachment"}` + "\na\nb\n"
	if buf.String() != want {
		t.Errorf("Write =\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestEnvelope_WriteError(t *testing.T) {
	t.Parallel()
	env := &Envelope{Header: Header{Raw: map[string]any{"bad": func() {}}}}
	var buf bytes.Buffer
	err := env.Write(&buf)
	var je *json.UnsupportedTypeError
	if err == nil || !strings.Contains(err.Error(), "write header") || !errors.As(err, &je) {
		t.Errorf("err = %v, want a wrapped json.UnsupportedTypeError", err)
	}
}
