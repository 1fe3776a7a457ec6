package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/tocsin/tocsin/store"
)

// principal is who made a request: a token and its user.
type principal struct {
	token *store.APIToken
	user  *store.User
}

// orgRequest is a request inside one organization the principal belongs to.
type orgRequest struct {
	*principal
	org    *store.Organization
	member *store.Member
}

// can reports whether the request may use any of the scopes.
func (o *orgRequest) can(anyOf ...string) bool {
	return store.Grants(o.token.Scopes, o.member.Role, anyOf...)
}

// bearer extracts the token of "Authorization: Bearer <token>"; ok is false
// when the header is absent.
func bearer(r *http.Request) (token string, ok bool) {
	hdr := r.Header.Get("Authorization")
	if hdr == "" {
		return "", false
	}
	scheme, tok, _ := strings.Cut(hdr, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(tok), true
}

// authenticate resolves the request's token, answering 401 itself when it
// is missing or bad.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (*principal, bool) {
	tok, present := bearer(r)
	if !present {
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		writeError(w, http.StatusUnauthorized, "Authentication credentials were not provided.")
		return nil, false
	}
	t, u, err := h.store.TokenAuthenticate(r.Context(), tok)
	if err != nil {
		if errors.Is(err, store.ErrBadToken) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "Invalid token")
			return nil, false
		}
		h.fail(w, r, err, "")
		return nil, false
	}
	return &principal{token: t, user: u}, true
}

// user wraps a handler that needs an authenticated principal.
func (h *Handler) user(fn func(http.ResponseWriter, *http.Request, *principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		fn(w, r, p)
	}
}

// org wraps a handler of the {org} path value: the principal must be a
// member (else 404, which does not reveal that the organization exists) and
// hold one of the scopes (else 403).
func (h *Handler) org(fn func(http.ResponseWriter, *http.Request, *orgRequest), anyOf ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := h.authenticate(w, r)
		if !ok {
			return
		}
		org, member, err := h.store.Membership(r.Context(), p.user.ID, r.PathValue("org"))
		if err != nil {
			h.fail(w, r, err, "")
			return
		}
		or := &orgRequest{principal: p, org: org, member: member}
		if !or.can(anyOf...) {
			writeError(w, http.StatusForbidden, "You do not have permission to perform this action.")
			return
		}
		fn(w, r, or)
	}
}
