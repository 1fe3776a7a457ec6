package envelope

import (
	"bytes"
	"encoding/json"
	"math"
	"time"
	"unicode/utf8"

	"github.com/tocsin/tocsin/event"
)

// decodeEnvelopeHeader decodes the envelope's header line.
func decodeEnvelopeHeader(line []byte, lineNo int) (Header, error) {
	raw, err := decodeObject(line, "envelope header", lineNo)
	if err != nil {
		return Header{}, err
	}
	h := Header{Raw: raw}
	// Relay deserializes event_id as a UUID and refuses the envelope when it
	// is not one; sent_at only corrects clock drift, so a bad one is ignored.
	switch v := raw["event_id"].(type) {
	case nil:
	case string:
		id := event.NormalizeID(v)
		ok := id != ""
		if !ok {
			return Header{}, malformed("invalid envelope header on line %d: event_id is not a UUID", lineNo)
		}
		h.EventID = id
	default:
		return Header{}, malformed("invalid envelope header on line %d: event_id is not a string", lineNo)
	}
	switch v := raw["dsn"].(type) {
	case nil:
	case string:
		h.DSN = v
	default:
		return Header{}, malformed("invalid envelope header on line %d: dsn is not a string", lineNo)
	}
	if s, ok := raw["sent_at"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			h.SentAt = t
		}
	}
	if m, ok := raw["sdk"].(map[string]any); ok {
		h.SDK = sdkInfo(m)
	}
	return h, nil
}

// decodeItemHeader decodes an item's header line into an Item without payload.
func decodeItemHeader(line []byte, lineNo int) (Item, error) {
	raw, err := decodeObject(line, "item header", lineNo)
	if err != nil {
		return Item{}, err
	}
	item := Item{Headers: raw, Length: -1}
	t, ok := raw["type"].(string)
	if !ok {
		return Item{}, malformed("invalid item header on line %d: no type", lineNo)
	}
	item.Type = t
	switch v := raw["length"].(type) {
	case nil:
	case json.Number:
		// Relay reads length as a u32.
		n, err := v.Int64()
		if err != nil || n < 0 || n > math.MaxUint32 {
			return Item{}, malformed("invalid item header on line %d: length %s is not a 32-bit unsigned integer", lineNo, v)
		}
		item.Length = int(n)
	default:
		return Item{}, malformed("invalid item header on line %d: length is not a number", lineNo)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"content_type", &item.ContentType},
		{"filename", &item.Filename},
		{"attachment_type", &item.AttachmentType},
	} {
		switch v := raw[f.key].(type) {
		case nil:
		case string:
			*f.dst = v
		default:
			return Item{}, malformed("invalid item header on line %d: %s is not a string", lineNo, f.key)
		}
	}
	return item, nil
}

// decodeObject decodes a header line that must be one JSON object, checking
// first what encoding/json would let through: invalid UTF-8 (which it
// replaces silently) and deep nesting (which it allows to depth 10000).
func decodeObject(line []byte, what string, lineNo int) (map[string]any, error) {
	if !utf8.Valid(line) {
		return nil, malformed("invalid %s on line %d: not valid UTF-8", what, lineNo)
	}
	if event.JSONDepth(line) > maxHeaderDepth {
		return nil, malformed("invalid %s on line %d: JSON nested deeper than %d levels", what, lineNo, maxHeaderDepth)
	}
	if line[0] != '{' {
		return nil, malformed("invalid %s on line %d: not a JSON object", what, lineNo)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, malformed("invalid %s on line %d: %v", what, lineNo, err)
	}
	if dec.More() || dec.InputOffset() != int64(len(line)) {
		return nil, malformed("invalid %s on line %d: data after the JSON object", what, lineNo)
	}
	return m, nil
}

// sdkInfo reads the fields of an "sdk" header object that have the expected
// types and ignores the rest: the SDK name is informational, never a reason
// to refuse an envelope.
func sdkInfo(m map[string]any) *SDKInfo {
	s := &SDKInfo{}
	s.Name, _ = m["name"].(string)
	s.Version, _ = m["version"].(string)
	if list, ok := m["integrations"].([]any); ok {
		for _, v := range list {
			if name, ok := v.(string); ok {
				s.Integrations = append(s.Integrations, name)
			}
		}
	}
	if list, ok := m["packages"].([]any); ok {
		for _, v := range list {
			if p, ok := v.(map[string]any); ok {
				name, _ := p["name"].(string)
				version, _ := p["version"].(string)
				s.Packages = append(s.Packages, Package{Name: name, Version: version})
			}
		}
	}
	return s
}
