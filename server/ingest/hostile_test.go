package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// repeatReader yields n copies of the byte b.
type repeatReader struct {
	b byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	for i := range p {
		p[i] = r.b
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// gzipBomb returns a gzip body that starts with prefix and then expands to
// members × 1 MiB of the byte fill. The fill is streamed through gzip once,
// into one gzip member, which is then repeated: a gzip stream may be a
// series of members (RFC 1952 §2.2), decoders read them as one, and
// repeating the member spares the test compressing a gigabyte.
func gzipBomb(prefix []byte, fill byte, members int) []byte {
	var head, member bytes.Buffer
	w, _ := gzip.NewWriterLevel(&head, gzip.BestCompression)
	_, _ = w.Write(prefix)
	_ = w.Close()
	w, _ = gzip.NewWriterLevel(&member, gzip.BestCompression)
	_, _ = io.Copy(w, &repeatReader{b: fill, n: 1 << 20})
	_ = w.Close()
	return append(head.Bytes(), bytes.Repeat(member.Bytes(), members)...)
}

// Bombs expanding to a GiB (envelope: 20 MiB on the wire allowed) and to
// 512 MiB (store: 1 MiB on the wire allowed), built once for all engines.
var (
	// The envelope bomb is a valid envelope header followed by empty
	// lines, which the envelope parser skips before the next header (as
	// Relay's JSON reader does): nothing but the bound on the decompressed
	// size stops it.
	envelopeBomb = sync.OnceValue(func() []byte {
		return gzipBomb([]byte("{}\n"), '\n', 1024)
	})
	storeBomb = sync.OnceValue(func() []byte { return gzipBomb(nil, 0, 512) })
)

// hostileKeys are the keys the hostile requests use, made before the server
// starts so that its key cache never holds an old state of them.
type hostileKeys struct {
	good, disabled, otherProject, limited *store.ProjectKey
}

func TestIngest_HostileInput(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		ctx := context.Background()
		org, proj := f.boot.Organization.ID, f.boot.Project.ID
		keys := hostileKeys{good: f.boot.Key}
		var err error
		if keys.disabled, err = st.KeyCreate(ctx, org, proj, &store.KeyCreateParams{Label: "disabled"}); err != nil {
			t.Fatal(err)
		}
		off := false
		if _, err := st.KeyUpdate(ctx, org, proj, keys.disabled.Public, &store.KeyUpdateParams{IsActive: &off}); err != nil {
			t.Fatal(err)
		}
		if _, keys.otherProject, err = st.ProjectCreate(ctx, org, f.boot.Team.ID,
			&store.ProjectCreateParams{Slug: "other", Name: "Other", Platform: "go"}); err != nil {
			t.Fatal(err)
		}
		keys.limited = rateLimitedKey(t, f)
		// The server starts after the keys are set up: ingest caches keys
		// for a few seconds, and a changed key must not wait for that.
		ts := f.serve(t)

		good := keys.good.Public
		envelopeReq := func(t *testing.T, body []byte) *http.Request {
			return ts.ingestRequest(t, "envelope", proj, good, body)
		}
		storeReq := func(t *testing.T, body []byte) *http.Request {
			return ts.ingestRequest(t, "store", proj, good, body)
		}
		goodEnvelope := func(t *testing.T) []byte {
			id := newEventID(t)
			return eventEnvelope(id, messageEvent(id, "a perfectly fine event"))
		}
		bigEvent := []byte(`{"message":"` + strings.Repeat("a", 2<<20) + `"}`)

		cases := []struct {
			name   string
			req    func(t *testing.T) *http.Request
			status int
			reason string // label of tocsin_ingest_rejected_total
			detail string // in the detail
		}{
			{
				name: "truncated gzip",
				req: func(t *testing.T) *http.Request {
					gz := gzipBytes(t, goodEnvelope(t))
					r := envelopeReq(t, gz[:len(gz)-12]) // without the CRC and size trailer, and a few bytes of data
					r.Header.Set("Content-Encoding", "gzip")
					return r
				},
				status: http.StatusBadRequest, reason: "body", detail: "gzip",
			},
			{
				name: "gzip bomb of a GiB on the envelope endpoint",
				req: func(t *testing.T) *http.Request {
					r := envelopeReq(t, envelopeBomb())
					r.Header.Set("Content-Encoding", "gzip")
					return r
				},
				status: http.StatusRequestEntityTooLarge, reason: "body", detail: "decompressed",
			},
			{
				name: "gzip bomb of 512 MiB of zeros on the store endpoint",
				req: func(t *testing.T) *http.Request {
					r := storeReq(t, storeBomb())
					r.Header.Set("Content-Encoding", "gzip")
					return r
				},
				status: http.StatusRequestEntityTooLarge, reason: "body", detail: "decompressed",
			},
			{
				name: "item length past the end of the envelope",
				req: func(t *testing.T) *http.Request {
					return envelopeReq(t, []byte("{}\n{\"type\":\"event\",\"length\":4096}\n{\"message\":\"short\"}\n"))
				},
				status: http.StatusBadRequest, reason: "envelope", detail: "length",
			},
			{
				name: "invalid UTF-8 in an event",
				req: func(t *testing.T) *http.Request {
					id := newEventID(t)
					return envelopeReq(t, eventEnvelope(id, []byte("{\"message\":\"caf\xe9 \xff\xfe\"}")))
				},
				status: http.StatusBadRequest, reason: "event", detail: "UTF-8",
			},
			{
				name: "JSON nested 10,000 deep",
				req: func(t *testing.T) *http.Request {
					id := newEventID(t)
					deep := `{"message":"deep","extra":{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`
					return envelopeReq(t, eventEnvelope(id, []byte(deep)))
				},
				status: http.StatusBadRequest, reason: "event", detail: "nested",
			},
			{
				name: "2 MB event in an envelope item",
				req: func(t *testing.T) *http.Request {
					return envelopeReq(t, eventEnvelope(newEventID(t), bigEvent))
				},
				status: http.StatusRequestEntityTooLarge, reason: "envelope", detail: "event",
			},
			{
				name: "2 MB event in an envelope item without a length",
				req: func(t *testing.T) *http.Request {
					return envelopeReq(t, append([]byte("{}\n{\"type\":\"event\"}\n"), bigEvent...))
				},
				status: http.StatusRequestEntityTooLarge, reason: "envelope", detail: "event",
			},
			{
				name: "2 MB event on the store endpoint",
				req: func(t *testing.T) *http.Request {
					return storeReq(t, bigEvent)
				},
				status: http.StatusRequestEntityTooLarge, reason: "body", detail: "larger than",
			},
			{
				name: "2 MB event on the store endpoint, chunked",
				req: func(t *testing.T) *http.Request {
					r := storeReq(t, nil)
					r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(bigEvent)), -1
					return r
				},
				status: http.StatusRequestEntityTooLarge, reason: "body", detail: "larger than",
			},
			{
				name:   "empty envelope body",
				req:    func(t *testing.T) *http.Request { return envelopeReq(t, nil) },
				status: http.StatusBadRequest, reason: "envelope", detail: "empty",
			},
			{
				name:   "empty store body",
				req:    func(t *testing.T) *http.Request { return storeReq(t, nil) },
				status: http.StatusBadRequest, reason: "body", detail: "empty",
			},
			{
				name: "multipart form on the store endpoint",
				req: func(t *testing.T) *http.Request {
					r := storeReq(t, []byte("--x\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\n{}\r\n--x--\r\n"))
					r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
					return r
				},
				status: http.StatusUnsupportedMediaType, reason: "content_type", detail: "multipart/form-data",
			},
			{
				name: "unknown content encoding",
				req: func(t *testing.T) *http.Request {
					r := envelopeReq(t, goodEnvelope(t))
					r.Header.Set("Content-Encoding", "lz4")
					return r
				},
				status: http.StatusUnsupportedMediaType, reason: "body", detail: "lz4",
			},
			{
				name: "unknown key",
				req: func(t *testing.T) *http.Request {
					return ts.ingestRequest(t, "envelope", proj, newEventID(t), goodEnvelope(t))
				},
				status: http.StatusUnauthorized, reason: "auth", detail: "unknown public key",
			},
			{
				name: "no key",
				req: func(t *testing.T) *http.Request {
					return ts.ingestRequest(t, "envelope", proj, "", goodEnvelope(t))
				},
				status: http.StatusUnauthorized, reason: "auth", detail: "missing",
			},
			{
				name: "different keys in header and query",
				req: func(t *testing.T) *http.Request {
					r := envelopeReq(t, goodEnvelope(t))
					u, _ := r.URL.Parse(urlWithKey(r.URL.String(), keys.disabled.Public))
					r.URL = u
					return r
				},
				status: http.StatusUnauthorized, reason: "auth", detail: "different keys",
			},
			{
				name: "key of another project",
				req: func(t *testing.T) *http.Request {
					return ts.ingestRequest(t, "envelope", proj, keys.otherProject.Public, goodEnvelope(t))
				},
				status: http.StatusUnauthorized, reason: "auth", detail: "does not belong",
			},
			{
				name: "disabled key",
				req: func(t *testing.T) *http.Request {
					return ts.ingestRequest(t, "envelope", proj, keys.disabled.Public, goodEnvelope(t))
				},
				status: http.StatusForbidden, reason: "auth", detail: "disabled",
			},
		}
		// The cases run one after another: each checks that its reason's
		// counter rose by exactly one.
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := ts.rejected(t)
				rep := ts.do(t, tc.req(t))
				checkRejected(t, rep, tc.status, tc.detail)
				if after := ts.rejected(t); after[tc.reason] != before[tc.reason]+1 {
					t.Errorf("tocsin_ingest_rejected_total{reason=%q} went from %v to %v, want one more", tc.reason, before[tc.reason], after[tc.reason])
				}
			})
		}

		t.Run("rate limit", func(t *testing.T) {
			testRateLimit(t, ts, keys.limited)
		})

		// Nothing above broke the server: a good event is still taken and stored.
		t.Run("good request afterwards", func(t *testing.T) {
			for _, endpoint := range []string{"envelope", "store"} {
				id := newEventID(t)
				body := messageEvent(id, "still standing after "+endpoint+" abuse")
				if endpoint == "envelope" {
					body = eventEnvelope(id, body)
				}
				rep := ts.do(t, ts.ingestRequest(t, endpoint, proj, good, body))
				if rep.status != http.StatusOK || strings.TrimSpace(string(rep.body)) != `{"id":"`+id+`"}` {
					t.Fatalf("%s: a good event answered %d %s", endpoint, rep.status, rep.body)
				}
				ts.event(t, id)
			}
		})
	})
}

// checkRejected checks an ingest refusal: the status, a JSON {"detail"}
// that names the problem, and the same detail in X-Sentry-Error.
func checkRejected(t *testing.T, rep reply, status int, detail string) {
	t.Helper()
	var body struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(rep.body, &body); err != nil {
		t.Errorf("answer %d %q is not JSON: %v", rep.status, rep.body, err)
	}
	if rep.status != status {
		t.Errorf("status = %d (%s), want %d", rep.status, rep.body, status)
	}
	if body.Detail == "" || !strings.Contains(body.Detail, detail) {
		t.Errorf("detail = %q, want one that mentions %q", body.Detail, detail)
	}
	if h := rep.header.Get("X-Sentry-Error"); h != body.Detail {
		t.Errorf("X-Sentry-Error = %q, want the detail %q", h, body.Detail)
	}
}

// rateLimitedKey adds a key to the fixture's project that takes two events
// a minute.
func rateLimitedKey(t *testing.T, f *fixture) *store.ProjectKey {
	t.Helper()
	ctx := context.Background()
	org, proj := f.boot.Organization.ID, f.boot.Project.ID
	k, err := f.st.KeyCreate(ctx, org, proj, &store.KeyCreateParams{Label: "limited"})
	if err != nil {
		t.Fatal(err)
	}
	count, window := 2, 60
	if k, err = f.st.KeyUpdate(ctx, org, proj, k.Public, &store.KeyUpdateParams{RateLimitCount: &count, RateLimitWindow: &window}); err != nil {
		t.Fatal(err)
	}
	return k
}

var rateLimitsRE = regexp.MustCompile(`^\d+:error;default;security:key:key_quota$`)

// testRateLimit sends three events with a key limited to two a minute: the
// third is refused with 429, Retry-After and X-Sentry-Rate-Limits. The
// limit counts in windows aligned to the minute, so should the sends
// straddle a minute boundary the third would rightly be accepted; then the
// test starts over with a fresh key, which the server has never seen.
func testRateLimit(t *testing.T, ts *tocsinServer, k *store.ProjectKey) {
	t.Helper()
	proj := ts.boot.Project.ID
	for attempt := 0; ; attempt++ {
		before := ts.rejected(t)
		start := time.Now()
		var reps []reply
		for i := range 3 {
			id := newEventID(t)
			reps = append(reps, ts.do(t, ts.ingestRequest(t, "envelope", proj, k.Public,
				eventEnvelope(id, messageEvent(id, fmt.Sprintf("rate limited event %d", i))))))
		}
		if minute := func(tm time.Time) int64 { return tm.Unix() / 60 }; minute(start) != minute(time.Now()) && attempt < 3 {
			k = rateLimitedKey(t, ts.fixture)
			continue
		}
		for i, rep := range reps[:2] {
			if rep.status != http.StatusOK {
				t.Errorf("event %d under the limit answered %d %s", i+1, rep.status, rep.body)
			}
		}
		rep := reps[2]
		checkRejected(t, rep, http.StatusTooManyRequests, "rate limit")
		if s, err := strconv.Atoi(rep.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After = %q, want 1 to 60 seconds", rep.header.Get("Retry-After"))
		}
		if h := rep.header.Get("X-Sentry-Rate-Limits"); !rateLimitsRE.MatchString(h) {
			t.Errorf("X-Sentry-Rate-Limits = %q, want %s", h, rateLimitsRE)
		}
		if after := ts.rejected(t); after["rate_limited"] != before["rate_limited"]+1 {
			t.Errorf("tocsin_ingest_rejected_total{reason=\"rate_limited\"} went from %v to %v", before["rate_limited"], after["rate_limited"])
		}
		// The limit is the key's: the project's other key still sends.
		id := newEventID(t)
		if rep := ts.do(t, ts.ingestRequest(t, "envelope", proj, ts.boot.Key.Public,
			eventEnvelope(id, messageEvent(id, "another key is not limited")))); rep.status != http.StatusOK {
			t.Errorf("another key of the project answered %d %s", rep.status, rep.body)
		}
		return
	}
}
