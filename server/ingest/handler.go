// Package ingest is Tocsin's Sentry-compatible intake: the envelope and
// legacy store endpoints that the official SDKs and sentry-cli send to. It
// authenticates the DSN key, bounds sizes and decompression, applies rate
// limits and quotas, turns the payload into events (normalized, scrubbed,
// grouped) and answers 200 only once they are committed, through a group
// commit that shares one transaction among concurrent requests.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/envelope"
	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/store"
)

// Config tunes ingest.
type Config struct {
	// Writers is the number of concurrent group-commit writers: 1 on
	// SQLite (one writer connection), more on PostgreSQL.
	Writers int
	// MaxBatch bounds the envelopes of one transaction.
	MaxBatch int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Handoff, when set, takes the activities of stored events in this
	// process (a process that also evaluates rules).
	Handoff Handoff
}

// Handoff takes the outbox entries of committed events in the process
// that stored them, with the events as parsed, so that the rules engine
// does not read and parse them back. The entries are written leased, so
// no other worker takes them unless this process dies first; room is
// reserved before the commit, so that a full hand-off never blocks ingest
// (the entries are then written unleased, for any worker).
type Handoff interface {
	// Reserve asks room for n entries and says until when to lease them.
	Reserve(n int) (until time.Time, ok bool)
	// Hand gives the committed entries of a reservation of n.
	Hand(entries []*store.OutboxEntry, reserved int)
	// Release gives back a reservation whose commit failed.
	Release(n int)
}

// Size limits, as INTERFACES.md and Sentry's long-standing ones: 20 MB on
// the wire, 100 MB decompressed, 1 MB per event (Relay's per-item limits
// for the rest, see envelope.DefaultLimits).
const (
	maxCompressed = 20 << 20
	maxEnvelope   = 100 << 20
	maxEventBytes = 1 << 20
)

// Handler serves the ingest endpoints.
type Handler struct {
	store   *store.Store
	log     *slog.Logger
	now     func() time.Time
	keys    *keyCache
	limiter *limiter
	batcher *batcher
	envLim  envelope.Limits
	m       *metrics
}

// New starts ingest's writers; Stop ends them.
func New(cfg Config, st *store.Store, log *slog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 1
		if st.Engine() == store.Postgres {
			cfg.Writers = 4
		}
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 128
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	b, err := newBatcher(st, cfg.Writers, cfg.MaxBatch, cfg.Handoff, log, reg)
	if err != nil {
		return nil, err
	}
	lim := envelope.DefaultLimits()
	lim.MaxEnvelopeBytes = maxEnvelope
	return &Handler{store: st, log: log, now: cfg.Now, keys: newKeyCache(st, cfg.Now),
		limiter: newLimiter(st, cfg.Now), batcher: b, envLim: lim, m: m}, nil
}

// Register adds the ingest routes. Both endpoints answer with and without
// the trailing slash, as Relay does.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, p := range []string{"/api/{project_id}/envelope/{$}", "/api/{project_id}/envelope"} {
		mux.HandleFunc("POST "+p, h.envelope)
		mux.HandleFunc("OPTIONS "+p, h.preflight)
	}
	for _, p := range []string{"/api/{project_id}/store/{$}", "/api/{project_id}/store"} {
		mux.HandleFunc("POST "+p, h.storeEndpoint)
		mux.HandleFunc("OPTIONS "+p, h.preflight)
	}
}

// Stop stores what is queued and stops the writers. Call it after the HTTP
// server stopped, so no request is waiting.
func (h *Handler) Stop() { h.batcher.stop() }

// reject answers an ingest error as Relay does: JSON {"detail"} and the
// X-Sentry-Error header, and counts it by reason.
func (h *Handler) reject(w http.ResponseWriter, status int, reason, detail string) {
	h.m.rejected.WithLabelValues(reason).Inc()
	w.Header().Set("X-Sentry-Error", detail)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

// fail answers err with its status: body, envelope and event errors carry
// theirs; anything else is the store's trouble and answered 503, so that
// SDKs try again later rather than count the event as delivered.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		be *BodyError
		ee *envelope.Error
		ve *event.Error
		ae *authError
	)
	switch {
	case errors.As(err, &ae):
		h.reject(w, ae.status, "auth", ae.reason)
	case errors.As(err, &be):
		h.reject(w, be.Status, "body", be.Reason)
	case errors.As(err, &ee):
		h.reject(w, ee.Status, "envelope", ee.Reason)
	case errors.As(err, &ve):
		h.reject(w, http.StatusBadRequest, "event", ve.Reason)
	case errors.Is(err, context.Canceled):
		h.m.rejected.WithLabelValues("client_gone").Inc()
	default:
		h.log.Error("ingest failed", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "10")
		h.reject(w, http.StatusServiceUnavailable, "store", "the event could not be stored; try again later")
	}
}

// authenticate resolves the request's key and checks it may send to the
// project in the path. extra are keys found in the body (the envelope
// header's dsn).
func (h *Handler) authenticate(r *http.Request, extra ...credentials) (*store.IngestKey, error) {
	c, found, err := requestCredentials(r)
	if err != nil {
		return nil, err
	}
	if found {
		extra = append([]credentials{c}, extra...)
	}
	if c, found, err = mergeCredentials(extra); err != nil {
		return nil, err
	}
	if !found {
		return nil, &authError{http.StatusUnauthorized, "missing authorization information"}
	}
	if len(c.Public) != 32 {
		return nil, &authError{http.StatusUnauthorized, "invalid api key"}
	}
	k, err := h.keys.get(r.Context(), c.Public)
	if err != nil {
		return nil, fmt.Errorf("look up key: %w", err)
	}
	if k == nil {
		return nil, &authError{http.StatusUnauthorized, "unknown public key"}
	}
	if c.Secret != "" && c.Secret != k.Secret {
		return nil, &authError{http.StatusUnauthorized, "invalid secret key"}
	}
	if pid := r.PathValue("project_id"); pid != strconv.FormatInt(k.ProjectID, 10) && pid != k.ProjectSlug {
		return nil, &authError{http.StatusUnauthorized, "the key does not belong to project " + pid}
	}
	if !k.IsActive {
		return nil, &authError{http.StatusForbidden, "the key is disabled"}
	}
	if !k.ProjectActive {
		return nil, &authError{http.StatusForbidden, "the project is disabled"}
	}
	return k, nil
}

func (h *Handler) envelope(w http.ResponseWriter, r *http.Request) {
	received := h.now()
	coming := h.batcher.expect()
	defer coming.finish()
	body, err := DecodeBody(r, BodyLimits{MaxCompressed: maxCompressed, MaxDecompressed: int64(h.envLim.MaxEnvelopeBytes)})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer body.Close()
	// Authenticate before reading the body when the request says who it is,
	// so an unknown key costs no parsing.
	var k *store.IngestKey
	if _, found, err := requestCredentials(r); err != nil || found {
		if k, err = h.authenticate(r); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	env, err := envelope.Parse(body, h.envLim)
	if err != nil {
		h.fail(w, r, err) // a *BodyError from reading keeps its status
		return
	}
	// The envelope header's dsn authenticates a request that carried no
	// key, and must agree with one that did.
	if c, ok := credentialsFromDSN(env.Header.DSN); ok || k == nil {
		var fromDSN []credentials
		if ok {
			fromDSN = append(fromDSN, c)
		}
		if k, err = h.authenticate(r, fromDSN...); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if !h.cors(w, r, k) {
		return
	}
	rq := newPending(k, received, clientIP(r))
	if err := rq.addEnvelope(env); err != nil {
		h.fail(w, r, err)
		return
	}
	h.finish(w, r, rq, coming)
}

func (h *Handler) storeEndpoint(w http.ResponseWriter, r *http.Request) {
	received := h.now()
	switch ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(strings.ToLower(ct)) {
	case "multipart/form-data", "application/x-www-form-urlencoded":
		h.reject(w, http.StatusUnsupportedMediaType, "content_type",
			"the store endpoint takes a JSON event, not "+ct)
		return
	}
	k, err := h.authenticate(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !h.cors(w, r, k) {
		return
	}
	coming := h.batcher.expect()
	defer coming.finish()
	body, err := DecodeBody(r, StoreBodyLimits())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer body.Close()
	raw, err := ReadAllLimited(body, maxEventBytes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	payload, err := DecodeStoreBody(raw, maxEventBytes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rq := newPending(k, received, clientIP(r))
	if err := rq.addEvent(payload, ""); err != nil {
		h.fail(w, r, err)
		return
	}
	h.finish(w, r, rq, coming)
}

// finish applies rate limits, stores what is left and answers.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, rq *pending, coming *arrival) {
	defer coming.finish()
	for typ, n := range rq.dropped {
		h.m.droppedItems.WithLabelValues(typ).Add(float64(n))
	}
	env := rq.env
	if n := len(env.Events); n > 0 {
		lim, err := h.limiter.admit(r.Context(), rq.key, n)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if lim != nil {
			w.Header().Set("Retry-After", strconv.Itoa(lim.seconds()))
			w.Header().Set("X-Sentry-Rate-Limits", lim.headerValue())
			h.m.events.WithLabelValues("rate_limited").Add(float64(n))
			env.Events = nil
			if empty(env) {
				h.reject(w, http.StatusTooManyRequests, "rate_limited", "event rejected due to rate limit")
				return
			}
		}
	}
	if !empty(env) {
		if err := h.batcher.submit(r.Context(), env, coming); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	accepted := 0
	for _, res := range env.Results {
		if res.Duplicate {
			h.m.events.WithLabelValues("duplicate").Inc()
			continue
		}
		accepted++
	}
	h.m.events.WithLabelValues("accepted").Add(float64(accepted))
	w.Header().Set("Content-Type", "application/json")
	if rq.responseID == "" {
		_, _ = w.Write([]byte("{}\n"))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"id": rq.responseID})
}

func empty(env *store.IngestEnvelope) bool {
	return len(env.Events) == 0 && env.Transactions == 0 && len(env.Sessions) == 0 && len(env.Attachments) == 0 &&
		len(env.UserReports) == 0 && len(env.Discards) == 0 && len(env.CheckIns) == 0
}

// clientIP is the address the request came from, for {{auto}} user IPs.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// corsHeaders are what browser SDKs send and need to read, as Relay's.
const (
	corsAllowHeaders  = "x-sentry-auth, x-requested-with, origin, accept, content-type, authentication, authorization, content-encoding, transfer-encoding, sentry-trace, baggage"
	corsExposeHeaders = "x-sentry-error, x-sentry-rate-limits, retry-after"
)

// cors sets the CORS answer for a browser request and reports whether the
// origin may send; a refused origin has been answered 403.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request, k *store.IngestKey) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if !originAllowed(origin, k.AllowedDomains) {
		h.reject(w, http.StatusForbidden, "origin", "origin "+origin+" is not allowed for this project")
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", corsExposeHeaders)
	w.Header().Add("Vary", "Origin")
	return true
}

// preflight answers a browser's OPTIONS request. The key, when the query
// string has it, narrows the allowed origins to the project's.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := []string{"*"}
	if c, found, err := requestCredentials(r); err == nil && found {
		if k, err := h.keys.get(r.Context(), c.Public); err == nil && k != nil {
			allowed = k.AllowedDomains
		}
	}
	if origin != "" && !originAllowed(origin, allowed) {
		h.reject(w, http.StatusForbidden, "origin", "origin "+origin+" is not allowed for this project")
		return
	}
	if origin == "" {
		origin = "*"
	}
	hd := w.Header()
	hd.Set("Access-Control-Allow-Origin", origin)
	hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	hd.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	hd.Set("Access-Control-Expose-Headers", corsExposeHeaders)
	hd.Set("Access-Control-Max-Age", "3600")
	hd.Add("Vary", "Origin")
	w.WriteHeader(http.StatusOK)
}

// originAllowed matches an Origin against a project's allowed domains:
// "*", a host ("example.com"), a wildcard host ("*.example.com") or a full
// origin ("https://example.com").
func originAllowed(origin string, allowed []string) bool {
	if len(allowed) == 0 || slices.Contains(allowed, "*") {
		return true
	}
	host := origin
	if _, rest, ok := strings.Cut(origin, "://"); ok {
		host = rest
	}
	hostOnly, _, _ := strings.Cut(host, ":")
	for _, a := range allowed {
		switch {
		case a == origin, a == host, a == hostOnly:
			return true
		case strings.HasPrefix(a, "*.") && (strings.HasSuffix(hostOnly, a[1:]) || hostOnly == a[2:]):
			return true
		}
	}
	return false
}
