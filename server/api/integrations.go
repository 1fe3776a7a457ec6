package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/store"
)

// Integrations gives the API what integrations need: the providers it
// knows and the box that seals their secrets. Without it the integration
// endpoints answer 503.
type Integrations struct {
	Providers map[string]*integrations.Provider
	Box       *integrations.SecretBox
}

// SetIntegrations enables the integration endpoints.
func (h *Handler) SetIntegrations(in *Integrations) { h.integrations = in }

type integrationJSON struct {
	ID           string         `json:"id"`
	Provider     string         `json:"provider"`
	Name         string         `json:"name"`
	Config       map[string]any `json:"config"`
	Status       string         `json:"status"`
	StatusReason string         `json:"statusReason,omitempty"`
	DateCreated  time.Time      `json:"dateCreated"`
	DateUpdated  time.Time      `json:"dateUpdated"`
}

// integrationToJSON shows the settings without the secrets, which are
// write-only: the API never returns them.
func integrationToJSON(in *store.Integration) integrationJSON {
	cfg := map[string]any{}
	_ = json.Unmarshal([]byte(in.Config), &cfg)
	return integrationJSON{ID: id(in.ID), Provider: in.Provider, Name: in.Name, Config: cfg, Status: in.Status,
		StatusReason: in.StatusReason, DateCreated: in.DateCreated, DateUpdated: in.DateUpdated}
}

func (h *Handler) needIntegrations(w http.ResponseWriter) bool {
	if h.integrations == nil || h.integrations.Box == nil {
		writeError(w, http.StatusServiceUnavailable, "integrations are not available on this process")
		return false
	}
	return true
}

func (h *Handler) integrationList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	ins, err := h.store.IntegrationList(r.Context(), or.org.ID, pg.page())
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	paginate(w, pg, ins, integrationToJSON)
}

type integrationRequest struct {
	Provider *string        `json:"provider"`
	Name     *string        `json:"name"`
	Config   map[string]any `json:"config"`
}

// settings validates submitted settings for a provider; merge keeps
// secrets that an update leaves out (they are write-only, so clients
// cannot send them back).
func (h *Handler) settings(p *integrations.Provider, submitted map[string]any, keepSecrets map[string]any) (config, secrets map[string]any, err error) {
	config, secrets, err = p.Split(submitted)
	if err != nil {
		return nil, nil, &badRequest{err.Error()}
	}
	for k, v := range keepSecrets {
		if _, ok := secrets[k]; !ok {
			secrets[k] = v
		}
	}
	for _, f := range p.Fields {
		_, inConfig := config[f.Name]
		_, inSecrets := secrets[f.Name]
		if f.Required && !inConfig && !inSecrets {
			return nil, nil, invalidField("config."+f.Name, "This field is required.")
		}
	}
	if p.Validate != nil {
		if err := p.Validate(config, secrets); err != nil {
			return nil, nil, &badRequest{"config: " + err.Error()}
		}
	}
	return config, secrets, nil
}

func (h *Handler) integrationCreate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	if !h.needIntegrations(w) {
		return
	}
	var req integrationRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if req.Provider == nil {
		replyBadRequest(w, invalidField("provider", "This field is required."))
		return
	}
	p, ok := h.integrations.Providers[*req.Provider]
	if !ok {
		names := make([]string, 0, len(h.integrations.Providers))
		for n := range h.integrations.Providers {
			names = append(names, n)
		}
		sort.Strings(names)
		replyBadRequest(w, invalidField("provider", "%q is not one of %v", *req.Provider, names))
		return
	}
	name := *req.Provider
	if req.Name != nil {
		name = *req.Name
	}
	if replyBadRequest(w, checkName("name", name, 128)) {
		return
	}
	config, secrets, err := h.settings(p, req.Config, nil)
	if replyBadRequest(w, err) {
		return
	}
	cfgJSON, _ := json.Marshal(config)
	secJSON, _ := json.Marshal(secrets)
	in, err := h.store.IntegrationCreate(r.Context(), &store.Integration{OrganizationID: or.org.ID, Provider: p.Name,
		Name: name, Config: string(cfgJSON)}, func(id int64) ([]byte, error) { return h.integrations.Box.Seal(secJSON, id) })
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusCreated, integrationToJSON(in))
}

// integration resolves the {integration} path value inside the organization.
func (h *Handler) integration(w http.ResponseWriter, r *http.Request, or *orgRequest) (*store.Integration, bool) {
	return h.integrationByID(w, r, or, r.PathValue("integration"))
}

// integrationByID finds the organization's integration of id raw; a
// malformed id or another organization's integration is 404.
func (h *Handler) integrationByID(w http.ResponseWriter, r *http.Request, or *orgRequest, raw string) (*store.Integration, bool) {
	iid, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "The requested resource does not exist")
		return nil, false
	}
	in, err := h.store.IntegrationGet(r.Context(), or.org.ID, iid)
	if err != nil {
		h.fail(w, r, err, "")
		return nil, false
	}
	return in, true
}

func (h *Handler) integrationGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	if in, ok := h.integration(w, r, or); ok {
		writeJSON(w, http.StatusOK, integrationToJSON(in))
	}
}

func (h *Handler) integrationUpdate(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	if !h.needIntegrations(w) {
		return
	}
	in, ok := h.integration(w, r, or)
	if !ok {
		return
	}
	p, ok := h.integrations.Providers[in.Provider]
	if !ok {
		writeError(w, http.StatusConflict, "the provider "+in.Provider+" is not available")
		return
	}
	var req integrationRequest
	if replyBadRequest(w, decode(w, r, &req)) {
		return
	}
	if req.Provider != nil && *req.Provider != in.Provider {
		replyBadRequest(w, invalidField("provider", "cannot be changed"))
		return
	}
	if req.Name != nil {
		if replyBadRequest(w, checkName("name", *req.Name, 128)) {
			return
		}
		in.Name = *req.Name
	}
	if req.Config != nil {
		old, err := h.openSecrets(in)
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		config, secrets, err := h.settings(p, req.Config, old)
		if replyBadRequest(w, err) {
			return
		}
		cfgJSON, _ := json.Marshal(config)
		secJSON, _ := json.Marshal(secrets)
		in.Config = string(cfgJSON)
		if in.Secrets, err = h.integrations.Box.Seal(secJSON, in.ID); err != nil {
			h.fail(w, r, err, "")
			return
		}
	}
	out, err := h.store.IntegrationUpdate(r.Context(), in)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusOK, integrationToJSON(out))
}

func (h *Handler) openSecrets(in *store.Integration) (map[string]any, error) {
	secrets := map[string]any{}
	if len(in.Secrets) == 0 {
		return secrets, nil
	}
	plain, err := h.integrations.Box.Open(in.Secrets, in.ID)
	if err != nil {
		return nil, fmt.Errorf("integration %d: %w", in.ID, err)
	}
	if err := json.Unmarshal(plain, &secrets); err != nil {
		return nil, fmt.Errorf("integration %d: secrets do not read", in.ID)
	}
	return secrets, nil
}

func (h *Handler) integrationDelete(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	in, ok := h.integration(w, r, or)
	if !ok {
		return
	}
	if err := h.store.IntegrationDelete(r.Context(), or.org.ID, in.ID); err != nil {
		h.fail(w, r, err, "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// integrationTest sends a test notification now, from this process, and
// answers what the service said.
func (h *Handler) integrationTest(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	if !h.needIntegrations(w) {
		return
	}
	in, ok := h.integration(w, r, or)
	if !ok {
		return
	}
	p, ok := h.integrations.Providers[in.Provider]
	if !ok || p.Build == nil {
		writeError(w, http.StatusConflict, "the provider "+in.Provider+" is not available")
		return
	}
	var req struct {
		Target string `json:"target"`
	}
	if replyBadRequest(w, decodeOptional(w, r, &req)) {
		return
	}
	secrets, err := h.openSecrets(in)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	config := map[string]any{}
	_ = json.Unmarshal([]byte(in.Config), &config)
	n, err := p.Build(config, secrets)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	res, err := n.Notify(ctx, &integrations.Notification{Kind: integrations.KindTest, Target: req.Target,
		IdempotencyKey: fmt.Sprintf("test:%d:%d", in.ID, time.Now().UnixNano()), At: time.Now().UTC(),
		Issue: integrations.Issue{Title: "Test notification from Tocsin", ShortID: "TOCSIN-TEST", Level: "info",
			Organization: or.org.Slug, URL: h.baseURL + "/"}})
	out := map[string]any{"ok": err == nil}
	if err != nil {
		out["error"] = err.Error()
		var pe *integrations.PermanentError
		if errors.As(err, &pe) {
			out["reason"], out["status"] = pe.Reason, pe.Status
		}
		var re *integrations.RetryError
		if errors.As(err, &re) {
			out["reason"], out["status"] = re.Reason, re.Status
		}
	} else if res != nil {
		out["status"], out["url"] = res.Status, res.URL
	}
	writeJSON(w, http.StatusOK, out)
}

// deliveryJSON is a row of the delivery log (INTERFACES.md).
type deliveryJSON struct {
	ID            string     `json:"id"`
	Integration   *string    `json:"integration"`
	Provider      string     `json:"provider"`
	Issue         *string    `json:"issue"`
	Rule          *string    `json:"rule"`
	Kind          string     `json:"kind"`
	Target        string     `json:"target"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     *string    `json:"lastError"`
	LastStatus    int        `json:"lastStatus"`
	NextAttempt   *time.Time `json:"nextAttempt"`
	URL           *string    `json:"url"`
	DateCreated   time.Time  `json:"dateCreated"`
	DateDelivered *time.Time `json:"dateDelivered"`
}

func optionalInt(p *int64) *string {
	if p == nil {
		return nil
	}
	s := id(*p)
	return &s
}

func deliveryToJSON(d *store.Delivery) deliveryJSON {
	out := deliveryJSON{ID: id(d.ID), Integration: optionalInt(d.IntegrationID), Provider: d.Provider,
		Issue: optionalInt(d.IssueID), Rule: optionalInt(d.RuleID), Kind: d.Kind, Target: d.Target, Status: d.Status,
		Attempts: d.Attempts, LastError: optional(d.LastError), LastStatus: d.LastStatus, URL: optional(d.URL),
		DateCreated: d.DateCreated, DateDelivered: d.DateDelivered}
	if d.Status == store.DeliveryPending || d.Status == store.DeliveryRetrying {
		t := d.NextAttempt
		out.NextAttempt = &t
	}
	return out
}

func (h *Handler) deliveryList(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	pg, ok := newPager(w, r, h.baseURL)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := &store.DeliveryFilter{Status: q.Get("status"), Page: pg.page()}
	switch f.Status {
	case "", store.DeliveryPending, store.DeliveryDelivered, store.DeliveryRetrying, store.DeliveryFailed:
	default:
		writeError(w, http.StatusBadRequest, "status: expected pending, delivered, retrying or failed")
		return
	}
	for name, dst := range map[string]*int64{"integration": &f.IntegrationID, "issue": &f.IssueID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				writeError(w, http.StatusBadRequest, name+": expected an id")
				return
			}
			*dst = n
		}
	}
	ds, err := h.store.DeliveryList(r.Context(), or.org.ID, f)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	paginate(w, pg, ds, deliveryToJSON)
}

func (h *Handler) deliveryRetry(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	did, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	d, err := h.store.DeliveryRetry(r.Context(), or.org.ID, did)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	writeJSON(w, http.StatusAccepted, deliveryToJSON(d))
}

type attemptJSON struct {
	ID          string     `json:"id"`
	DateStarted time.Time  `json:"dateStarted"`
	DurationMS  int64      `json:"durationMs"`
	Status      int        `json:"httpStatus"`
	Outcome     string     `json:"outcome"`
	Reason      *string    `json:"reason"`
	Error       *string    `json:"error"`
	NextAttempt *time.Time `json:"nextAttempt"`
}

// deliveryGet answers one delivery with its attempts, the log people read
// to see what a service answered each time.
func (h *Handler) deliveryGet(w http.ResponseWriter, r *http.Request, or *orgRequest) {
	did, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	d, attempts, err := h.store.DeliveryGet(r.Context(), or.org.ID, did)
	if err != nil {
		h.fail(w, r, err, "")
		return
	}
	out := struct {
		deliveryJSON
		AttemptLog []attemptJSON `json:"attemptLog"`
	}{deliveryJSON: deliveryToJSON(d), AttemptLog: []attemptJSON{}}
	for _, a := range attempts {
		out.AttemptLog = append(out.AttemptLog, attemptJSON{ID: id(a.ID), DateStarted: a.Started,
			DurationMS: a.Duration.Milliseconds(), Status: a.StatusCode, Outcome: a.Outcome,
			Reason: optional(a.Reason), Error: optional(a.Error), NextAttempt: a.NextAttempt})
	}
	writeJSON(w, http.StatusOK, out)
}
