package ingest

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/tocsin/tocsin/envelope"
)

// capturesDir holds requests recorded from real SDKs (see its README.md).
const capturesDir = "../../testdata/sdk-captures"

// compress applies one content coding; "deflate-raw" is deflate without the
// zlib wrapper, as some clients send it.
func compress(t testing.TB, coding string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	var err error
	switch coding {
	case "gzip", "x-gzip":
		w = gzip.NewWriter(&buf)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "deflate-raw":
		w, err = flate.NewWriter(&buf, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriterLevel(&buf, 4)
	case "zstd":
		w, err = zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1))
	default:
		t.Fatalf("no coding %q", coding)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newRequest returns an envelope request with body and, unless it is "",
// the Content-Encoding header; chunked requests have ContentLength -1.
func newRequest(body []byte, encoding string, chunked bool) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/42/envelope/", bytes.NewReader(body))
	if encoding != "" {
		r.Header.Set("Content-Encoding", encoding)
	}
	if chunked {
		r.ContentLength = -1
	}
	return r
}

// decode runs DecodeBody and ReadAllLimited on r.
func decode(r *http.Request, lim BodyLimits) ([]byte, error) {
	rc, err := DecodeBody(r, lim)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return ReadAllLimited(rc, lim.MaxDecompressed)
}

// wantBodyError fails unless err is a *BodyError with status and a reason
// containing reason.
func wantBodyError(t *testing.T, err error, status int, reason string) {
	t.Helper()
	var be *BodyError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BodyError", err)
	}
	if be.Status != status || !strings.Contains(be.Reason, reason) {
		t.Errorf("err = %d %q, want %d containing %q", be.Status, be.Reason, status, reason)
	}
}

func TestDecodeBody_Captures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		eventID string
		types   string // item types of an envelope, "" for a store request
	}{
		{"python-sentry-sdk-1.9.10-store-exception", "403227d8508d45d69fd40cd7c56eb57b", ""},
		{"python-sentry-sdk-1.9.10-store-message", "ece45d8acba74866af985db66699f3d0", ""},
		{"node-sdk-11.12.0-envelope-exception", "564e4fe25cd848e3ae64c0c30b28dc68", "event"},
		{"node-sdk-11.12.0-envelope-message", "dbc042f358944622b91b04653d74bf2e", "event"},
		{"node-sdk-11.12.0-envelope-session", "", "session"},
		{"sentry-cli-2.58.6-send-event", "75463db85e524ffab02534dd8aad0438", "event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(filepath.Join(capturesDir, tt.name+".body"))
			if err != nil {
				t.Fatal(err)
			}
			metaJSON, err := os.ReadFile(filepath.Join(capturesDir, tt.name+".http.json"))
			if err != nil {
				t.Fatal(err)
			}
			var meta struct {
				Method, Path string
				Headers      map[string]string
			}
			if err := json.Unmarshal(metaJSON, &meta); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(meta.Method, meta.Path, bytes.NewReader(body))
			r.ContentLength = -1 // chunked, unless the client declared a length
			for k, v := range meta.Headers {
				r.Header.Set(k, v)
				if strings.EqualFold(k, "Content-Length") {
					if r.ContentLength, err = strconv.ParseInt(v, 10, 64); err != nil {
						t.Fatal(err)
					}
				}
			}
			store := tt.types == ""
			lim := DefaultBodyLimits()
			if store {
				lim = StoreBodyLimits()
			}
			decoded, err := decode(r, lim)
			if err != nil {
				t.Fatal(err)
			}
			if store {
				ev, err := DecodeStoreBody(decoded, lim.MaxDecompressed)
				if err != nil {
					t.Fatal(err)
				}
				var e struct {
					EventID string `json:"event_id"`
				}
				if err := json.Unmarshal(ev, &e); err != nil || e.EventID != tt.eventID {
					t.Errorf("event_id = %q (%v), want %s", e.EventID, err, tt.eventID)
				}
				return
			}
			env, err := envelope.Parse(bytes.NewReader(decoded), envelope.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, it := range env.Items {
				types = append(types, it.Type)
			}
			if env.Header.EventID != tt.eventID || strings.Join(types, ",") != tt.types {
				t.Errorf("envelope %s with %v, want %s with %s", env.Header.EventID, types, tt.eventID, tt.types)
			}
		})
	}
}

func TestDecodeBody_Encodings(t *testing.T) {
	t.Parallel()
	payload := bytes.Repeat([]byte(`{"type":"event"}`+"\n{\"message\":\"héllo\"}\n"), 500)
	tests := []struct {
		name   string
		header string
		body   func(t testing.TB) []byte
	}{
		{"none", "", func(testing.TB) []byte { return payload }},
		{"identity", "identity", func(testing.TB) []byte { return payload }},
		{"UTF-8 from old Android SDKs", "UTF-8", func(testing.TB) []byte { return payload }},
		{"gzip", "gzip", func(t testing.TB) []byte { return compress(t, "gzip", payload) }},
		{"x-gzip", "x-gzip", func(t testing.TB) []byte { return compress(t, "gzip", payload) }},
		{"upper case with blanks", " GZIP ", func(t testing.TB) []byte { return compress(t, "gzip", payload) }},
		{"concatenated gzip members", "gzip", func(t testing.TB) []byte {
			return append(compress(t, "gzip", payload[:100]), compress(t, "gzip", payload[100:])...)
		}},
		{"deflate with zlib wrapper", "deflate", func(t testing.TB) []byte { return compress(t, "deflate", payload) }},
		{"raw deflate", "deflate", func(t testing.TB) []byte { return compress(t, "deflate-raw", payload) }},
		{"br", "br", func(t testing.TB) []byte { return compress(t, "br", payload) }},
		{"zstd", "zstd", func(t testing.TB) []byte { return compress(t, "zstd", payload) }},
		{"gzip then br", "gzip, br", func(t testing.TB) []byte { return compress(t, "br", compress(t, "gzip", payload)) }},
		{"br then gzip", "br,gzip", func(t testing.TB) []byte { return compress(t, "gzip", compress(t, "br", payload)) }},
		{"identity among others", "identity, zstd", func(t testing.TB) []byte { return compress(t, "zstd", payload) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, chunked := range []bool{false, true} {
				got, err := decode(newRequest(tt.body(t), tt.header, chunked), DefaultBodyLimits())
				if err != nil {
					t.Fatalf("chunked=%v: %v", chunked, err)
				}
				if !bytes.Equal(got, payload) {
					t.Errorf("chunked=%v: decoded %d bytes, want the %d of the payload", chunked, len(got), len(payload))
				}
			}
		})
	}
}

func TestDecodeBody_SeveralHeaderLines(t *testing.T) {
	t.Parallel()
	payload := []byte("{}\n")
	r := newRequest(compress(t, "br", compress(t, "gzip", payload)), "", false)
	r.Header.Add("Content-Encoding", "gzip")
	r.Header.Add("Content-Encoding", "br")
	got, err := decode(r, DefaultBodyLimits())
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestDecodeBody_Errors(t *testing.T) {
	t.Parallel()
	payload := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	gz := compress(t, "gzip", payload)
	small := BodyLimits{MaxCompressed: 1 << 20, MaxDecompressed: 32 << 10}
	tests := []struct {
		name   string
		req    func() *http.Request
		lim    BodyLimits
		early  bool // DecodeBody itself refuses
		status int
		reason string
	}{
		{"unknown encoding", func() *http.Request { return newRequest(payload, "compress", false) }, DefaultBodyLimits(), true, 415, `unsupported content encoding "compress"`},
		{"unknown among known", func() *http.Request { return newRequest(payload, "gzip, lzma", false) }, DefaultBodyLimits(), true, 415, `"lzma"`},
		{"too many encodings", func() *http.Request { return newRequest(payload, "gzip, gzip, gzip, gzip", false) }, DefaultBodyLimits(), true, 415, "more than 3"},
		{"declared length past the limit", func() *http.Request { return newRequest(payload, "", false) }, BodyLimits{MaxCompressed: 1000, MaxDecompressed: 1 << 20}, true, 413, "request body of 65536 bytes is larger than 1000 bytes"},
		{"chunked body past the limit", func() *http.Request { return newRequest(payload, "", true) }, BodyLimits{MaxCompressed: 1000, MaxDecompressed: 1 << 20}, false, 413, "larger than 1000 bytes"},
		{"chunked gzip past the compressed limit", func() *http.Request { return newRequest(gz, "gzip", true) }, BodyLimits{MaxCompressed: 100, MaxDecompressed: 1 << 20}, false, 413, "larger than 100 bytes"},
		{"identity past the decompressed limit", func() *http.Request { return newRequest(payload, "", false) }, small, false, 413, "larger than 32 KiB"},
		{"gzip past the decompressed limit", func() *http.Request { return newRequest(gz, "gzip", false) }, small, false, 413, "larger than 32 KiB decompressed"},
		{"truncated gzip", func() *http.Request { return newRequest(gz[:len(gz)/2], "gzip", false) }, DefaultBodyLimits(), false, 400, "invalid gzip body: unexpected EOF"},
		{"gzip without its trailer", func() *http.Request { return newRequest(gz[:len(gz)-4], "gzip", false) }, DefaultBodyLimits(), false, 400, "invalid gzip body: unexpected EOF"},
		{"gzip header only", func() *http.Request { return newRequest(gz[:5], "gzip", false) }, DefaultBodyLimits(), false, 400, "invalid gzip body: unexpected EOF"},
		{"empty gzip body", func() *http.Request { return newRequest(nil, "gzip", false) }, DefaultBodyLimits(), false, 400, "invalid gzip body: unexpected EOF"},
		{"not gzip", func() *http.Request { return newRequest(payload, "gzip", false) }, DefaultBodyLimits(), false, 400, "invalid gzip body: invalid header"},
		{"corrupt gzip checksum", func() *http.Request {
			b := bytes.Clone(gz)
			b[len(b)-8] ^= 0xff
			return newRequest(b, "gzip", false)
		}, DefaultBodyLimits(), false, 400, "invalid gzip body: invalid checksum"},
		{"gzip with trailing garbage", func() *http.Request { return newRequest(append(bytes.Clone(gz), "garbage"...), "gzip", false) }, DefaultBodyLimits(), false, 400, "invalid gzip body"},
		{"truncated deflate", func() *http.Request { return newRequest(compress(t, "deflate", payload)[:20], "deflate", false) }, DefaultBodyLimits(), false, 400, "invalid deflate body: unexpected EOF"},
		{"not deflate", func() *http.Request { return newRequest([]byte{0xff, 0xff, 0xff}, "deflate", false) }, DefaultBodyLimits(), false, 400, "invalid deflate body"},
		{"truncated br", func() *http.Request { return newRequest(compress(t, "br", payload)[:10], "br", false) }, DefaultBodyLimits(), false, 400, "invalid br body: unexpected EOF"},
		{"not br", func() *http.Request { return newRequest(payload, "br", false) }, DefaultBodyLimits(), false, 400, "invalid br body"},
		{"truncated zstd", func() *http.Request { return newRequest(compress(t, "zstd", payload)[:10], "zstd", false) }, DefaultBodyLimits(), false, 400, "invalid zstd body"},
		{"not zstd", func() *http.Request { return newRequest(payload, "zstd", false) }, DefaultBodyLimits(), false, 400, "invalid zstd body"},
		{"zstd window past 8 MiB", func() *http.Request {
			var buf bytes.Buffer
			w, _ := zstd.NewWriter(&buf, zstd.WithWindowSize(64<<20), zstd.WithEncoderConcurrency(1), zstd.WithSingleSegment(false))
			w.Write(bytes.Repeat(payload, 200))
			w.Close()
			return newRequest(buf.Bytes(), "zstd", false)
		}, DefaultBodyLimits(), false, 400, "invalid zstd body"},
		{"inner layer corrupt", func() *http.Request { return newRequest(compress(t, "br", gz[:len(gz)/2]), "gzip, br", false) }, DefaultBodyLimits(), false, 400, "invalid gzip body: unexpected EOF"},
		{"outer layer corrupt", func() *http.Request { return newRequest(compress(t, "br", gz)[:20], "gzip, br", false) }, DefaultBodyLimits(), false, 400, "invalid br body"},
		{"connection failure", func() *http.Request {
			r := newRequest(nil, "gzip", true)
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(gz[:100]), iotest.ErrReader(errors.New("connection reset by peer"))))
			return r
		}, DefaultBodyLimits(), false, 400, "reading request body: connection reset by peer"},
		{"server body limit", func() *http.Request {
			r := newRequest(nil, "", true)
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(bytes.NewReader(payload)), 1000)
			return r
		}, DefaultBodyLimits(), false, 413, "larger than 1000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc, err := DecodeBody(tt.req(), tt.lim)
			if tt.early {
				wantBodyError(t, err, tt.status, tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("DecodeBody: %v", err)
			}
			defer rc.Close()
			_, err = ReadAllLimited(rc, tt.lim.MaxDecompressed)
			wantBodyError(t, err, tt.status, tt.reason)
		})
	}
}

// TestDecodeBody_IntoParse streams a decoded body straight into
// envelope.Parse, as the envelope endpoint may: the body's failures come out
// of Parse as the *BodyError they are.
func TestDecodeBody_IntoParse(t *testing.T) {
	t.Parallel()
	env := []byte(`{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}` + "\n" + `{"type":"event"}` + "\n{}\n")
	gz := compress(t, "gzip", env)
	tests := []struct {
		name   string
		body   []byte
		lim    BodyLimits
		status int // 0: parses
	}{
		{"valid", gz, BodyLimits{}, 0},
		{"truncated", gz[:len(gz)-6], BodyLimits{}, 400},
		{"past the decompressed limit", compress(t, "gzip", make([]byte, 1<<20)), BodyLimits{MaxDecompressed: 1000}, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc, err := DecodeBody(newRequest(tt.body, "gzip", true), tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			e, err := envelope.Parse(rc, envelope.DefaultLimits())
			if tt.status == 0 {
				if err != nil || e.Header.EventID != "9ec79c33ec9942ab8353589fcb2e04dc" || len(e.Items) != 1 {
					t.Errorf("Parse = %+v, %v", e, err)
				}
				return
			}
			wantBodyError(t, err, tt.status, "")
		})
	}
}

func TestBodyLimits_Defaults(t *testing.T) {
	t.Parallel()
	if got := (BodyLimits{}).withDefaults(); got != DefaultBodyLimits() {
		t.Errorf("zero BodyLimits = %+v", got)
	}
	if d := DefaultBodyLimits(); d.MaxCompressed != 40<<20 || d.MaxDecompressed != 200<<20 {
		t.Errorf("DefaultBodyLimits = %+v", d)
	}
	if s := StoreBodyLimits(); s.MaxCompressed != 1<<20 || s.MaxDecompressed != 1<<20 {
		t.Errorf("StoreBodyLimits = %+v", s)
	}
}

func TestReadAllLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		r      io.Reader
		status int // 0: success
	}{
		{"under", strings.NewReader("abc"), 0},
		{"exactly", strings.NewReader("abcd"), 0},
		{"over", strings.NewReader("abcde"), 413},
		{"failing reader", iotest.ErrReader(errors.New("boom")), 400},
		{"body error passes", iotest.ErrReader(&BodyError{Status: 415, Reason: "x"}), 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := ReadAllLimited(tt.r, 4)
			if tt.status == 0 {
				if err != nil || len(b) > 4 {
					t.Errorf("got %q, %v", b, err)
				}
				return
			}
			wantBodyError(t, err, tt.status, "")
		})
	}
}

// zeros returns n bytes of zeros compressed as one stream of coding.
func zeros(t testing.TB, coding string, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	case "deflate":
		w = zlib.NewWriter(&buf)
	case "br":
		w = brotli.NewWriterLevel(&buf, 1)
	case "zstd":
		w, _ = zstd.NewWriter(&buf, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	}
	chunk := make([]byte, 1<<20)
	for range n >> 20 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeBody_Bomb sends bodies that expand past the decompressed limit,
// up to 10 GiB, and checks the 413 comes without allocating anything near
// what the body expands to. It is not parallel: it reads the process-wide
// allocation counter.
func TestDecodeBody_Bomb(t *testing.T) {
	// 100 gzip members of 100 MiB of zeros: a 10 GiB body in ~10 MB.
	member := zeros(t, "gzip", 100<<20)
	gzBomb := bytes.Repeat(member, 100)
	tests := []struct {
		name     string
		encoding string
		body     []byte
		lim      BodyLimits
		readAll  bool // ReadAllLimited, else streamed to io.Discard
	}{
		{"gzip 10 GiB streamed", "gzip", gzBomb, BodyLimits{MaxCompressed: 20 << 20, MaxDecompressed: 100 << 20}, false},
		{"gzip 10 GiB read whole", "gzip", gzBomb, BodyLimits{MaxCompressed: 20 << 20, MaxDecompressed: 8 << 20}, true},
		{"gzip inside br", "gzip, br", compress(t, "br", gzBomb), BodyLimits{MaxCompressed: 20 << 20, MaxDecompressed: 8 << 20}, true},
		{"deflate 256 MiB", "deflate", zeros(t, "deflate", 256<<20), BodyLimits{MaxCompressed: 20 << 20, MaxDecompressed: 8 << 20}, true},
		{"br 256 MiB", "br", zeros(t, "br", 256<<20), BodyLimits{MaxCompressed: 20 << 20, MaxDecompressed: 8 << 20}, true},
		{"zstd 256 MiB", "zstd", zeros(t, "zstd", 256<<20), BodyLimits{MaxCompressed: 20 << 20, MaxDecompressed: 8 << 20}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(tt.body, tt.encoding, true)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			rc, err := DecodeBody(r, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			if tt.readAll {
				_, err = ReadAllLimited(rc, tt.lim.MaxDecompressed)
			} else {
				_, err = io.Copy(io.Discard, rc)
			}
			rc.Close()
			runtime.ReadMemStats(&after)
			wantBodyError(t, err, 413, "decompressed")
			alloc := after.TotalAlloc - before.TotalAlloc
			// What may be held: the limit when reading whole (io.ReadAll
			// grows by doubling) and the decoders' windows.
			budget := uint64(32 << 20)
			if tt.readAll {
				budget += 3 * uint64(tt.lim.MaxDecompressed)
			}
			if alloc > budget {
				t.Errorf("allocated %d MiB, want under %d MiB", alloc>>20, budget>>20)
			}
			t.Logf("%d KiB compressed: 413 after allocating %d KiB", len(tt.body)>>10, alloc>>10)
		})
	}
}

func TestDecodeStoreBody(t *testing.T) {
	t.Parallel()
	event := []byte(`{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","message":"hi"}`)
	zlibbed := func(b []byte) []byte {
		var buf bytes.Buffer
		w := zlib.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	b64 := base64.StdEncoding.EncodeToString
	wrapped := b64(zlibbed(event))
	wrapped = wrapped[:20] + "\r\n" + wrapped[20:] + "\n"
	tests := []struct {
		name   string
		body   string
		max    int64
		status int // 0: decodes to event
	}{
		{"JSON", string(event), 1 << 20, 0},
		{"JSON after blanks", " \r\n\t" + string(event), 1 << 20, 0},
		{"base64 of zlib (raven-python)", b64(zlibbed(event)), 1 << 20, 0},
		{"base64 of zlib, wrapped", wrapped, 1 << 20, 0},
		{"base64 of JSON", b64(event), 1 << 20, 0},
		{"base64 without padding", strings.TrimRight(b64(zlibbed(event)), "="), 1 << 20, 0},
		{"empty", "", 1 << 20, 400},
		{"blank", " \n", 1 << 20, 400},
		{"not base64", "hello, world", 1 << 20, 400},
		{"base64 of garbage", b64([]byte("garbage that is not zlib")), 1 << 20, 400},
		{"base64 of truncated zlib", b64(zlibbed(event)[:10]), 1 << 20, 400},
		{"JSON past the limit", string(event), 10, 413},
		{"zlib bomb", b64(zlibbed(make([]byte, 64<<20))), 1 << 20, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeStoreBody([]byte(tt.body), tt.max)
			if tt.status != 0 {
				wantBodyError(t, err, tt.status, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), event) {
				t.Errorf("got %q", got)
			}
		})
	}
}

func BenchmarkDecodeBody_Gzip(b *testing.B) {
	var ev strings.Builder
	ev.WriteString(`{"type":"event"}` + "\n" + `{"exception":{"values":[{"stacktrace":{"frames":[`)
	for ev.Len() < 10<<10 {
		ev.WriteString(`{"filename":"app/handlers/user.py","function":"load_user","lineno":42,"in_app":true},`)
	}
	ev.WriteString("{}]}}]}}\n")
	body := compress(b, "gzip", []byte(ev.String()))
	lim := DefaultBodyLimits()
	b.SetBytes(int64(ev.Len()))
	b.ReportAllocs()
	for b.Loop() {
		out, err := decode(newRequest(body, "gzip", true), lim)
		if err != nil || len(out) != ev.Len() {
			b.Fatal(err)
		}
	}
}

// fuzzCodings are the Content-Encodings FuzzDecodeBody picks from, with the
// codings compress applies to build a valid body for each, in order.
var fuzzCodings = []struct {
	header string
	apply  []string
}{
	{"", nil},
	{"gzip", []string{"gzip"}},
	{"deflate", []string{"deflate"}},
	{"deflate", []string{"deflate-raw"}},
	{"br", []string{"br"}},
	{"zstd", []string{"zstd"}},
	{"gzip, br", []string{"gzip", "br"}},
	{"zstd, deflate", []string{"zstd", "deflate"}},
	{"UTF-8", nil},
}

// FuzzDecodeBody feeds random bytes to each decoder, and random payloads
// through each encoder and back. Decoding never panics, fails only with a
// 400 or 413 *BodyError, never returns more than the limit, and gives back
// what was encoded. The store body decoder runs on every result too. Seeds
// in testdata/fuzz/FuzzDecodeBody include the recorded SDK requests.
func FuzzDecodeBody(f *testing.F) {
	for i := range fuzzCodings {
		f.Add([]byte(`{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}`+"\n"+`{"type":"event"}`+"\n{}"), uint8(i))
	}
	lim := BodyLimits{MaxCompressed: 64 << 10, MaxDecompressed: 16 << 10}
	f.Fuzz(func(t *testing.T, data []byte, pick uint8) {
		c := fuzzCodings[int(pick)%len(fuzzCodings)]
		check := func(what string, out []byte, err error) {
			t.Helper()
			if err != nil {
				var be *BodyError
				if !errors.As(err, &be) || (be.Status != 400 && be.Status != 413) || be.Reason == "" {
					t.Fatalf("%s: err = %#v, want a 400 or 413 *BodyError", what, err)
				}
				return
			}
			if int64(len(out)) > lim.MaxDecompressed {
				t.Fatalf("%s: %d bytes past the limit", what, len(out))
			}
			store, err := DecodeStoreBody(out, lim.MaxDecompressed)
			if err != nil {
				var be *BodyError
				if !errors.As(err, &be) || (be.Status != 400 && be.Status != 413) {
					t.Fatalf("%s: DecodeStoreBody err = %#v", what, err)
				}
			} else if int64(len(store)) > lim.MaxDecompressed {
				t.Fatalf("%s: store body of %d bytes past the limit", what, len(store))
			}
		}

		out, err := decode(newRequest(data, c.header, true), lim)
		check("raw "+c.header, out, err)

		// Every layer's output is bounded: data, and each encoding but the last.
		body, largest := data, len(data)
		for i, coding := range c.apply {
			body = compress(t, coding, body)
			if i < len(c.apply)-1 {
				largest = max(largest, len(body))
			}
		}
		out, err = decode(newRequest(body, c.header, true), lim)
		check("encoded "+c.header, out, err)
		switch {
		case int64(len(body)) > lim.MaxCompressed || int64(largest) > lim.MaxDecompressed:
			wantBodyError(t, err, 413, "larger than")
		case err != nil:
			t.Fatalf("%s: decoding what was encoded: %v", c.header, err)
		case !bytes.Equal(out, data):
			t.Fatalf("%s: decoded %q, encoded %q", c.header, out, data)
		}
	})
}
