package webhooks

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/integrations/webhook"
	"github.com/tocsin/tocsin/store"
)

// Bridge mode: an existing Sentry server sends its integration-platform
// webhooks (https://docs.sentry.io/organization/integrations/integration-platform/webhooks/)
// to POST /webhooks/sentry/{integration id}. Each becomes an issue activity
// of the integration's mirrored project, so Tocsin's rules, digests and
// integrations serve teams that keep their Sentry:
//
//   - issue.created, event_alert.triggered and error.created store an event
//     of the mirrored issue (one Tocsin issue per Sentry issue, by
//     fingerprint): the first is a new issue, later ones events, and one
//     on a resolved mirror a regression — the same activities as ingest.
//   - issue.unresolved (Sentry's regression or reopening) stores an event
//     too, so a resolved mirror regresses.
//   - issue.resolved and issue.ignored change the mirror's status.
//
// Sentry retries webhooks; the event id derives from the request, so a
// retry is stored once.

func (h *Handler) sentryBridge(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	iid, err := strconv.ParseInt(r.PathValue("integration"), 10, 64)
	if err != nil {
		reply(w, http.StatusNotFound, "no such integration")
		return
	}
	in, secrets, err := h.bridgeIntegration(r, iid)
	if err != nil {
		h.fail(w, err)
		return
	}
	secret, _ := secrets["client_secret"].(string)
	if in == nil || secret == "" || !validHookSignature(body, secret, r.Header.Get("Sentry-Hook-Signature")) {
		reply(w, http.StatusUnauthorized, "Sentry-Hook-Signature does not match the integration's client secret")
		return
	}
	var cfg struct {
		Project string `json:"project"`
	}
	_ = json.Unmarshal([]byte(in.Config), &cfg)
	project, err := h.store.ProjectGet(r.Context(), in.OrganizationID, cfg.Project)
	if errors.Is(err, store.ErrNotFound) {
		reply(w, http.StatusConflict, "the integration's project "+cfg.Project+" does not exist")
		return
	}
	if err != nil {
		h.fail(w, err)
		return
	}
	var p struct {
		Action string         `json:"action"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Data == nil {
		reply(w, http.StatusBadRequest, "the body is not a Sentry webhook: want {action, data}")
		return
	}
	resource := r.Header.Get("Sentry-Hook-Resource")
	switch {
	case resource == "issue" && (p.Action == "resolved" || p.Action == "ignored" || p.Action == "archived"):
		err = h.mirrorStatus(r, in.OrganizationID, project, p.Data, p.Action)
	case resource == "issue" && (p.Action == "created" || p.Action == "unresolved"),
		resource == "event_alert" && p.Action == "triggered",
		resource == "error" && p.Action == "created":
		err = h.mirrorEvent(r, in.OrganizationID, project, resource, p.Action, p.Data)
	default:
		w.WriteHeader(http.StatusNoContent) // installation, comments, metric alerts: nothing to mirror
		return
	}
	if err != nil {
		var ve *event.Error
		if errors.As(err, &ve) {
			reply(w, http.StatusBadRequest, ve.Reason)
			return
		}
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// bridgeIntegration loads a sentry integration by id with its secrets.
func (h *Handler) bridgeIntegration(r *http.Request, id int64) (*store.Integration, map[string]any, error) {
	ins, err := h.store.IntegrationsByProvider(r.Context(), "sentry")
	if err != nil {
		return nil, nil, err
	}
	for _, in := range ins {
		if in.ID != id {
			continue
		}
		return in, secrets(in, h.box), nil
	}
	return nil, nil, nil
}

func validHookSignature(body []byte, secret, got string) bool {
	want := webhook.Sign(body, secret)
	return got != "" && hmac.Equal([]byte(want), []byte(strings.ToLower(got)))
}

// sentryIssue is the part of Sentry's issue (or event) JSON a mirror uses.
type sentryIssue struct {
	ID       string
	Title    string
	Culprit  string
	Level    string
	Platform string
}

func readSentryIssue(m map[string]any) sentryIssue {
	s := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	out := sentryIssue{ID: s("id"), Title: s("title"), Culprit: s("culprit"), Level: s("level"), Platform: s("platform")}
	if out.ID == "" {
		out.ID = s("issue_id")
	}
	if out.ID == "" {
		out.ID = s("group_id")
	}
	return out
}

// mirrorFingerprint groups every webhook of one Sentry issue into one Tocsin issue.
func mirrorFingerprint(sentryIssueID string) []any { return []any{"sentry-bridge", sentryIssueID} }

// mirrorEvent stores an event of the mirrored issue.
func (h *Handler) mirrorEvent(r *http.Request, orgID int64, project *store.Project, resource, action string, data map[string]any) error {
	var payload map[string]any
	switch resource {
	case "issue":
		payload, _ = data["issue"].(map[string]any)
	default:
		payload, _ = data["event"].(map[string]any)
		if payload == nil {
			payload, _ = data["error"].(map[string]any)
		}
	}
	if payload == nil {
		return &event.Error{Reason: fmt.Sprintf("%s.%s without its issue or event in data", resource, action)}
	}
	si := readSentryIssue(payload)
	if si.ID == "" {
		return &event.Error{Reason: "the webhook names no Sentry issue id"}
	}
	ev := map[string]any{}
	// Events (event_alert, error) carry the whole Sentry event: keep it,
	// so filters on tags, exception type or level work on the mirror.
	if resource != "issue" {
		for k, v := range payload {
			ev[k] = v
		}
	}
	ev["event_id"] = bridgeEventID(r, resource, action, si.ID)
	ev["fingerprint"] = mirrorFingerprint(si.ID)
	if _, ok := ev["message"]; !ok && si.Title != "" && ev["exception"] == nil {
		ev["message"] = si.Title
	}
	if si.Culprit != "" {
		ev["culprit"] = si.Culprit
	}
	if si.Level != "" {
		ev["level"] = si.Level
	}
	if si.Platform != "" {
		ev["platform"] = si.Platform
	}
	tags, _ := ev["tags"].([]any)
	ev["tags"] = append(tags, []any{"sentry.issue", si.ID})
	now := h.now().UTC()
	parsed, err := event.FromData(ev, event.ParseOptions{Received: now})
	if err != nil {
		return err
	}
	g := grouping.Group(parsed)
	js, _ := json.Marshal(parsed.Data)
	return h.store.IngestBatch(r.Context(), []*store.IngestEnvelope{{ProjectID: project.ID, OrganizationID: orgID,
		Received: now, Events: []*store.IngestEvent{{ProjectID: project.ID, OrganizationID: orgID, Event: parsed,
			Hash: g.Hash, GroupingVersion: g.Version, Data: store.CompressEventData(js), Size: len(js)}}}})
}

// bridgeEventID derives the event id from the delivery, so a webhook that
// Sentry retries is stored once.
func bridgeEventID(r *http.Request, resource, action, issueID string) string {
	key := r.Header.Get("Request-ID")
	if key == "" {
		key = r.Header.Get("Sentry-Hook-Timestamp")
	}
	sum := md5.Sum([]byte(strings.Join([]string{resource, action, issueID, key}, "\x00")))
	return hex.EncodeToString(sum[:])
}

// mirrorStatus resolves or ignores the mirror of a Sentry issue; a Sentry
// issue never mirrored is left alone.
func (h *Handler) mirrorStatus(r *http.Request, orgID int64, project *store.Project, data map[string]any, action string) error {
	payload, _ := data["issue"].(map[string]any)
	si := readSentryIssue(payload)
	if si.ID == "" {
		return &event.Error{Reason: "the webhook names no Sentry issue id"}
	}
	probe, err := event.FromData(map[string]any{"fingerprint": mirrorFingerprint(si.ID)}, event.ParseOptions{Received: time.Now()})
	if err != nil {
		return err
	}
	id, err := h.store.IssueIDByHash(r.Context(), project.ID, grouping.Group(probe).Hash)
	if err != nil || id == 0 {
		return err
	}
	status := store.StatusResolved
	if action != "resolved" {
		status = store.StatusIgnored
	}
	return h.setStatus(r.Context(), orgID, id, status, store.IgnoreOptions{})
}
