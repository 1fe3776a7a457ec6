package event

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A JSON codec for the generic values of an event payload (map[string]any,
// []any, string, json.Number, bool, nil). encoding/json reaches these
// through reflection, and decoding then encoding a 10 KB event was a third
// of ingest's CPU; this one walks the bytes and the values directly. It
// decodes and encodes what encoding/json does, byte for byte (a
// differential fuzz test holds it to that): numbers as json.Number, the
// last of duplicate keys wins, invalid UTF-8 and lone surrogates become
// U+FFFD, keys are sorted and <, >, &, U+2028 and U+2029 are escaped.

// maxDecodeDepth bounds the nesting decodeJSON accepts; Parse refuses
// anything deeper than MaxDepth before decoding.
const maxDecodeDepth = 10000

// decodeJSON decodes one JSON value, which must be all of data apart from
// surrounding white space.
func decodeJSON(data []byte) (any, error) {
	// Strings and numbers without escapes are slices of one copy of the
	// input instead of an allocation each (hundreds per event).
	d := decoder{data: data, text: string(data)}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos < len(d.data) {
		return nil, d.syntax("after top-level value")
	}
	return v, nil
}

type decoder struct {
	data []byte
	text string // data as a string, for values that are its substrings
	pos  int
	buf  []byte // scratch for strings with escapes
	// skip, when set, names object members to pass over instead of
	// decoding (by the object's depth, 1 for the top level, and the key).
	skip func(depth int, key string) bool
}

func (d *decoder) syntax(context string) error {
	if d.pos >= len(d.data) {
		return fmt.Errorf("unexpected end of JSON input")
	}
	return fmt.Errorf("invalid character %s %s (offset %d)", quoteChar(d.data[d.pos]), context, d.pos)
}

// quoteChar formats c as encoding/json's syntax errors do.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.syntax("looking for beginning of value")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, d.syntax("looking for beginning of value")
}

// skipValue passes over one value without building it. It checks only
// what it must to find the value's end (brackets and strings), which is
// enough for the JSON Tocsin wrote itself, the only input it is used on.
func (d *decoder) skipValue() error {
	nesting := 0
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			for d.pos < len(d.data) && d.data[d.pos] != '"' {
				if d.data[d.pos] == '\\' {
					d.pos++
				}
				d.pos++
			}
			if d.pos >= len(d.data) {
				return d.syntax("in string literal")
			}
			d.pos++
		case c == '{' || c == '[':
			nesting++
			d.pos++
		case c == '}' || c == ']':
			if nesting == 0 {
				return nil // a number or literal ended with its object or array
			}
			nesting--
			d.pos++
		case c == ',' && nesting == 0:
			return nil
		default:
			d.pos++
		}
		if nesting == 0 && (c == '"' || c == '}' || c == ']') {
			return nil
		}
	}
	if nesting > 0 {
		return d.syntax("in skipped value")
	}
	return nil
}

func (d *decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			return d.syntax("in literal " + word + " (expecting " + quoteChar(word[i]) + ")")
		}
		d.pos++
	}
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	if depth > maxDecodeDepth {
		return nil, fmt.Errorf("exceeded max depth")
	}
	d.pos++ // {
	m := make(map[string]any)
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.syntax("looking for beginning of object key string")
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.syntax("after object key")
		}
		d.pos++
		d.skipSpace()
		if d.skip != nil && d.skip(depth, k) {
			if err := d.skipValue(); err != nil {
				return nil, err
			}
		} else {
			v, err := d.value(depth)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.syntax("after object key:value pair")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			return m, nil
		default:
			return nil, d.syntax("after object key:value pair")
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	if depth > maxDecodeDepth {
		return nil, fmt.Errorf("exceeded max depth")
	}
	d.pos++ // [
	l := []any{}
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return l, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		l = append(l, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.syntax("after array element")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			return l, nil
		default:
			return nil, d.syntax("after array element")
		}
	}
}

// number reads a number in JSON's grammar and keeps its text.
func (d *decoder) number() (any, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case d.pos < len(d.data) && d.data[d.pos] >= '1' && d.data[d.pos] <= '9':
		d.digits()
	default:
		return nil, d.syntax("in numeric literal")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if !d.digits() {
			return nil, d.syntax("after decimal point in numeric literal")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if !d.digits() {
			return nil, d.syntax("in exponent of numeric literal")
		}
	}
	return json.Number(d.text[start:d.pos]), nil
}

func (d *decoder) digits() bool {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos > start
}

// string reads a string starting at its opening quote. Plain strings (no
// escapes, valid UTF-8) are copied once; others are rebuilt in d.buf.
func (d *decoder) string() (string, error) {
	d.pos++ // "
	start := d.pos
	ascii := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.data[start:d.pos]) {
				return d.slowString(start)
			}
			d.pos++
			return d.text[start : d.pos-1], nil
		case c == '\\':
			return d.slowString(start)
		case c < 0x20:
			return "", d.syntax("in string literal")
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.pos++
	}
	return "", d.syntax("in string literal")
}

func (d *decoder) slowString(start int) (string, error) {
	b := d.buf[:0]
	d.pos = start
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			d.buf = b
			return string(b), nil
		case c < 0x20:
			return "", d.syntax("in string literal")
		case c == '\\':
			d.pos++
			if d.pos >= len(d.data) {
				return "", d.syntax("in string literal")
			}
			switch e := d.data[d.pos]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := d.hex4(d.pos + 1)
				if !ok {
					return "", d.syntax("in \\u hexadecimal character escape")
				}
				d.pos += 4
				if utf16.IsSurrogate(r) {
					// A high surrogate pairs with a following \u low
					// surrogate; anything else is U+FFFD, and the next
					// escape is read on its own, as encoding/json does.
					r2, ok := rune(-1), false
					if d.pos+2 < len(d.data) && d.data[d.pos+1] == '\\' && d.data[d.pos+2] == 'u' {
						r2, ok = d.hex4(d.pos + 3)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						d.pos += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", d.syntax("in string escape code")
			}
			d.pos++
		case c < utf8.RuneSelf:
			b = append(b, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, d.data[d.pos:d.pos+size]...)
			}
			d.pos += size
		}
	}
	return "", d.syntax("in string literal")
}

// hex4 reads four hex digits at i.
func (d *decoder) hex4(i int) (rune, bool) {
	if i+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// MarshalData encodes an event's JSON as encoding/json.Marshal would,
// without reflection for the types a decoded payload holds.
func MarshalData(v any) ([]byte, error) {
	return appendJSON(make([]byte, 0, 4096), v)
}

// AppendData is MarshalData appending to dst, for callers that reuse a
// buffer.
func AppendData(dst []byte, v any) ([]byte, error) {
	return appendJSON(dst, v)
}

func appendJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case json.Number:
		if x == "" {
			return append(b, '0'), nil // as encoding/json
		}
		if !validNumber(string(x)) {
			return nil, fmt.Errorf("json: invalid number literal %q", string(x))
		}
		return append(b, x...), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		var err error
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if b, err = appendJSON(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	// Anything else (floats, typed slices set by normalization) the way
	// encoding/json writes it.
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

// validNumber reports whether s is a number in JSON's grammar.
func validNumber(s string) bool {
	d := decoder{data: []byte(s), text: s}
	if _, err := d.number(); err != nil {
		return false
	}
	return d.pos == len(s)
}

const hexDigits = "0123456789abcdef"

// safeASCII marks the ASCII bytes written as they are: printable, and not
// ", \, <, > or &.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString writes s as a JSON string, escaped as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
