package envelope

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// eventEnvelope returns an envelope with one event of about size bytes, the
// shape most ingest traffic has.
func eventEnvelope(size int) []byte {
	frame := `{"filename":"app/handlers/user.py","function":"load_user","lineno":42,"in_app":true},`
	var ev strings.Builder
	ev.WriteString(`{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","level":"error","exception":{"values":[{"type":"KeyError","stacktrace":{"frames":[`)
	for ev.Len() < size-len(frame) {
		ev.WriteString(frame)
	}
	ev.WriteString(`{}]}}]}}`)
	return fmt.Appendf(nil, "%s\n%s\n%s\n",
		`{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","sent_at":"2026-11-26T20:04:06.437Z","sdk":{"name":"sentry.python","version":"2.1.0"}}`,
		fmt.Sprintf(`{"type":"event","length":%d}`, ev.Len()), ev.String())
}

func BenchmarkParse_Event10KB(b *testing.B) {
	in := eventEnvelope(10 << 10)
	lim := DefaultLimits()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(in), lim); err != nil {
			b.Fatal(err)
		}
	}
}
