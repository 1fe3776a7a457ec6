package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/store"
)

// The event JSON follows Sentry's EventSerializer
// (src/sentry/api/serializers/models/event.py): the interfaces become
// "entries", frames use camelCase keys.

// eventJSON renders a stored event.
func eventJSON(e *store.StoredEvent, projectSlug string, full bool) map[string]any {
	// Numbers stay json.Number: camelFrames reads line numbers as such,
	// and big integers keep their digits.
	data := decodeObject(e.JSON)
	ev, _ := event.FromData(cloneMap(data), event.ParseOptions{Received: e.Received})
	out := map[string]any{
		"id":           e.EventID,
		"eventID":      e.EventID,
		"groupID":      optionalID(e.IssueID),
		"projectID":    id(e.ProjectID),
		"projectSlug":  projectSlug,
		"title":        e.Title,
		"type":         e.Type,
		"platform":     data["platform"],
		"dateCreated":  e.Timestamp.UTC().Format(time.RFC3339Nano),
		"dateReceived": e.Received.UTC().Format(time.RFC3339Nano),
		"message":      "",
		"culprit":      "",
		"location":     nil,
		"user":         data["user"],
		"tags":         eventTags(ev),
		"size":         len(e.JSON),
		"errors":       []any{},
	}
	if ev != nil {
		out["message"] = ev.Message
		out["culprit"] = ev.DerivedCulprit()
		out["metadata"] = ev.Metadata()
		if ev.Release != "" {
			out["release"] = map[string]any{"version": ev.Release, "shortVersion": ev.Release}
		} else {
			out["release"] = nil
		}
	}
	if !full {
		return out
	}
	out["contexts"] = orEmpty(data["contexts"])
	out["context"] = orEmpty(data["extra"])
	out["sdk"] = data["sdk"]
	out["packages"] = orEmpty(data["modules"])
	out["fingerprints"] = fingerprints(data)
	out["dist"] = data["dist"]
	out["entries"] = entries(data)
	return out
}

func optionalID(n int64) any {
	if n == 0 {
		return nil
	}
	return id(n)
}

func orEmpty(v any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}

func eventTags(ev *event.Event) []map[string]string {
	out := []map[string]string{}
	if ev == nil {
		return out
	}
	for _, t := range ev.IndexTags() {
		out = append(out, map[string]string{"key": t.Key, "value": t.Value})
	}
	return out
}

func fingerprints(data map[string]any) []any {
	if fp, ok := data["fingerprint"].([]any); ok {
		return fp
	}
	return []any{"{{ default }}"}
}

// entries lists the event's interfaces in Sentry's order.
func entries(data map[string]any) []map[string]any {
	var out []map[string]any
	add := func(kind string, v any) {
		if v != nil {
			out = append(out, map[string]any{"type": kind, "data": v})
		}
	}
	if exc, ok := data["exception"].(map[string]any); ok {
		vals, _ := exc["values"].([]any)
		for _, v := range vals {
			if e, ok := v.(map[string]any); ok {
				camelStacktrace(e)
			}
		}
		add("exception", map[string]any{"values": vals, "hasSystemFrames": hasSystemFrames(vals), "excOmitted": nil})
	}
	if st, ok := data["stacktrace"].(map[string]any); ok {
		camelFrames(st)
		add("stacktrace", st)
	}
	if th, ok := data["threads"].(map[string]any); ok {
		vals, _ := th["values"].([]any)
		for _, v := range vals {
			if t, ok := v.(map[string]any); ok {
				camelStacktrace(t)
			}
		}
		add("threads", th)
	}
	if le, ok := data["logentry"].(map[string]any); ok {
		add("message", le)
	}
	if bc, ok := data["breadcrumbs"].(map[string]any); ok {
		add("breadcrumbs", bc)
	}
	if req, ok := data["request"].(map[string]any); ok {
		add("request", req)
	}
	if out == nil {
		out = []map[string]any{}
	}
	return out
}

func hasSystemFrames(excs []any) bool {
	for _, v := range excs {
		e, _ := v.(map[string]any)
		st, _ := e["stacktrace"].(map[string]any)
		frames, _ := st["frames"].([]any)
		for _, f := range frames {
			if fo, _ := f.(map[string]any); fo["inApp"] != true {
				return true
			}
		}
	}
	return false
}

func camelStacktrace(parent map[string]any) {
	if st, ok := parent["stacktrace"].(map[string]any); ok {
		camelFrames(st)
	}
}

// frameKeys maps the protocol's frame keys to the API's.
var frameKeys = map[string]string{
	"abs_path": "absPath", "lineno": "lineNo", "colno": "colNo", "in_app": "inApp",
	"raw_function": "rawFunction", "instruction_addr": "instructionAddr", "symbol_addr": "symbolAddr",
	"image_addr": "imageAddr",
}

// camelFrames renames frame keys and folds pre_context, context_line and
// post_context into Sentry's "context": [[lineNo, line], …].
func camelFrames(st map[string]any) {
	frames, _ := st["frames"].([]any)
	for _, f := range frames {
		fo, ok := f.(map[string]any)
		if !ok {
			continue
		}
		for from, to := range frameKeys {
			if v, ok := fo[from]; ok {
				fo[to] = v
				delete(fo, from)
			}
		}
		var ctx [][2]any
		line, _ := fo["lineNo"].(json.Number)
		n, _ := line.Int64()
		pre, _ := fo["pre_context"].([]any)
		for i, l := range pre {
			ctx = append(ctx, [2]any{n - int64(len(pre)-i), l})
		}
		if cl, ok := fo["context_line"]; ok {
			ctx = append(ctx, [2]any{n, cl})
		}
		post, _ := fo["post_context"].([]any)
		for i, l := range post {
			ctx = append(ctx, [2]any{n + int64(i+1), l})
		}
		delete(fo, "pre_context")
		delete(fo, "context_line")
		delete(fo, "post_context")
		if ctx == nil {
			ctx = [][2]any{}
		}
		fo["context"] = ctx
	}
}

func cloneMap(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	return decodeObject(b)
}

// decodeObject decodes a JSON object with its numbers as json.Number.
func decodeObject(b []byte) map[string]any {
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

func (h *Handler) issueEvents(w http.ResponseWriter, r *http.Request, ir *issueRequest) {
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	evs, err := h.store.EventList(r.Context(), ir.org.ID, ir.issue.ID, pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	full := r.URL.Query().Get("full") == "true" || r.URL.Query().Get("full") == "1"
	slug := h.projectSlug(r, ir.orgRequest, ir.issue.ProjectID)
	paginate(w, pg, evs, func(e *store.StoredEvent) map[string]any { return eventJSON(e, slug, full) })
}

// issueEvent answers …/events/latest/, …/events/oldest/ and …/events/{event_id}/.
func (h *Handler) issueEvent(w http.ResponseWriter, r *http.Request, ir *issueRequest) {
	var (
		e   *store.StoredEvent
		err error
	)
	switch which := r.PathValue("event"); which {
	case "latest", "recommended":
		e, err = h.store.EventEdge(r.Context(), ir.org.ID, ir.issue.ID, true)
	case "oldest":
		e, err = h.store.EventEdge(r.Context(), ir.org.ID, ir.issue.ID, false)
	default:
		e, err = h.store.EventGet(r.Context(), ir.org.ID, ir.issue.ProjectID, event.NormalizeID(which))
		if err == nil && e.IssueID != ir.issue.ID {
			err = store.ErrNotFound
		}
	}
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, eventJSON(e, h.projectSlug(r, ir.orgRequest, ir.issue.ProjectID), true))
}

// projectEvent answers GET /api/0/projects/{org}/{project}/events/{event_id}/.
func (h *Handler) projectEvent(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	e, err := h.store.EventGet(r.Context(), or.org.ID, p.ID, event.NormalizeID(r.PathValue("event")))
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, eventJSON(e, p.Slug, true))
}

func (h *Handler) projectSlug(r *http.Request, or *orgRequest, projectID int64) string {
	p, err := h.store.ProjectGet(r.Context(), or.org.ID, id(projectID))
	if err != nil {
		return ""
	}
	return p.Slug
}
