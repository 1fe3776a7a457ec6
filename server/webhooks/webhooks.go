// Package webhooks takes the webhooks services send back: GitHub issues
// closed or reopened, Slack button presses, Trello cards moved. Every
// request is signature-checked against the integrations of its provider
// before anything is read from it; an unsigned or badly signed request
// gets 401 and changes nothing.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/github"
	"github.com/tocsin/tocsin/integrations/slack"
	"github.com/tocsin/tocsin/integrations/trello"
	"github.com/tocsin/tocsin/store"
)

// maxBody bounds webhook bodies; GitHub's largest payloads stay far below.
const maxBody = 5 << 20

// Handler serves the inbound webhooks.
type Handler struct {
	store     *store.Store
	box       *integrations.SecretBox
	baseURL   string
	log       *slog.Logger
	now       func() time.Time
	providers map[string]*integrations.Provider

	mu     sync.Mutex
	logins map[int64]cachedLogin // by integration
}

// SetProviders lets the handler call services back (Slack's users.info to
// find who pressed a button).
func (h *Handler) SetProviders(p map[string]*integrations.Provider) { h.providers = p }

// New returns the webhook handler.
func New(st *store.Store, box *integrations.SecretBox, baseURL string, log *slog.Logger) *Handler {
	return &Handler{store: st, box: box, baseURL: strings.TrimRight(baseURL, "/"), log: log, now: time.Now,
		logins: map[int64]cachedLogin{}}
}

// SetNow replaces the clock that judges Slack request timestamps and
// dates the status changes; tests set a fixed time instead of sleeping.
// Call it before serving.
func (h *Handler) SetNow(now func() time.Time) { h.now = now }

// Register adds the routes.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /webhooks/github", h.github)
	mux.HandleFunc("POST /webhooks/slack/interactive", h.slack)
	mux.HandleFunc("HEAD /webhooks/trello", h.trelloHead)
	mux.HandleFunc("POST /webhooks/trello", h.trello)
	mux.HandleFunc("POST /webhooks/sentry/{integration}", h.sentryBridge)
}

func reply(w http.ResponseWriter, code int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		reply(w, http.StatusRequestEntityTooLarge, "body too large or unreadable")
		return nil, false
	}
	return b, true
}

// signed lists the integrations of provider whose secret field verifies
// the request, oldest first; none when no secret does. Organizations may
// share a secret (one Slack app or Trello key for the whole server), so
// the callers act in the one the request names, not in the first.
func (h *Handler) signed(ctx context.Context, provider, field string, verify func(secret string) bool) ([]*store.Integration, error) {
	ins, err := h.store.IntegrationsByProvider(ctx, provider)
	if err != nil {
		return nil, err
	}
	var out []*store.Integration
	for _, in := range ins {
		secret, _ := secrets(in, h.box)[field].(string)
		if secret != "" && verify(secret) {
			out = append(out, in)
		}
	}
	return out, nil
}

// setStatus changes an issue's status as a service reported it, unless it
// already has it (a change Tocsin itself made coming back: no loop).
func (h *Handler) setStatus(ctx context.Context, orgID, issueID int64, status string, ignore store.IgnoreOptions) error {
	is, err := h.store.IssueGet(ctx, orgID, issueID)
	if err != nil {
		return err
	}
	if is.Status == status {
		return nil
	}
	_, err = h.store.IssuesUpdate(ctx, orgID, []int64{issueID}, &store.IssueUpdate{Status: &status, Ignore: ignore,
		At: h.now().UTC()})
	return err
}

func (h *Handler) github(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	ins, err := h.signed(r.Context(), "github", "webhook_secret", func(secret string) bool {
		return github.VerifySignature(r.Header, body, secret) == nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	if len(ins) == 0 {
		reply(w, http.StatusUnauthorized, "no integration's webhook secret matches X-Hub-Signature-256")
		return
	}
	ev, err := github.ParseIssueEvent(r.Header, body)
	if errors.Is(err, github.ErrIgnored) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		reply(w, http.StatusBadRequest, err.Error())
		return
	}
	status := store.StatusResolved
	if ev.Action == github.ActionReopened {
		status = store.StatusUnresolved
	}
	for _, in := range ins {
		link, err := h.store.IssueLinkByHandle(r.Context(), in.ID, ev.Handle())
		if err != nil {
			h.fail(w, err)
			return
		}
		if link == nil {
			continue // a GitHub issue this integration did not make
		}
		if h.ownGitHubChange(r.Context(), in, ev.Sender) {
			continue // Tocsin's own close or reopen coming back
		}
		if err := h.setStatus(r.Context(), in.OrganizationID, link.IssueID, status, store.IgnoreOptions{}); err != nil {
			h.fail(w, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) slack(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	now := h.now()
	ins, err := h.signed(r.Context(), "slack", "signing_secret", func(secret string) bool {
		return slack.VerifyRequest(r.Header, body, secret, now) == nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	if len(ins) == 0 {
		reply(w, http.StatusUnauthorized, "no integration's signing secret matches X-Slack-Signature (or the request is stale)")
		return
	}
	act, err := slack.ParseInteraction(body)
	if err != nil {
		reply(w, http.StatusBadRequest, err.Error())
		return
	}
	// The button names an issue id; it must be of the organization of an
	// integration that verified the request.
	var in *store.Integration
	for _, c := range ins {
		_, err := h.store.IssueGet(r.Context(), c.OrganizationID, act.IssueID)
		if err == nil {
			in = c
			break
		}
		if !errors.Is(err, store.ErrNotFound) {
			h.fail(w, err)
			return
		}
	}
	if in == nil {
		reply(w, http.StatusNotFound, "no such issue")
		return
	}
	// Who pressed: the Tocsin member with the Slack user's email, when
	// Slack tells it (users.info) and the organization has them.
	actor := h.slackActor(r.Context(), in, secrets(in, h.box), act.UserID)
	var (
		kind string
		u    *store.IssueUpdate
	)
	switch act.ActionID {
	case slack.ActionResolve:
		kind, u = integrations.KindResolved, &store.IssueUpdate{Status: ptr(store.StatusResolved)}
	case slack.ActionIgnore:
		kind, u = integrations.KindIgnored, &store.IssueUpdate{Status: ptr(store.StatusIgnored)}
	default: // assign to me
		if actor == nil {
			// Nobody to assign: Slack gave no email of a member.
			w.WriteHeader(http.StatusOK)
			return
		}
		kind, u = integrations.KindAssigned, &store.IssueUpdate{Assign: true, AssigneeUserID: actor}
	}
	u.ActorID, u.At = actor, h.now().UTC()
	if err := h.apply(r.Context(), in.OrganizationID, act.IssueID, u); err != nil {
		h.fail(w, err)
		return
	}
	// Update the message: a status delivery to the thread's parent, through
	// the organization's integration that posted it.
	var link *store.IssueLink
	for _, c := range ins {
		if c.OrganizationID != in.OrganizationID {
			continue
		}
		if link, err = h.store.IssueLinkByHandle(r.Context(), c.ID, act.Handle()); err != nil || link != nil {
			in = c
			break
		}
	}
	if err == nil && link != nil {
		err = h.store.DeliveryCreate(r.Context(), &store.Delivery{OrganizationID: in.OrganizationID,
			IntegrationID: &in.ID, Provider: "slack", IssueID: &act.IssueID, Kind: kind, Target: link.Target,
			IdempotencyKey: fmt.Sprintf("slack-action:%d:%s:%s:%s", in.ID, act.Handle(), act.ActionID,
				r.Header.Get("X-Slack-Request-Timestamp")),
			Options: actorOptions(act.UserName)})
	}
	if err != nil {
		h.log.Warn("queueing the Slack message update failed", "err", err)
	}
	w.WriteHeader(http.StatusOK)
}

func ptr[T any](v T) *T { return &v }

// apply makes a change unless the issue already is that way (a change
// Tocsin itself made coming back must not loop or add history).
func (h *Handler) apply(ctx context.Context, orgID, issueID int64, u *store.IssueUpdate) error {
	is, err := h.store.IssueGet(ctx, orgID, issueID)
	if err != nil {
		return err
	}
	if u.Status != nil && is.Status == *u.Status {
		return nil
	}
	if u.Assign && u.AssigneeUserID != nil && is.AssigneeUserID != nil && *is.AssigneeUserID == *u.AssigneeUserID {
		return nil
	}
	_, err = h.store.IssuesUpdate(ctx, orgID, []int64{issueID}, u)
	return err
}

// secrets opens an integration's sealed settings; empty when they do not open.
func secrets(in *store.Integration, box *integrations.SecretBox) map[string]any {
	out := map[string]any{}
	if len(in.Secrets) == 0 {
		return out
	}
	if plain, err := box.Open(in.Secrets, in.ID); err == nil {
		_ = json.Unmarshal(plain, &out)
	}
	return out
}

// slackActor finds the Tocsin member who pressed a Slack button, by the
// email Slack's users.info gives; nil when it cannot tell.
func (h *Handler) slackActor(ctx context.Context, in *store.Integration, sec map[string]any, slackUser string) *int64 {
	p := h.providers["slack"]
	if p == nil || p.Build == nil || slackUser == "" {
		return nil
	}
	config := map[string]any{}
	_ = json.Unmarshal([]byte(in.Config), &config)
	n, err := p.Build(config, sec)
	if err != nil {
		return nil
	}
	look, ok := n.(interface {
		UserEmail(context.Context, string) (string, error)
	})
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	email, err := look.UserEmail(ctx, slackUser)
	if err != nil || email == "" {
		h.log.Info("no Tocsin user for a Slack user", "slack_user", slackUser, "err", err)
		return nil
	}
	users, err := h.store.MemberUsers(ctx, in.OrganizationID, nil, 0)
	if err != nil {
		return nil
	}
	for _, m := range users {
		if strings.EqualFold(m.Email, email) && m.IsActive {
			return &m.ID
		}
	}
	return nil
}

// ownGitHubChange reports whether a GitHub event was made by the
// integration's own token (its user's login), which Tocsin caused itself:
// acting on it again could undo a newer change made in Tocsin meanwhile.
// When the login cannot be read (an installation token), the "already has
// this status" guard remains.
func (h *Handler) ownGitHubChange(ctx context.Context, in *store.Integration, sender string) bool {
	p := h.providers["github"]
	if p == nil || p.Build == nil || sender == "" {
		return false
	}
	h.mu.Lock()
	login, ok := h.logins[in.ID]
	h.mu.Unlock()
	if !ok || login.updated != in.DateUpdated {
		config := map[string]any{}
		_ = json.Unmarshal([]byte(in.Config), &config)
		n, err := p.Build(config, secrets(in, h.box))
		if err != nil {
			return false
		}
		look, isGitHub := n.(interface {
			Login(context.Context) (string, error)
		})
		if !isGitHub {
			return false
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		name, err := look.Login(lctx)
		cancel()
		if err != nil {
			return false
		}
		login = cachedLogin{name: name, updated: in.DateUpdated}
		h.mu.Lock()
		h.logins[in.ID] = login
		h.mu.Unlock()
	}
	return strings.EqualFold(login.name, sender)
}

// cachedLogin is the GitHub login of an integration's token.
type cachedLogin struct {
	name    string
	updated time.Time
}

// trelloHead answers the HEAD request Trello sends when a webhook is created.
func (h *Handler) trelloHead(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

func (h *Handler) trello(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	callback := h.baseURL + "/webhooks/trello"
	ins, err := h.signed(r.Context(), "trello", "webhook_secret", func(secret string) bool {
		return trello.VerifySignature(r.Header, body, callback, secret) == nil
	})
	if err != nil {
		h.fail(w, err)
		return
	}
	if len(ins) == 0 {
		reply(w, http.StatusUnauthorized, "no integration's webhook secret matches X-Trello-Webhook")
		return
	}
	move, err := trello.ParseAction(body)
	if err != nil {
		reply(w, http.StatusBadRequest, err.Error())
		return
	}
	if move == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	for _, in := range ins {
		var cfg struct {
			ListID         string `json:"list_id"`
			ResolvedListID string `json:"resolved_list_id"`
		}
		_ = json.Unmarshal([]byte(in.Config), &cfg)
		link, err := h.store.IssueLinkByHandle(r.Context(), in.ID, move.CardID)
		if err != nil {
			h.fail(w, err)
			return
		}
		if link == nil {
			continue // a card this integration did not make
		}
		switch {
		case cfg.ResolvedListID != "" && move.ListAfter == cfg.ResolvedListID:
			err = h.setStatus(r.Context(), in.OrganizationID, link.IssueID, store.StatusResolved, store.IgnoreOptions{})
		case move.ListBefore == cfg.ResolvedListID && cfg.ResolvedListID != "":
			err = h.setStatus(r.Context(), in.OrganizationID, link.IssueID, store.StatusUnresolved, store.IgnoreOptions{})
		}
		if err != nil {
			h.fail(w, err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (h *Handler) fail(w http.ResponseWriter, err error) {
	h.log.Error("webhook failed", "err", err)
	reply(w, http.StatusServiceUnavailable, "could not be handled; try again")
}

// actorOptions encodes who acted, for the message update.
func actorOptions(name string) string {
	b, _ := json.Marshal(map[string]string{"actor": name})
	return string(b)
}
