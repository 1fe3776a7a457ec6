package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/summaries"
)

// The scheduled summary endpoints are Tocsin's own (Sentry has none); they
// follow the rule endpoints: the same scopes, ids as strings, and 400s
// with Sentry's {"field": ["message", …]} body.

// Summary field limits.
const (
	maxSummaryName     = 128
	maxSummarySchedule = 128
	maxSummaryTarget   = 1024
	summaryNextRuns    = 5 // the runs a summary's JSON shows
)

// summaryProviders are the integration providers that render summaries.
var summaryProviders = map[string]bool{"slack": true, "email": true}

type summaryJSON struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Schedule    string      `json:"schedule"`
	Timezone    string      `json:"timezone"`
	Integration *string     `json:"integration"`
	Target      string      `json:"target"`
	NextRuns    []time.Time `json:"nextRuns"`
	LastRun     *time.Time  `json:"lastRun"`
	DateCreated time.Time   `json:"dateCreated"`
}

// summaryToJSON shows a summary with its next runs after now; a stored
// schedule that no longer reads shows none.
func summaryToJSON(sm *store.Summary, now time.Time) summaryJSON {
	out := summaryJSON{ID: id(sm.ID), Name: sm.Name, Schedule: sm.Schedule, Timezone: sm.Timezone,
		Integration: optionalInt(sm.IntegrationID), Target: sm.Target, NextRuns: []time.Time{},
		DateCreated: sm.DateCreated.UTC()}
	if sched, err := summaries.Parse(sm.Schedule, sm.Timezone); err == nil {
		out.NextRuns = append(out.NextRuns, sched.NextRuns(now, summaryNextRuns)...)
	}
	if sm.LastRun != nil {
		t := sm.LastRun.UTC()
		out.LastRun = &t
	}
	return out
}

// summaryRequest is the body of POST and PUT …/summaries/. Each field is
// read on its own so that a wrong type is reported under its name; fields
// left out keep their value (PUT) or default (POST).
type summaryRequest struct {
	Name        json.RawMessage `json:"name"`
	Schedule    json.RawMessage `json:"schedule"`
	Timezone    json.RawMessage `json:"timezone"`
	Integration json.RawMessage `json:"integration"`
	Target      json.RawMessage `json:"target"`
}

// summary resolves the {project} and {summary} path values inside the
// organization; a summary of another project or organization is 404.
func (h *Handler) summary(w http.ResponseWriter, r *http.Request, or *orgRequest) (*store.Project, *store.Summary, bool) {
	return projectChild(h, w, r, or, "summary", h.store.SummaryGet)
}

func (h *Handler) summaryList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	now := time.Now().UTC()
	projectList(h, w, r, or, h.store.SummaryList, func(sm *store.Summary) summaryJSON { return summaryToJSON(sm, now) })
}

func (h *Handler) summaryCreate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, ok := h.project(w, r, or)
	if !ok {
		return
	}
	var req summaryRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	sm := &store.Summary{ProjectID: p.ID, Timezone: "UTC", CreatedBy: &or.user.ID}
	now := time.Now().UTC()
	if !h.checkSummary(w, r, or, &req, sm, now, true) {
		return
	}
	created, err := h.store.SummaryCreate(r.Context(), or.org.ID, sm)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusCreated, summaryToJSON(created, now))
}

func (h *Handler) summaryGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	_, sm, ok := h.summary(w, r, or)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, summaryToJSON(sm, time.Now().UTC()))
}

// summaryUpdate answers PUT …/summaries/{summary}/: fields left out keep
// their values; a changed schedule or time zone moves the next run.
func (h *Handler) summaryUpdate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	_, sm, ok := h.summary(w, r, or)
	if !ok {
		return
	}
	var req summaryRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	now := time.Now().UTC()
	if !h.checkSummary(w, r, or, &req, sm, now, false) {
		return
	}
	updated, err := h.store.SummaryUpdate(r.Context(), or.org.ID, sm)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, summaryToJSON(updated, now))
}

func (h *Handler) summaryDelete(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	p, sm, ok := h.summary(w, r, or)
	if !ok {
		return
	}
	if err := h.store.SummaryDelete(r.Context(), or.org.ID, p.ID, sm.ID); err != nil {
		h.fail(w, r, err, "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// summarySendNow queues the summary now, outside its schedule, reporting
// on the period since its last run; its schedule is unchanged.
func (h *Handler) summarySendNow(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	_, sm, ok := h.summary(w, r, or)
	if !ok {
		return
	}
	provider := "" // the built-in email
	if sm.IntegrationID != nil {
		in, err := h.store.IntegrationGet(r.Context(), or.org.ID, *sm.IntegrationID)
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		provider = in.Provider
	}
	if err := summaries.Queue(r.Context(), h.store, sm, provider, time.Now().UTC()); err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]bool{"queued": true})
}

// checkSummary applies a request to a summary and validates the result;
// it answers 400 itself, with Sentry's {"field": ["message", …]} body, and
// reports whether the summary may be saved. On create the name and the
// schedule are required. NextRun is set when the summary is new or its
// schedule or time zone changed.
func (h *Handler) checkSummary(w http.ResponseWriter, r *http.Request, or *orgRequest, req *summaryRequest,
	sm *store.Summary, now time.Time, create bool) bool {
	fe := rules.FieldErrors{}
	oldSchedule, oldTimezone := sm.Schedule, sm.Timezone

	str := func(field string, raw json.RawMessage, nullable bool, dst *string) {
		readString(fe, field, raw, nullable, create && !nullable, dst)
	}
	str("name", req.Name, false, &sm.Name)
	str("schedule", req.Schedule, false, &sm.Schedule)
	str("timezone", req.Timezone, true, &sm.Timezone)
	str("target", req.Target, true, &sm.Target)
	sm.Schedule = strings.TrimSpace(sm.Schedule)
	sm.Timezone = strings.TrimSpace(sm.Timezone)
	sm.Target = strings.TrimSpace(sm.Target)
	if sm.Timezone == "" {
		sm.Timezone = "UTC"
	}

	if _, bad := fe["name"]; !bad {
		if err := checkName("name", sm.Name, maxSummaryName); err != nil {
			addError(fe, "name", "%s", fieldMessage("name", err))
		}
	}
	checkSchedule(sm, fe, now, create || sm.Schedule != oldSchedule || sm.Timezone != oldTimezone)

	if req.Integration != nil {
		if isNull(req.Integration) {
			sm.IntegrationID = nil
		} else if n, ok := parseInt(req.Integration); ok && n > 0 {
			sm.IntegrationID = &n
		} else {
			addError(fe, "integration", "%s is not an integration id.", strings.TrimSpace(string(req.Integration)))
		}
	}
	provider := "" // the built-in email
	if _, bad := fe["integration"]; !bad && sm.IntegrationID != nil {
		var err error
		if provider, err = h.summaryProvider(r.Context(), or, *sm.IntegrationID, fe); err != nil {
			h.fail(w, r, err, "")
			return false
		}
	}
	if _, bad := fe["target"]; !bad {
		if _, badIntegration := fe["integration"]; !badIntegration {
			if msg := summaryTargetError(provider, sm.IntegrationID == nil, sm.Target); msg != "" {
				addError(fe, "target", "%s", msg)
			}
		}
	}
	if len(fe) > 0 {
		writeJSON(w, http.StatusBadRequest, fe)
		return false
	}
	return true
}

// checkSchedule validates the summary's time zone and schedule, each under
// its own field, and sets its next run after now when reschedule is set.
func checkSchedule(sm *store.Summary, fe rules.FieldErrors, now time.Time, reschedule bool) {
	_, badSchedule := fe["schedule"]
	_, badTimezone := fe["timezone"]
	if !badTimezone && sm.Timezone == "Local" {
		// The server's own zone, which is nobody's.
		addError(fe, "timezone", "timezone %q is not a time zone name such as Asia/Shanghai", sm.Timezone)
		badTimezone = true
	}
	if !badTimezone {
		// A schedule that always reads, to ask about the time zone alone.
		if _, err := summaries.Parse("@daily", sm.Timezone); err != nil {
			addError(fe, "timezone", "%s", err.Error())
			badTimezone = true
		}
	}
	if badSchedule {
		return
	}
	if sm.Schedule == "" {
		addError(fe, "schedule", "This field may not be blank.")
		return
	}
	if utf8.RuneCountInString(sm.Schedule) > maxSummarySchedule {
		addError(fe, "schedule", "Ensure this field has no more than %d characters.", maxSummarySchedule)
		return
	}
	tz := sm.Timezone
	if badTimezone {
		tz = "" // still say what is wrong with the schedule
	}
	sched, err := summaries.Parse(sm.Schedule, tz)
	if err != nil {
		addError(fe, "schedule", "%s", err.Error())
		return
	}
	next := sched.Next(now)
	if next.IsZero() {
		addError(fe, "schedule", "schedule %q never runs.", sm.Schedule)
		return
	}
	if reschedule && !badTimezone {
		sm.NextRun = next
	}
}

// summaryProvider returns the provider of the organization's integration
// n, recording under "integration" why it cannot send summaries.
func (h *Handler) summaryProvider(ctx context.Context, or *orgRequest, n int64, fe rules.FieldErrors) (string, error) {
	in, err := h.store.IntegrationGet(ctx, or.org.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		addError(fe, "integration", "%q is not an integration of this organization.", id(n))
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !summaryProviders[in.Provider] {
		addError(fe, "integration", "integration %d is a %s integration, which cannot send summaries; use a slack or email integration.",
			n, in.Provider)
	}
	return in.Provider, nil
}

// summaryTargetError says what is wrong with a summary's target, or "".
// The built-in email needs addresses; an email integration takes
// addresses, user:EMAIL and team:SLUG, or none for its own recipients; a
// Slack target is a channel, or none for the default channel.
func summaryTargetError(provider string, builtin bool, target string) string {
	switch {
	case !utf8.ValidString(target):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(target) > maxSummaryTarget:
		return "Ensure this field has no more than " + strconv.Itoa(maxSummaryTarget) + " characters."
	case strings.ContainsFunc(target, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "must not contain control characters"
	case builtin && target == "":
		return "Give the email addresses to send the summary to (comma-separated), or an integration."
	case builtin:
		if _, err := mail.ParseAddressList(target); err != nil {
			return strconv.Quote(target) + " is not a list of email addresses: " + err.Error()
		}
	case provider == "email" && target != "":
		for _, e := range strings.Split(target, ",") {
			e = strings.TrimSpace(e)
			if kind, ref, found := strings.Cut(e, ":"); found && (kind == "user" || kind == "team") && ref != "" {
				continue
			}
			if _, err := mail.ParseAddress(e); err != nil {
				return strconv.Quote(e) + " is not an email address, user:EMAIL or team:SLUG."
			}
		}
	}
	return ""
}

// fieldMessage is an invalidField error's message without its field.
func fieldMessage(field string, err error) string {
	return strings.TrimPrefix(err.Error(), field+": ")
}
