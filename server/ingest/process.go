package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/tocsin/tocsin/envelope"
	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/monitors"
	"github.com/tocsin/tocsin/store"
)

// pending is one accepted request, processed and ready to store.
type pending struct {
	key      *store.IngestKey
	received time.Time
	clientIP string
	env      *store.IngestEnvelope
	// responseID is the event id answered to the client.
	responseID string
	// dropped counts items skipped as invalid, by type, for metrics.
	dropped map[string]int
}

func newPending(k *store.IngestKey, received time.Time, clientIP string) *pending {
	return &pending{key: k, received: received, clientIP: clientIP, dropped: map[string]int{},
		env: &store.IngestEnvelope{ProjectID: k.ProjectID, OrganizationID: k.OrganizationID, Received: received}}
}

// addEvent parses, groups and compresses an event payload. A payload that
// is not an event fails the request with 400.
func (rq *pending) addEvent(payload []byte, envelopeEventID string) error {
	ev, err := event.Parse(payload, event.ParseOptions{Received: rq.received, EventID: envelopeEventID, ClientIP: rq.clientIP})
	if err != nil {
		return err
	}
	return rq.addParsed(ev, "")
}

// dataBuffers keeps the buffers events are encoded into before
// compression; only the compressed copy is kept.
var dataBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func (rq *pending) addParsed(ev *event.Event, kind string) error {
	g := grouping.Group(ev)
	buf := dataBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 256<<10 { // a rare large event's buffer is not kept
			dataBuffers.Put(buf)
		}
	}()
	data, err := event.AppendData((*buf)[:0], ev.Data)
	if err != nil {
		// Data comes from JSON and normalization writes JSON values, so
		// this is a bug; refuse the event rather than store part of it.
		return &event.Error{Reason: "event cannot be stored: " + err.Error()}
	}
	*buf = data
	rq.env.Events = append(rq.env.Events, &store.IngestEvent{
		ProjectID: rq.key.ProjectID, OrganizationID: rq.key.OrganizationID, Event: ev,
		Hash: g.Hash, GroupingVersion: g.Version, Data: store.CompressEventData(data), Size: len(data), Kind: kind,
	})
	if rq.responseID == "" {
		rq.responseID = ev.ID
	}
	return nil
}

// addEnvelope sorts an envelope's items into the store envelope. Items of
// unknown types are skipped, as Relay does; items of known types that do
// not parse are dropped and counted, except events, which fail the request.
func (rq *pending) addEnvelope(env *envelope.Envelope) error {
	rq.responseID = env.Header.EventID
	for i := range env.Items {
		it := &env.Items[i]
		switch it.Type {
		case "event":
			if err := rq.addEvent(it.Payload, env.Header.EventID); err != nil {
				return err
			}
		case "transaction":
			rq.env.Transactions++
		case "attachment":
			if env.Header.EventID == "" {
				rq.dropped[it.Type]++
				continue
			}
			rq.env.Attachments = append(rq.env.Attachments, store.Attachment{EventID: env.Header.EventID,
				Name: it.Filename, ContentType: it.ContentType, AttachmentType: it.AttachmentType, Data: it.Payload})
		case "session":
			if su, ok := parseSession(it.Payload, rq.received); ok {
				rq.env.Sessions = append(rq.env.Sessions, su)
			} else {
				rq.dropped[it.Type]++
			}
		case "sessions":
			if sus, ok := parseSessions(it.Payload, rq.received); ok {
				rq.env.Sessions = append(rq.env.Sessions, sus...)
			} else {
				rq.dropped[it.Type]++
			}
		case "user_report":
			if ur, ok := parseUserReport(it.Payload); ok {
				rq.env.UserReports = append(rq.env.UserReports, ur)
			} else {
				rq.dropped[it.Type]++
			}
		case "feedback":
			if ur, ok := parseFeedback(it.Payload, env.Header.EventID); ok {
				rq.env.UserReports = append(rq.env.UserReports, ur)
			} else {
				rq.dropped[it.Type]++
			}
		case "client_report":
			if ds, ok := parseClientReport(it.Payload); ok {
				rq.env.Discards = append(rq.env.Discards, ds...)
			} else {
				rq.dropped[it.Type]++
			}
		case "check_in":
			if ci, ok := parseCheckIn(it.Payload, rq.received); ok {
				rq.env.CheckIns = append(rq.env.CheckIns, ci)
				if ci.Status == "error" {
					rq.addCheckInFailure(ci)
				}
			} else {
				rq.dropped[it.Type]++
			}
		}
	}
	return nil
}

// addCheckInFailure turns a failed check-in into an event of the monitor's
// issue, so that it reaches the rules engine like any other issue activity.
func (rq *pending) addCheckInFailure(ci store.CheckIn) {
	if rq.addParsed(monitors.FailureEvent(ci.MonitorSlug, ci.Environment, monitors.ReasonError, rq.received), store.ActivityCheckIn) != nil {
		rq.dropped["check_in"]++
	}
}

type sessionPayload struct {
	Started json.RawMessage `json:"started"`
	Init    bool            `json:"init"`
	Status  string          `json:"status"`
	Errors  int64           `json:"errors"`
	Attrs   struct {
		Release     string `json:"release"`
		Environment string `json:"environment"`
	} `json:"attrs"`
}

func decodeStrict(payload []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(payload))
	return dec.Decode(v) == nil
}

// parseSession counts one session update: its start, and its outcome when
// the update ends it (https://develop.sentry.dev/sdk/telemetry/sessions/).
func parseSession(payload []byte, received time.Time) (store.SessionUpdate, bool) {
	var p sessionPayload
	if !decodeStrict(payload, &p) || p.Attrs.Release == "" {
		return store.SessionUpdate{}, false
	}
	su := store.SessionUpdate{Release: p.Attrs.Release, Environment: p.Attrs.Environment, Started: received}
	if t, ok := parseTime(p.Started); ok && !t.After(received) {
		su.Started = t
	}
	if p.Init {
		su.Sessions = 1
	}
	switch p.Status {
	case "crashed":
		su.Crashed = 1
	case "abnormal":
		su.Abnormal = 1
	case "errored":
		su.Errored = 1
	case "exited":
		if p.Errors > 0 {
			su.Errored = 1
		}
	}
	return su, true
}

func parseTime(raw json.RawMessage) (time.Time, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), true
		}
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil && f > 0 {
		return time.Unix(int64(f), 0).UTC(), true
	}
	return time.Time{}, false
}

// parseSessions counts a pre-aggregated sessions item (server-mode SDKs).
func parseSessions(payload []byte, received time.Time) ([]store.SessionUpdate, bool) {
	var p struct {
		Aggregates []struct {
			Started  json.RawMessage `json:"started"`
			Exited   int64           `json:"exited"`
			Errored  int64           `json:"errored"`
			Abnormal int64           `json:"abnormal"`
			Crashed  int64           `json:"crashed"`
		} `json:"aggregates"`
		Attrs struct {
			Release     string `json:"release"`
			Environment string `json:"environment"`
		} `json:"attrs"`
	}
	if !decodeStrict(payload, &p) || p.Attrs.Release == "" {
		return nil, false
	}
	var out []store.SessionUpdate
	for _, a := range p.Aggregates {
		if a.Exited < 0 || a.Errored < 0 || a.Abnormal < 0 || a.Crashed < 0 {
			return nil, false
		}
		su := store.SessionUpdate{Release: p.Attrs.Release, Environment: p.Attrs.Environment, Started: received,
			Sessions: a.Exited + a.Errored + a.Abnormal + a.Crashed, Errored: a.Errored, Crashed: a.Crashed, Abnormal: a.Abnormal}
		if t, ok := parseTime(a.Started); ok && !t.After(received) {
			su.Started = t
		}
		out = append(out, su)
	}
	return out, true
}

func parseUserReport(payload []byte) (store.UserReport, bool) {
	var p struct {
		EventID  string `json:"event_id"`
		Name     string `json:"name"`
		Email    string `json:"email"`
		Comments string `json:"comments"`
	}
	if !decodeStrict(payload, &p) {
		return store.UserReport{}, false
	}
	id := event.NormalizeID(p.EventID)
	if id == "" || p.Comments == "" {
		return store.UserReport{}, false
	}
	return store.UserReport{EventID: id, Name: p.Name, Email: p.Email, Comments: p.Comments}, true
}

// parseFeedback reads the newer feedback item: an event whose
// contexts.feedback holds the message.
func parseFeedback(payload []byte, envelopeEventID string) (store.UserReport, bool) {
	var p struct {
		EventID  string `json:"event_id"`
		Contexts struct {
			Feedback struct {
				Message           string `json:"message"`
				ContactEmail      string `json:"contact_email"`
				Name              string `json:"name"`
				AssociatedEventID string `json:"associated_event_id"`
			} `json:"feedback"`
		} `json:"contexts"`
	}
	if !decodeStrict(payload, &p) || p.Contexts.Feedback.Message == "" {
		return store.UserReport{}, false
	}
	fb := p.Contexts.Feedback
	id := event.NormalizeID(fb.AssociatedEventID)
	if id == "" {
		id = event.NormalizeID(p.EventID)
	}
	if id == "" {
		id = envelopeEventID
	}
	return store.UserReport{EventID: id, Name: fb.Name, Email: fb.ContactEmail, Comments: fb.Message}, true
}

func parseClientReport(payload []byte) ([]store.Discard, bool) {
	var p struct {
		Discarded []struct {
			Reason   string `json:"reason"`
			Category string `json:"category"`
			Quantity int64  `json:"quantity"`
		} `json:"discarded_events"`
	}
	if !decodeStrict(payload, &p) {
		return nil, false
	}
	out := make([]store.Discard, 0, len(p.Discarded))
	for _, d := range p.Discarded {
		if d.Quantity > 0 && d.Category != "" {
			out = append(out, store.Discard{Category: d.Category, Reason: d.Reason, Quantity: d.Quantity})
		}
	}
	return out, true
}

// checkInPayload is a cron check-in (https://develop.sentry.dev/sdk/telemetry/check-ins/).
type checkInPayload struct {
	CheckInID     string   `json:"check_in_id"`
	MonitorSlug   string   `json:"monitor_slug"`
	Status        string   `json:"status"`
	Duration      *float64 `json:"duration"`
	Environment   string   `json:"environment"`
	MonitorConfig *struct {
		Schedule struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
			Unit  string          `json:"unit"`
		} `json:"schedule"`
		CheckinMargin int    `json:"checkin_margin"`
		MaxRuntime    int    `json:"max_runtime"`
		Timezone      string `json:"timezone"`
	} `json:"monitor_config"`
}

func parseCheckIn(payload []byte, received time.Time) (store.CheckIn, bool) {
	var p checkInPayload
	if !decodeStrict(payload, &p) || !validSlug(p.MonitorSlug) {
		return store.CheckIn{}, false
	}
	switch p.Status {
	case "in_progress", "ok", "error":
	default:
		return store.CheckIn{}, false
	}
	ci := store.CheckIn{CheckInID: event.NormalizeID(p.CheckInID), MonitorSlug: p.MonitorSlug, Status: p.Status,
		Environment: p.Environment}
	if ci.CheckInID == "" {
		ci.CheckInID = event.NewID()
	}
	if p.Duration != nil && *p.Duration >= 0 && *p.Duration < 1e9 {
		ms := int64(*p.Duration * 1000)
		ci.DurationMS = &ms
	}
	if c := p.MonitorConfig; c != nil {
		cfg := &store.MonitorConfig{ScheduleType: c.Schedule.Type, Timezone: c.Timezone,
			CheckinMargin: c.CheckinMargin, MaxRuntime: c.MaxRuntime}
		var s string
		var n int
		switch {
		case json.Unmarshal(c.Schedule.Value, &s) == nil:
			cfg.Schedule = s
		case json.Unmarshal(c.Schedule.Value, &n) == nil:
			cfg.Schedule = fmt.Sprintf("%d %s", n, c.Schedule.Unit)
		}
		sched, err := monitors.ParseSchedule(cfg.ScheduleType, cfg.Schedule, cfg.Timezone)
		if err != nil {
			return store.CheckIn{}, false
		}
		ci.Config = cfg
		deadline := monitors.Deadline(sched, received, cfg.CheckinMargin)
		ci.NextExpected = &deadline
	}
	return ci, true
}

func validSlug(s string) bool {
	if s == "" || len(s) > 50 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
