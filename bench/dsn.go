package bench

import (
	"fmt"
	"net/url"
	"strings"
)

// Target is where a DSN sends envelopes and how it authenticates.
type Target struct {
	// Endpoint is the project's envelope URL: {scheme}://{host}{path}/api/{project}/envelope/.
	Endpoint string
	// Auth is the X-Sentry-Auth header value.
	Auth string
	// DSN is the DSN without its secret, for the envelope header.
	DSN string
}

// ParseDSN reads a Sentry DSN, {scheme}://{public}[:{secret}]@{host}[:{port}][/{path}]/{project}
// (https://develop.sentry.dev/sdk/overview/#parsing-the-dsn).
func ParseDSN(dsn string) (Target, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return Target{}, fmt.Errorf("bench: parse dsn: not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Target{}, fmt.Errorf("bench: dsn: scheme %q; want http or https", u.Scheme)
	}
	if u.User == nil || u.User.Username() == "" {
		return Target{}, fmt.Errorf("bench: dsn: no public key before the @")
	}
	if u.Host == "" {
		return Target{}, fmt.Errorf("bench: dsn: no host")
	}
	path := strings.TrimRight(u.Path, "/")
	i := strings.LastIndex(path, "/")
	project := path[i+1:]
	if project == "" {
		return Target{}, fmt.Errorf("bench: dsn: no project id at the end of the path")
	}
	public := u.User.Username()
	auth := "Sentry sentry_version=7, sentry_client=tocsin-bench/1.0, sentry_key=" + public
	if secret, ok := u.User.Password(); ok && secret != "" {
		auth += ", sentry_secret=" + secret
	}
	endpoint := url.URL{Scheme: u.Scheme, Host: u.Host, Path: path[:i] + "/api/" + project + "/envelope/"}
	pub := *u
	pub.User = url.User(public)
	pub.RawQuery, pub.Fragment = "", ""
	return Target{Endpoint: endpoint.String(), Auth: auth, DSN: pub.String()}, nil
}
