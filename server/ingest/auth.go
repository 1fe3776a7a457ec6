package ingest

import (
	"net/http"
	"net/url"
	"strings"
)

// credentials are the client key (and legacy secret) a request carries.
type credentials struct {
	Public string
	Secret string
}

// authError is an authentication failure, answered 401 or 403.
type authError struct {
	status int
	reason string
}

func (e *authError) Error() string { return e.reason }

// parseAuthHeader reads "Sentry sentry_key=…, sentry_version=7, …" (the
// X-Sentry-Auth and Authorization forms of
// https://develop.sentry.dev/sdk/overview/#authentication).
func parseAuthHeader(h string) (credentials, bool) {
	h = strings.TrimSpace(h)
	scheme, rest, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Sentry") {
		return credentials{}, false
	}
	var c credentials
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.TrimSpace(k) {
		case "sentry_key":
			c.Public = v
		case "sentry_secret":
			c.Secret = v
		}
	}
	return c, c.Public != ""
}

// credentialsFromDSN reads the key of a DSN, as the envelope header's dsn.
func credentialsFromDSN(dsn string) (credentials, bool) {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil || u.User.Username() == "" {
		return credentials{}, false
	}
	sec, _ := u.User.Password()
	return credentials{Public: u.User.Username(), Secret: sec}, true
}

// requestCredentials collects the key from the header, Authorization, and
// the query string. Two different keys in one request are refused.
func requestCredentials(r *http.Request) (credentials, bool, error) {
	var found []credentials
	if c, ok := parseAuthHeader(r.Header.Get("X-Sentry-Auth")); ok {
		found = append(found, c)
	}
	if c, ok := parseAuthHeader(r.Header.Get("Authorization")); ok {
		found = append(found, c)
	}
	q := r.URL.Query()
	if k := q.Get("sentry_key"); k != "" {
		found = append(found, credentials{Public: k, Secret: q.Get("sentry_secret")})
	}
	return mergeCredentials(found)
}

// mergeCredentials agrees the sources: the same key may appear twice
// (a browser SDK sends header and query); two different keys may not.
func mergeCredentials(found []credentials) (credentials, bool, error) {
	var c credentials
	for _, f := range found {
		if c.Public != "" && f.Public != c.Public {
			return credentials{}, false, &authError{http.StatusUnauthorized, "multiple authorization payloads with different keys"}
		}
		c.Public = f.Public
		if f.Secret != "" {
			if c.Secret != "" && c.Secret != f.Secret {
				return credentials{}, false, &authError{http.StatusUnauthorized, "multiple authorization payloads with different secrets"}
			}
			c.Secret = f.Secret
		}
	}
	return c, c.Public != "", nil
}
