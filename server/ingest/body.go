package ingest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/tocsin/tocsin/envelope"
)

// BodyLimits bound a request body on the wire and after decompression. A zero
// field takes its value from DefaultBodyLimits.
type BodyLimits struct {
	// MaxCompressed bounds the body as sent (after any Transfer-Encoding).
	MaxCompressed int64
	// MaxDecompressed bounds the body after Content-Encoding is undone, and
	// the output of each layer when several encodings are stacked.
	MaxDecompressed int64
}

// DefaultBodyLimits are the limits of the envelope endpoint, Sentry's own:
// 40 MiB on the wire and, decompressed, Relay's max_envelope_size (see
// envelope.DefaultLimits), so that whatever Sentry accepts Tocsin accepts.
func DefaultBodyLimits() BodyLimits {
	return BodyLimits{MaxCompressed: 40 << 20, MaxDecompressed: int64(envelope.DefaultLimits().MaxEnvelopeBytes)}
}

// StoreBodyLimits are the limits of the legacy store endpoint, where Relay
// applies max_event_size (1 MiB) to the body and again to the event decoded
// from it (relay-server/src/endpoints/store.rs).
func StoreBodyLimits() BodyLimits {
	return BodyLimits{MaxCompressed: 1 << 20, MaxDecompressed: 1 << 20}
}

// withDefaults fills the zero or negative fields of l from DefaultBodyLimits,
// so that a forgotten limit never means "refuse everything" or "no limit".
func (l BodyLimits) withDefaults() BodyLimits {
	d := DefaultBodyLimits()
	if l.MaxCompressed <= 0 {
		l.MaxCompressed = d.MaxCompressed
	}
	if l.MaxDecompressed <= 0 {
		l.MaxDecompressed = d.MaxDecompressed
	}
	return l
}

// maxEncodings bounds stacked Content-Encodings: each layer costs a decoder's
// memory, and no client stacks more than two.
const maxEncodings = 3

// zstdMaxWindow is the largest zstd window accepted: RFC 9659 limits the
// "zstd" content coding to 8 MB windows, which also bounds decoder memory.
const zstdMaxWindow = 8 << 20

// BodyError is why a request body was refused, with the status to answer:
// 400 for a corrupt or unreadable body, 413 past a limit, 415 for an unknown
// Content-Encoding. Reason is safe to send back to the client.
type BodyError struct {
	Status int
	Reason string
}

func (e *BodyError) Error() string { return e.Reason }

// DecodeBody returns a reader of r's body with its Content-Encoding undone:
// gzip (or x-gzip), deflate (zlib-wrapped or raw, both of which clients
// send), br and zstd; "", "identity" and "UTF-8" (sent by old Android SDKs)
// mean none, as in Relay; a list is undone last encoding first.
//
// Everything is streamed: the body is never read here, decoders start on the
// first Read, and limits are checked as bytes flow, so that a decompression
// bomb costs no more memory than the decoders' windows. Reading past
// lim.MaxCompressed or lim.MaxDecompressed, corrupt or truncated data, and a
// failing connection all surface as a *BodyError from Read. DecodeBody itself
// fails early only for a Content-Length past MaxCompressed (413) and an
// unsupported encoding (415). Close closes the decoders and the body.
func DecodeBody(r *http.Request, lim BodyLimits) (io.ReadCloser, error) {
	lim = lim.withDefaults()
	if r.ContentLength > lim.MaxCompressed {
		return nil, &BodyError{Status: http.StatusRequestEntityTooLarge,
			Reason: fmt.Sprintf("request body of %d bytes is larger than %s", r.ContentLength, formatBytes(lim.MaxCompressed))}
	}
	encodings, err := contentEncodings(r.Header.Values("Content-Encoding"))
	if err != nil {
		return nil, err
	}
	var body io.ReadCloser = http.NoBody
	if r.Body != nil {
		body = r.Body
	}
	fail := &failure{}
	src := &limitedReader{r: &sourceReader{r: body, fail: fail}, left: lim.MaxCompressed, fail: fail,
		tooLarge: "request body larger than " + formatBytes(lim.MaxCompressed)}
	d := &decodedBody{closers: []io.Closer{body}}
	var rd io.Reader = src
	for i := len(encodings) - 1; i >= 0; i-- {
		layer := &decodeLayer{encoding: encodings[i], in: rd, maxOut: lim.MaxDecompressed, fail: fail}
		d.closers = append(d.closers, layer)
		rd = layer
	}
	tooLarge := "request body larger than " + formatBytes(lim.MaxDecompressed)
	if len(encodings) > 0 {
		tooLarge += " decompressed"
	}
	d.r = &limitedReader{r: rd, left: lim.MaxDecompressed, fail: fail, tooLarge: tooLarge}
	return d, nil
}

// ReadAllLimited reads a body decoded by DecodeBody to its end, holding at
// most limit+1 bytes: more is a 413 *BodyError, and any other failure a
// *BodyError too (400 unless the reader said otherwise).
func ReadAllLimited(rc io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, asBodyError(err)
	}
	if int64(len(b)) > limit {
		return nil, &BodyError{Status: http.StatusRequestEntityTooLarge, Reason: "request body larger than " + formatBytes(limit)}
	}
	return b, nil
}

// DecodeStoreBody decodes the body of a legacy store request: JSON as is,
// or base64 of zlib-compressed JSON (raven-python and other old clients), or
// base64 of JSON. Like Sentry, it takes a body whose first non-blank byte is
// '{' for JSON. The result is at most limit bytes, else a 413 *BodyError;
// other failures are 400 *BodyErrors.
func DecodeStoreBody(b []byte, limit int64) ([]byte, error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, &BodyError{Status: http.StatusBadRequest, Reason: "empty store body"}
	}
	if trimmed[0] == '{' {
		return storeSized(b, limit)
	}
	// Some clients wrap base64 lines; none of the alphabet is blank.
	text := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, trimmed)
	raw := make([]byte, base64.RawStdEncoding.DecodedLen(len(text))) // enough for either form
	n, err := base64.StdEncoding.Decode(raw, text)
	if err != nil {
		if n, err = base64.RawStdEncoding.Decode(raw, bytes.TrimRight(text, "=")); err != nil {
			return nil, &BodyError{Status: http.StatusBadRequest, Reason: "invalid store body: neither JSON nor base64"}
		}
	}
	raw = raw[:n]
	if j := bytes.TrimLeft(raw, " \t\r\n"); len(j) > 0 && j[0] == '{' {
		return storeSized(raw, limit)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, &BodyError{Status: http.StatusBadRequest, Reason: "invalid store body: base64 of neither JSON nor zlib: " + trimPrefix(err, "zlib")}
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, &BodyError{Status: http.StatusBadRequest, Reason: "invalid zlib store body: " + trimPrefix(err, "zlib")}
	}
	return storeSized(out, limit)
}

// storeSized returns b, or a 413 when it is larger than limit.
func storeSized(b []byte, limit int64) ([]byte, error) {
	if int64(len(b)) > limit {
		return nil, &BodyError{Status: http.StatusRequestEntityTooLarge, Reason: "store body larger than " + formatBytes(limit)}
	}
	return b, nil
}

// contentEncodings returns the codings of the Content-Encoding header lines
// in the order they were applied, without the ones that mean none.
func contentEncodings(lines []string) ([]string, error) {
	var out []string
	for _, line := range lines {
		for tok := range strings.SplitSeq(line, ",") {
			switch enc := strings.ToLower(strings.TrimSpace(tok)); enc {
			case "", "identity", "utf-8":
			case "gzip", "x-gzip", "deflate", "br", "zstd":
				if len(out) == maxEncodings {
					return nil, &BodyError{Status: http.StatusUnsupportedMediaType,
						Reason: fmt.Sprintf("more than %d stacked content encodings", maxEncodings)}
				}
				out = append(out, strings.TrimPrefix(enc, "x-"))
			default:
				return nil, &BodyError{Status: http.StatusUnsupportedMediaType,
					Reason: fmt.Sprintf("unsupported content encoding %.40q: use gzip, deflate, br or zstd", strings.TrimSpace(tok))}
			}
		}
	}
	return out, nil
}

// decodedBody is what DecodeBody returns.
type decodedBody struct {
	r       io.Reader
	closers []io.Closer
}

func (d *decodedBody) Read(p []byte) (int, error) { return d.r.Read(p) }

// Close closes the request body and every decoder; the body's error, if
// any, is returned.
func (d *decodedBody) Close() error {
	var first error
	for _, c := range d.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// failure records the first error of a decoding pipeline. Every stage
// reports through it, so that the cause is what the caller sees: when the
// connection drops or the compressed limit is hit, the decoder above fails
// too, with a misleading "unexpected EOF".
type failure struct{ err *BodyError }

func (f *failure) set(e *BodyError) *BodyError {
	if f.err == nil {
		f.err = e
	}
	return f.err
}

// sourceReader reads the request body and turns its errors into *BodyErrors.
type sourceReader struct {
	r    io.Reader
	fail *failure
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return n, s.fail.set(&BodyError{Status: http.StatusRequestEntityTooLarge, Reason: "request body larger than " + formatBytes(mbe.Limit)})
		}
		return n, s.fail.set(&BodyError{Status: http.StatusBadRequest, Reason: "reading request body: " + err.Error()})
	}
	return n, err
}

// limitedReader passes on at most left bytes of r and fails with a 413 when
// r has more, having read only one byte past the limit.
type limitedReader struct {
	r        io.Reader
	left     int64
	fail     *failure
	tooLarge string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p))-1 > l.left { // not l.left+1, which overflows for MaxInt64
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		n = int(l.left)
		l.left = 0
		return n, l.fail.set(&BodyError{Status: http.StatusRequestEntityTooLarge, Reason: l.tooLarge})
	}
	l.left -= int64(n)
	return n, err
}

// decodeLayer undoes one content encoding. Its decoder starts on the first
// Read, so that building the pipeline reads nothing, and its output is
// bounded like the final output, so that stacked encodings cannot hide a
// bomb in an inner layer (a gigabyte of empty gzip members, say, that
// decompresses to nothing).
type decodeLayer struct {
	encoding string
	in       io.Reader
	maxOut   int64
	fail     *failure

	dec    io.Reader
	closer io.Closer
	err    error
}

func (l *decodeLayer) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.dec == nil {
		if err := l.start(); err != nil {
			l.err = l.corrupt(err)
			return 0, l.err
		}
	}
	n, err := l.dec.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		l.err = l.corrupt(err)
		return n, l.err
	}
	return n, err
}

// start creates the decoder, which for gzip and zlib reads the stream header.
func (l *decodeLayer) start() error {
	var dec io.Reader
	switch l.encoding {
	case "gzip":
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(l.in)
		} else {
			err = zr.Reset(l.in)
		}
		if err != nil {
			return err
		}
		dec, l.closer = zr, closerFunc(func() error {
			err := zr.Close()
			gzipReaders.Put(zr)
			return err
		})
	case "deflate":
		// RFC 9110 says zlib; some clients send raw deflate. A zlib stream
		// starts with a CMF byte for method 8 whose pair with FLG is a
		// multiple of 31; raw deflate practically never does.
		br := bufio.NewReader(l.in)
		if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && h[0]>>4 <= 7 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return err
			}
			dec, l.closer = zr, zr
		} else {
			fr := flate.NewReader(br)
			dec, l.closer = fr, fr
		}
	case "br":
		dec = brotli.NewReader(l.in)
	case "zstd":
		// Not WithDecoderMaxMemory(maxOut): it also caps the window, and
		// would refuse a 1 KiB body compressed with the usual 8 MiB window
		// under a 1 MiB limit; the limitedReader below bounds the output.
		zr, err := zstd.NewReader(l.in,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return err
		}
		dec, l.closer = zr, closerFunc(func() error { zr.Close(); return nil })
	default:
		return fmt.Errorf("unsupported encoding %q", l.encoding)
	}
	l.dec = &limitedReader{r: dec, left: l.maxOut, fail: l.fail,
		tooLarge: "request body larger than " + formatBytes(l.maxOut) + " decompressed"}
	return nil
}

// corrupt turns a decoder's error into the pipeline's *BodyError: the
// first failure recorded if there is one, else a 400 naming the encoding.
func (l *decodeLayer) corrupt(err error) *BodyError {
	if l.fail.err != nil {
		return l.fail.err
	}
	if errors.Is(err, io.EOF) { // a stream that ends inside its header
		err = io.ErrUnexpectedEOF
	}
	return l.fail.set(&BodyError{Status: http.StatusBadRequest,
		Reason: fmt.Sprintf("invalid %s body: %s", l.encoding, trimPrefix(err, l.encoding))})
}

func (l *decodeLayer) Close() error {
	if l.closer != nil {
		l.closer.Close() // decoders' Close reports stream errors Read has already returned
		l.closer = nil   // once: a gzip reader goes back to its pool on Close
	}
	return nil
}

// gzipReaders keeps gzip readers for reuse: each holds a 32 KiB window
// that was a tenth of ingest's allocations when made per request.
var gzipReaders sync.Pool

// closerFunc adapts a function to io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// asBodyError returns err as a *BodyError, a 400 unless it already is one.
func asBodyError(err error) *BodyError {
	var be *BodyError
	if errors.As(err, &be) {
		return be
	}
	return &BodyError{Status: http.StatusBadRequest, Reason: "reading request body: " + err.Error()}
}

// trimPrefix returns err's message without the "gzip: " that decoders put
// before it, since the reason already names the encoding.
func trimPrefix(err error, name string) string {
	msg := err.Error()
	for _, p := range []string{name + ": ", "flate: ", "brotli: ", "zstd: ", "zlib: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// formatBytes renders a limit for a reason: "40 MiB", "512 KiB", "100 bytes".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
