// Package envelope reads and writes Sentry envelopes, the framing every
// current Sentry SDK uses to send events, sessions, attachments and the rest
// to POST /api/{project_id}/envelope/.
//
// The format is a JSON header line, then items, each a JSON header line and a
// payload: https://develop.sentry.dev/sdk/data-model/envelopes/. Parsing
// follows Relay (relay-server/src/envelope/mod.rs and item.rs), the server
// that accepts envelopes for Sentry, so that whatever Sentry takes Tocsin
// takes too, and it is hardened for hostile input: sizes are checked while
// reading, and every failure is an *Error carrying the HTTP status to answer.
package envelope

import "time"

// Header is the envelope's first line. The fields Tocsin uses are typed; Raw
// keeps every header as sent (numbers as json.Number) so that nothing is lost
// when an envelope is written again.
type Header struct {
	// EventID is the event the envelope carries, as 32 lowercase hex digits,
	// or "" when the header has none (session-only envelopes, for example).
	EventID string
	// DSN is the client's DSN when it put one in the header; ingest may
	// authenticate with it when neither X-Sentry-Auth nor sentry_key is sent.
	DSN string
	// SentAt is when the SDK sent the envelope, for clock-drift correction;
	// zero when absent or unreadable (Relay only uses it as a hint).
	SentAt time.Time
	// SDK names the client, nil when the header has no usable "sdk" object.
	SDK *SDKInfo
	// Raw is the whole header object, including the fields above.
	Raw map[string]any
}

// SDKInfo is the "sdk" object of an envelope header.
type SDKInfo struct {
	Name         string    `json:"name,omitempty"`
	Version      string    `json:"version,omitempty"`
	Integrations []string  `json:"integrations,omitempty"`
	Packages     []Package `json:"packages,omitempty"`
}

// Package is one entry of SDKInfo.Packages.
type Package struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// Item is one envelope item: its headers and its payload. Items of types
// Tocsin does not know are kept, so that the caller decides what to skip.
type Item struct {
	// Type is the "type" header: event, transaction, attachment, session, …
	Type string
	// ContentType, Filename and AttachmentType are the headers of the same
	// name ("content_type", "filename", "attachment_type"), "" when absent.
	ContentType    string
	Filename       string
	AttachmentType string
	// Length is the "length" header as declared, -1 when the item had none
	// (its payload then ran to the end of the line). Write ignores it and
	// always declares len(Payload).
	Length int
	// Headers is the whole item header object as sent, numbers as
	// json.Number; Write uses it for headers that have no typed field.
	Headers map[string]any
	// Payload is the item's body, never including the newline after it.
	Payload []byte
}

// Envelope is a parsed envelope.
type Envelope struct {
	Header Header
	Items  []Item
}
