package envelope

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

// capturesDir holds requests recorded from real SDKs (see its README.md).
const capturesDir = "../testdata/sdk-captures"

func readCapture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(capturesDir, name+".body"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func types(env *Envelope) []string {
	var ts []string
	for _, it := range env.Items {
		ts = append(ts, it.Type)
	}
	return ts
}

func TestParse_Captures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		eventID string
		sdk     string
		types   []string
		lengths []int
	}{
		{"node-sdk-11.12.0-envelope-exception", "564e4fe25cd848e3ae64c0c30b28dc68", "sentry.javascript.node", []string{"event"}, []int{-1}},
		{"node-sdk-11.12.0-envelope-message", "dbc042f358944622b91b04653d74bf2e", "sentry.javascript.node", []string{"event"}, []int{-1}},
		{"node-sdk-11.12.0-envelope-session", "", "sentry.javascript.node", []string{"session"}, []int{-1}},
		// sentry-cli writes the id with dashes and declares lengths.
		{"sentry-cli-2.58.6-send-event", "75463db85e524ffab02534dd8aad0438", "", []string{"event"}, []int{2161}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := Parse(bytes.NewReader(readCapture(t, tt.name)), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if env.Header.EventID != tt.eventID {
				t.Errorf("EventID = %q, want %q", env.Header.EventID, tt.eventID)
			}
			if got := strings.Join(types(env), ","); got != strings.Join(tt.types, ",") {
				t.Errorf("types = %s, want %v", got, tt.types)
			}
			if tt.sdk != "" && (env.Header.SDK == nil || env.Header.SDK.Name != tt.sdk) {
				t.Errorf("SDK = %+v, want name %s", env.Header.SDK, tt.sdk)
			}
			for i, it := range env.Items {
				if it.Length != tt.lengths[i] {
					t.Errorf("item %d Length = %d, want %d", i, it.Length, tt.lengths[i])
				}
				if len(it.Payload) == 0 || it.Payload[0] != '{' || it.Payload[len(it.Payload)-1] != '}' {
					t.Errorf("item %d payload is not the JSON object: %.40q…", i, it.Payload)
				}
			}
		})
	}
}

func TestParse_Framing(t *testing.T) {
	t.Parallel()
	const id = "9ec79c33ec9942ab8353589fcb2e04dc"
	type item struct{ typ, payload string }
	tests := []struct {
		name    string
		in      string
		eventID string
		items   []item
	}{
		{"empty header only", "{}", "", nil},
		{"empty header and newline", "{}\n", "", nil},
		{"hyphenated uppercase event id", `{"event_id":"9EC79C33-EC99-42AB-8353-589FCB2E04DC"}` + "\n", id, nil},
		{"braced event id", `{"event_id":"{9ec79c33-ec99-42ab-8353-589fcb2e04dc}"}`, id, nil},
		{"null event id", `{"event_id":null}`, "", nil},
		{"item with length", "{}\n" + `{"type":"event","length":7}` + "\n{\"a\":1}\n", "", []item{{"event", `{"a":1}`}}},
		{"item without length", "{}\n" + `{"type":"event"}` + "\n{\"a\":1}\n", "", []item{{"event", `{"a":1}`}}},
		{"last item without newline", "{}\n" + `{"type":"event"}` + "\n{\"a\":1}", "", []item{{"event", `{"a":1}`}}},
		{"last item with length without newline", "{}\n" + `{"type":"event","length":7}` + "\n{\"a\":1}", "", []item{{"event", `{"a":1}`}}},
		{"header at end of input", "{}\n" + `{"type":"attachment"}`, "", []item{{"attachment", ""}}},
		{"zero length at end of input", "{}\n" + `{"type":"attachment","length":0}`, "", []item{{"attachment", ""}}},
		// Relay's test_deserialize_envelope_empty_item_newline: the empty line
		// is the newline that ends an empty payload.
		{"zero lengths", "{}\n" + `{"type":"attachment","length":0}` + "\n\n" + `{"type":"attachment","length":0}` + "\n", "",
			[]item{{"attachment", ""}, {"attachment", ""}}},
		{"empty line is an empty payload without length", "{}\n" + `{"type":"event"}` + "\n\n" + `{"type":"session"}` + "\nx\n", "",
			[]item{{"event", ""}, {"session", "x"}}},
		{"blank lines between items", "{}\n\n\n" + `{"type":"event","length":1}` + "\nx\n\n  \n" + `{"type":"session"}` + "\ny\n", "",
			[]item{{"event", "x"}, {"session", "y"}}},
		{"indented header", "{}\n  \t{\"type\":\"event\"}\nx", "", []item{{"event", "x"}}},
		{"a megabyte of blank lines", "{}\n" + strings.Repeat("\n \r\n", 1<<18) + `{"type":"event"}` + "\nx" + strings.Repeat("\n", 1<<20), "", []item{{"event", "x"}}},
		{"trailing blank lines", "{}\n" + `{"type":"event"}` + "\nx\n\n\n", "", []item{{"event", "x"}}},
		{"leading blank lines", "\n\n{}\n" + `{"type":"event"}` + "\nx", "", []item{{"event", "x"}}},
		{"CRLF header lines", "{}\r\n" + `{"type":"event","length":1}` + "\r\nx\n", "", []item{{"event", "x"}}},
		{"binary attachment with newlines", "{}\n" + `{"type":"attachment","length":10,"filename":"a.bin"}` + "\n\x00\n\xff\n\r\n{}\n\n\n" + `{"type":"event"}` + "\n{}", "",
			[]item{{"attachment", "\x00\n\xff\n\r\n{}\n\n"}, {"event", "{}"}}},
		// Relay's test_deserialize_envelope_multiple_items.
		{"relay multiple items", `{"event_id":"` + id + `","dsn":"https://e12d836b15bb49d7bbf99e64295d995b:@sentry.io/42"}` + "\n" +
			`{"type":"attachment","length":10,"content_type":"text/plain","filename":"hello.txt"}` + "\n\xef\xbb\xbfHello\r\n\n" +
			`{"type":"event","length":41,"content_type":"application/json","filename":"application.log"}` + "\n" +
			`{"message":"hello world","level":"error"}` + "\n", id,
			[]item{{"attachment", "\xef\xbb\xbfHello\r\n"}, {"event", `{"message":"hello world","level":"error"}`}}},
		{"unknown item type is kept", "{}\n" + `{"type":"invalid_unknown"}` + "\nhelloworld\n", "", []item{{"invalid_unknown", "helloworld"}}},
		{"unknown headers are kept", "{\"x\":{\"y\":[1,2]}}\n" + `{"type":"event","z":1.5}` + "\n{}", "", []item{{"event", "{}"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := Parse(strings.NewReader(tt.in), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if env.Header.EventID != tt.eventID {
				t.Errorf("EventID = %q, want %q", env.Header.EventID, tt.eventID)
			}
			if len(env.Items) != len(tt.items) {
				t.Fatalf("got %d items (%v), want %d", len(env.Items), types(env), len(tt.items))
			}
			for i, want := range tt.items {
				got := env.Items[i]
				if got.Type != want.typ || string(got.Payload) != want.payload {
					t.Errorf("item %d = %s %q, want %s %q", i, got.Type, got.Payload, want.typ, want.payload)
				}
				if got.Payload == nil {
					t.Errorf("item %d has a nil payload", i)
				}
			}
		})
	}
}

func TestParse_ItemHeaders(t *testing.T) {
	t.Parallel()
	in := `{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://k@o.example/42","sent_at":"2026-11-26T20:04:06.437Z",` +
		`"sdk":{"name":"sentry.python","version":"2.1.0","integrations":["flask",3],"packages":[{"name":"pypi:sentry-sdk","version":"2.1.0"}]}}` + "\n" +
		`{"type":"attachment","length":2,"content_type":"text/plain","filename":"log.txt","attachment_type":"event.attachment","item_count":1}` + "\nhi\n"
	env, err := Parse(strings.NewReader(in), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	h := env.Header
	if h.DSN != "https://k@o.example/42" || h.SentAt.UnixMilli() != 1795723446437 {
		t.Errorf("header = %+v", h)
	}
	if h.SDK == nil || h.SDK.Name != "sentry.python" || h.SDK.Version != "2.1.0" ||
		strings.Join(h.SDK.Integrations, ",") != "flask" || len(h.SDK.Packages) != 1 || h.SDK.Packages[0].Name != "pypi:sentry-sdk" {
		t.Errorf("SDK = %+v", h.SDK)
	}
	it := env.Items[0]
	if it.ContentType != "text/plain" || it.Filename != "log.txt" || it.AttachmentType != "event.attachment" || it.Length != 2 {
		t.Errorf("item = %+v", it)
	}
	if it.Headers["item_count"] == nil || h.Raw["sdk"] == nil {
		t.Errorf("raw headers lost: %v %v", it.Headers, h.Raw)
	}
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	small := DefaultLimits()
	small.MaxEnvelopeBytes = 100
	few := DefaultLimits()
	few.MaxItems = 2
	tests := []struct {
		name   string
		in     string
		lim    Limits
		status int
		reason string
	}{
		{"empty body", "", Limits{}, 400, "empty envelope"},
		{"blank body", " \n\n", Limits{}, 400, "empty envelope"},
		{"header not JSON", "hello\n", Limits{}, 400, "envelope header on line 1"},
		{"header not an object", "[]\n", Limits{}, 400, "not a JSON object"},
		{"header truncated", `{"event_id":`, Limits{}, 400, "envelope header on line 1"},
		{"header with trailing data", "{} {}\n", Limits{}, 400, "data after the JSON object"},
		{"item header not JSON", "{}\n\n{\"type\":\"event\"}\nx\nnope\n", Limits{}, 400, "item header on line 5"},
		{"invalid event id", `{"event_id":"nope"}`, Limits{}, 400, "event_id is not a UUID"},
		{"numeric event id", `{"event_id":12}`, Limits{}, 400, "event_id is not a string"},
		{"numeric dsn", `{"dsn":12}`, Limits{}, 400, "dsn is not a string"},
		{"invalid UTF-8 in header", "{\"dsn\":\"\xff\"}\n", Limits{}, 400, "UTF-8"},
		{"invalid UTF-8 in item header", "{}\n{\"type\":\"ev\xc3\x28\"}\n", Limits{}, 400, "UTF-8"},
		{"deep nesting", `{"a":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "}", Limits{}, 400, "nested deeper"},
		{"long header line", `{"a":"` + strings.Repeat("x", 300<<10) + `"}`, Limits{}, 400, "longer than 256 KiB"},
		{"item without type", "{}\n{\"length\":2}\nab", Limits{}, 400, "no type"},
		{"item type not a string", "{}\n{\"type\":1}\n", Limits{}, 400, "no type"},
		{"negative length", "{}\n{\"type\":\"event\",\"length\":-1}\n", Limits{}, 400, "length -1"},
		{"fractional length", "{}\n{\"type\":\"event\",\"length\":1.5}\n", Limits{}, 400, "length 1.5"},
		{"length past u32", "{}\n{\"type\":\"event\",\"length\":4294967296}\n", Limits{}, 400, "32-bit"},
		{"string length", "{}\n{\"type\":\"event\",\"length\":\"3\"}\nabc", Limits{}, 400, "length is not a number"},
		{"content_type not a string", "{}\n{\"type\":\"event\",\"content_type\":[]}\n{}", Limits{}, 400, "content_type is not a string"},
		{"length that lies", "{}\n{\"type\":\"event\",\"length\":10}\nabc", Limits{}, 400, "envelope item length exceeds the body"},
		{"length that lies at end of header", "{}\n{\"type\":\"event\",\"length\":1}", Limits{}, 400, "envelope item length exceeds the body"},
		{"length too short", "{}\n{\"type\":\"event\",\"length\":2}\nabc\n", Limits{}, 400, "missing newline"},
		{"event past its limit by length", "{}\n{\"type\":\"event\",\"length\":1048577}\n", Limits{}, 413, "item 1 of type event larger than 1 MiB"},
		{"event past its limit without length", "{}\n{\"type\":\"event\"}\n" + strings.Repeat("x", 1<<20+1), Limits{}, 413, "item 1 of type event larger than 1 MiB"},
		{"client report past its limit", "{}\n{\"type\":\"client_report\"}\n" + strings.Repeat("x", 5000), Limits{}, 413, "client_report larger than 4 KiB"},
		{"envelope past its limit", "{}\n{\"type\":\"attachment\"}\n" + strings.Repeat("x", 200), small, 413, "envelope larger than 100 bytes"},
		{"too many items", "{}\n{\"type\":\"a\"}\n\n{\"type\":\"a\"}\n\n{\"type\":\"a\"}\n", few, 413, "more than 2 items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(tt.in), tt.lim)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Status != tt.status || !strings.Contains(e.Reason, tt.reason) {
				t.Errorf("err = %d %q, want %d containing %q", e.Status, e.Reason, tt.status, tt.reason)
			}
		})
	}
}

func TestParse_ReaderError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("{}\n{\"type\":\"event\",\"length\":100}\nabc"), iotest.ErrReader(boom))
	_, err := Parse(r, DefaultLimits())
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want it to wrap %v", err, boom)
	}
}

func TestLimits_Defaults(t *testing.T) {
	t.Parallel()
	d := DefaultLimits()
	for typ, want := range map[string]int{
		"event": 1 << 20, "transaction": 1 << 20, "feedback": 1 << 20, "attachment": 200 << 20,
		"session": 1 << 20, "client_report": 4 << 10, "check_in": 100 << 10, "unknown_type": 200 << 20,
	} {
		if got := d.itemLimit(typ); got != want {
			t.Errorf("itemLimit(%s) = %d, want %d", typ, got, want)
		}
	}
	if z := (Limits{}).withDefaults(); z.MaxEnvelopeBytes != 200<<20 || z.MaxItems != 1000 || z.itemLimit("event") != 1<<20 {
		t.Errorf("zero Limits = %+v", z)
	}
	// A non-nil empty map lifts the per-type limits.
	none := Limits{MaxItemBytes: map[string]int{}}.withDefaults()
	if got := none.itemLimit("event"); got != 200<<20 {
		t.Errorf("itemLimit(event) without per-type limits = %d", got)
	}
}

// TestParse_LyingLengthAllocation checks that a declared length is not
// allocated before its bytes arrive. It is not parallel: it reads the
// process-wide allocation counter.
func TestParse_LyingLengthAllocation(t *testing.T) {
	in := []byte("{}\n{\"type\":\"attachment\",\"length\":199999999}\nabc")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		_, err := Parse(bytes.NewReader(in), DefaultLimits())
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 {
			t.Fatalf("err = %v, want a 400", err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 10; per > 1<<20 {
		t.Errorf("Parse allocated %d bytes per call for a 50-byte body", per)
	}
}
