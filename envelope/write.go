package envelope

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"time"
)

// Write serializes e. Header.Raw and each Item.Headers are the base; the
// typed fields override them where set (non-empty, non-zero, non-nil). Every
// item is written with a "length" equal to len(Payload), whatever Item.Length
// says, so that any payload, binary or with newlines, frames correctly.
func (e *Envelope) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	if err := writeJSONLine(bw, e.Header.object()); err != nil {
		return fmt.Errorf("envelope: write header: %w", err)
	}
	for i := range e.Items {
		it := &e.Items[i]
		if err := writeJSONLine(bw, it.object()); err != nil {
			return fmt.Errorf("envelope: write header of item %d (%s): %w", i+1, it.Type, err)
		}
		if _, err := bw.Write(it.Payload); err != nil {
			return fmt.Errorf("envelope: write payload of item %d (%s): %w", i+1, it.Type, err)
		}
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("envelope: write payload of item %d (%s): %w", i+1, it.Type, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("envelope: write: %w", err)
	}
	return nil
}

// object returns the header as the JSON object to write.
func (h *Header) object() map[string]any {
	m := maps.Clone(h.Raw)
	if m == nil {
		m = map[string]any{}
	}
	if h.EventID != "" {
		m["event_id"] = h.EventID
	}
	if h.DSN != "" {
		m["dsn"] = h.DSN
	}
	if !h.SentAt.IsZero() {
		m["sent_at"] = h.SentAt.UTC().Format(time.RFC3339Nano)
	}
	if h.SDK != nil {
		sdk := map[string]any{}
		if old, ok := m["sdk"].(map[string]any); ok {
			sdk = maps.Clone(old)
		}
		if h.SDK.Name != "" {
			sdk["name"] = h.SDK.Name
		}
		if h.SDK.Version != "" {
			sdk["version"] = h.SDK.Version
		}
		if h.SDK.Integrations != nil {
			sdk["integrations"] = h.SDK.Integrations
		}
		if h.SDK.Packages != nil {
			sdk["packages"] = h.SDK.Packages
		}
		m["sdk"] = sdk
	}
	return m
}

// object returns the item's header as the JSON object to write.
func (it *Item) object() map[string]any {
	m := maps.Clone(it.Headers)
	if m == nil {
		m = map[string]any{}
	}
	m["type"] = it.Type
	m["length"] = len(it.Payload)
	if it.ContentType != "" {
		m["content_type"] = it.ContentType
	}
	if it.Filename != "" {
		m["filename"] = it.Filename
	}
	if it.AttachmentType != "" {
		m["attachment_type"] = it.AttachmentType
	}
	return m
}

// writeJSONLine writes v as one line of JSON. encoding/json never writes a
// raw newline, so the line cannot break the framing.
func writeJSONLine(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends the line with '\n'
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
