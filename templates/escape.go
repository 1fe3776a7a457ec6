package templates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/tocsin/tocsin/integrations"
)

// JSONString escapes s for the inside of a JSON string. Besides what JSON
// requires (quotes, backslashes, control characters) it escapes <, >, &,
// U+2028, U+2029 as encoding/json does, and also {, }, [, ], "," and ":",
// so that a value printed outside quotes by an override cannot form JSON
// structure: at most it makes the output invalid, which sets the override
// aside. Invalid UTF-8 becomes U+FFFD.
func JSONString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '<', '>', '&', '{', '}', '[', ']', ',', ':', '\u2028', '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// maxJSONDepth bounds the nesting of a JSON template's output.
const maxJSONDepth = 32

// Canonical re-encodes one JSON value as encoding/json writes it: compact,
// keys in their order, strings escaped by json.Marshal. It refuses
// anything but exactly one value, duplicate keys and deep nesting.
func Canonical(in []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber()
	var out bytes.Buffer
	if err := canonicalValue(dec, &out, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return out.Bytes(), nil
}

func canonicalValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	if depth > maxJSONDepth {
		return errors.New("nested too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return offsetError(dec, err)
	}
	switch tok := tok.(type) {
	case json.Delim:
		switch tok {
		case '[':
			out.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := canonicalValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return offsetError(dec, err)
			}
			out.WriteByte(']')
		case '{':
			out.WriteByte('{')
			seen := map[string]bool{}
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				k, err := dec.Token()
				if err != nil {
					return offsetError(dec, err)
				}
				key := k.(string)
				if seen[key] {
					return fmt.Errorf("duplicate key %q", key)
				}
				seen[key] = true
				writeString(out, key)
				out.WriteByte(':')
				if err := canonicalValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return offsetError(dec, err)
			}
			out.WriteByte('}')
		default:
			return fmt.Errorf("unexpected %q", tok)
		}
	case string:
		writeString(out, tok)
	case json.Number:
		out.WriteString(tok.String())
	case bool:
		fmt.Fprint(out, tok)
	case nil:
		out.WriteString("null")
	}
	return nil
}

func writeString(out *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always encodes
	out.Write(b)
}

func offsetError(dec *json.Decoder, err error) error {
	if err == io.EOF {
		return errors.New("unexpected end of JSON")
	}
	return fmt.Errorf("at byte %d: %w", dec.InputOffset(), err)
}

// EscapeStrings returns a copy of v (a struct, or a pointer, slice or map
// of them) in which every string, including those in nested structs,
// pointers, slices, arrays and maps, went through esc. Views build their
// data with raw values and hand templates this copy, so that no field can
// be forgotten. Fields of type Safe are copied as they are.
func EscapeStrings[T any](v T, esc func(string) string) T {
	rv := reflect.ValueOf(&v).Elem()
	out := reflect.New(rv.Type()).Elem()
	escapeValue(out, rv, esc)
	return out.Interface().(T)
}

// Safe is a string a view composed itself from escaped values (a Slack
// link, a Markdown list): EscapeStrings leaves it alone.
type Safe string

var safeType = reflect.TypeFor[Safe]()

func escapeValue(dst, src reflect.Value, esc func(string) string) {
	switch {
	case src.Type() == safeType:
		dst.Set(src)
		return
	}
	switch src.Kind() {
	case reflect.String:
		dst.SetString(esc(src.String()))
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		escapeValue(p.Elem(), src.Elem(), esc)
		dst.Set(p)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := reflect.New(src.Elem().Type()).Elem()
		escapeValue(e, src.Elem(), esc)
		dst.Set(e)
	case reflect.Struct:
		// Unexported fields (time.Time's) are copied as they are:
		// templates cannot read them.
		dst.Set(src)
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				escapeValue(dst.Field(i), src.Field(i), esc)
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := range src.Len() {
			escapeValue(s.Index(i), src.Index(i), esc)
		}
		dst.Set(s)
	case reflect.Array:
		for i := range src.Len() {
			escapeValue(dst.Index(i), src.Index(i), esc)
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			k := reflect.New(src.Type().Key()).Elem()
			escapeValue(k, it.Key(), esc)
			val := reflect.New(src.Type().Elem()).Elem()
			escapeValue(val, it.Value(), esc)
			m.SetMapIndex(k, val)
		}
		dst.Set(m)
	default:
		dst.Set(src)
	}
}

// Notice is what every service's templates see of a notification, its
// strings escaped by the template's format: a service's view embeds it
// and adds its own parts (a digest's issues, composed Markdown, …).
type Notice struct {
	Kind  string
	Issue integrations.Issue
	Event *integrations.Event
	Rule  *integrations.Rule
	Actor string
}

// NewNotice is n's Notice with every string through esc.
func NewNotice(n *integrations.Notification, esc func(string) string) Notice {
	return EscapeStrings(Notice{Kind: n.Kind, Issue: n.Issue, Event: n.Event, Rule: n.Rule, Actor: n.Actor}, esc)
}
