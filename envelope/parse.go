package envelope

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// readBufferSize is the bufio buffer Parse reads through.
const readBufferSize = 32 * kib

// readers keeps Parse's read buffers for reuse; every payload and header
// Parse returns is copied out of the buffer.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufferSize) }}

// Parse reads an envelope from r, which must already be decompressed.
//
// Limits are enforced while reading: Parse stops one byte past
// lim.MaxEnvelopeBytes, an item whose declared length is past its type's
// limit is refused before its payload is read, and a payload buffer grows as
// its bytes arrive rather than being allocated at the declared length, so
// that a lying length costs nothing. Errors are *Error (400 or 413), except that an error
// from r other than io.EOF is returned wrapped, so that the caller can still
// find its own error types with errors.As.
//
// The framing follows Relay's parser: the header line is a JSON object,
// possibly {}; each item is a JSON header line with a "type", then a payload
// of exactly "length" bytes followed by a newline or the end of input, or,
// without "length", the rest of the line. Blank lines before a header are
// skipped (Relay's JSON reader skips whitespace there), including at the end
// of the envelope, where Relay is stricter. Unlike Relay, header lines may
// end in "\r\n" and may not span several lines.
func Parse(r io.Reader, lim Limits) (*Envelope, error) {
	lim = lim.withDefaults()
	src := &budgetReader{r: r, left: int64(lim.MaxEnvelopeBytes), max: lim.MaxEnvelopeBytes}
	br := readers.Get().(*bufio.Reader)
	br.Reset(src)
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()
	p := &parser{br: br, lim: lim, line: 1}

	line, lineNo, err := p.headerLine()
	if err != nil {
		return nil, err
	}
	if line == nil {
		return nil, malformed("empty envelope: no header line")
	}
	env := &Envelope{}
	if env.Header, err = decodeEnvelopeHeader(line, lineNo); err != nil {
		return nil, err
	}
	for {
		line, lineNo, err := p.headerLine()
		if err != nil {
			return nil, err
		}
		if line == nil {
			return env, nil
		}
		if len(env.Items) == lim.MaxItems {
			return nil, tooLarge("envelope has more than %d items", lim.MaxItems)
		}
		item, err := decodeItemHeader(line, lineNo)
		if err != nil {
			return nil, err
		}
		if item.Payload, err = p.payload(&item, len(env.Items)+1); err != nil {
			return nil, err
		}
		env.Items = append(env.Items, item)
	}
}

// parser holds the reading state of one Parse call.
type parser struct {
	br  *bufio.Reader
	lim Limits
	// line is the 1-based number of the line the next read starts on, for
	// error messages.
	line int
	// buf is reused for header lines, which are copied out when decoded.
	buf []byte
}

// headerLine returns the next non-blank line, without its line ending and
// surrounding blanks, and its line number; nil at the end of input. The slice
// is only valid until the next call.
func (p *parser) headerLine() ([]byte, int, error) {
	more, err := p.skipBlanks()
	if err != nil || !more {
		return nil, 0, err
	}
	p.buf = p.buf[:0]
	start := p.line
	for {
		chunk, err := p.br.ReadSlice('\n')
		if len(p.buf)+len(chunk) > maxHeaderBytes {
			return nil, 0, malformed("header on line %d is longer than %s", start, formatSize(maxHeaderBytes))
		}
		p.buf = append(p.buf, chunk...)
		switch {
		case err == nil:
			p.line++
			return bytes.TrimRight(p.buf, " \t\r\n"), start, nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return bytes.TrimRight(p.buf, " \t\r\n"), start, nil
		default:
			return nil, 0, readError(err)
		}
	}
}

// skipBlanks discards the blanks and empty lines before a header a buffer at
// a time (a line at a time, 200 MiB of newlines took seconds) and reports
// whether anything else follows.
func (p *parser) skipBlanks() (bool, error) {
	for {
		if _, err := p.br.Peek(1); err != nil {
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, readError(err)
		}
		buf, _ := p.br.Peek(p.br.Buffered())
		i := 0
		for i < len(buf) && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n') {
			if buf[i] == '\n' {
				p.line++
			}
			i++
		}
		if _, err := p.br.Discard(i); err != nil {
			return false, readError(err)
		}
		if i < len(buf) {
			return true, nil
		}
	}
}

// payload reads the payload of item, the n-th of the envelope, whose header
// line has just been read.
func (p *parser) payload(item *Item, n int) ([]byte, error) {
	limit := p.lim.itemLimit(item.Type)
	if item.Length < 0 {
		return p.restOfLine(item, n, limit)
	}
	if item.Length > limit {
		return nil, tooLarge("item %d of type %s larger than %s", n, item.Type, formatSize(limit))
	}
	payload, err := p.readN(item.Length)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, malformed("envelope item length exceeds the body: item %d of type %s declares %d bytes, %d remain",
				n, item.Type, item.Length, len(payload))
		}
		return nil, readError(err)
	}
	p.line += bytes.Count(payload, []byte{'\n'})
	switch b, err := p.br.ReadByte(); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, readError(err)
	case b == '\n':
		p.line++
	default:
		return nil, malformed("missing newline after the payload of item %d (line %d): its length header does not match the payload", n, p.line)
	}
	return payload, nil
}

// readN reads exactly n bytes, growing the buffer as the bytes arrive so
// that a declared length alone never makes Parse allocate. On a short read it
// returns what it got with io.ErrUnexpectedEOF or io.EOF.
func (p *parser) readN(n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, readBufferSize))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(len(buf), n-len(buf)))
		}
		m, err := io.ReadFull(p.br, buf[len(buf):min(cap(buf), n)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// restOfLine reads a payload without a declared length: the bytes up to the
// next newline or the end of input.
func (p *parser) restOfLine(item *Item, n, limit int) ([]byte, error) {
	var payload []byte
	for {
		chunk, err := p.br.ReadSlice('\n')
		data := chunk
		if err == nil {
			data = chunk[:len(chunk)-1]
		}
		if len(payload)+len(data) > limit {
			return nil, tooLarge("item %d of type %s larger than %s", n, item.Type, formatSize(limit))
		}
		payload = append(payload, data...)
		switch {
		case err == nil:
			p.line++
			return nonNil(payload), nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nonNil(payload), nil
		default:
			return nil, readError(err)
		}
	}
}

// nonNil makes an empty payload non-nil, so that parsed items compare equal
// however their payload was framed.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// readError passes on an *Error from the budget reader as is and wraps any
// other error of the underlying reader.
func readError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return fmt.Errorf("envelope: reading body: %w", err)
}

// budgetReader reads at most max bytes from r and fails with a 413 *Error
// when r has more, so that an envelope past the limit is refused after
// reading max+1 bytes, whatever its items declare.
type budgetReader struct {
	r    io.Reader
	left int64
	max  int
	err  error
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p))-1 > b.left { // not b.left+1, which overflows for MaxInt64
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	if int64(n) > b.left {
		n = int(b.left)
		b.left = 0
		b.err = tooLarge("envelope larger than %s", formatSize(b.max))
		return n, b.err
	}
	b.left -= int64(n)
	if err != nil {
		b.err = err
	}
	return n, err
}
