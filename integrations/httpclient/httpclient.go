// Package httpclient builds the one HTTP client that Tocsin uses to reach
// the outside world: bounded timeouts, a redirect limit, and a guard
// against server-side request forgery that refuses loopback, private,
// link-local (cloud metadata), CGNAT, multicast and unspecified addresses
// unless the deployment allows them (TOCSIN_ALLOW_PRIVATE_WEBHOOKS).
//
// The guard runs in net.Dialer.Control, that is on the address the socket
// is about to connect to, after DNS resolution: every connection, every
// redirect hop and every address a name resolves to is checked, and a
// name that resolves to a public address for a check and to 127.0.0.1 for
// the connection (DNS rebinding) cannot slip through. Compare Miniflux's
// internal/http/client, which resolves once itself and dials the first
// public address.
package httpclient

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Defaults of Options.
const (
	DefaultTimeout               = 30 * time.Second
	DefaultDialTimeout           = 5 * time.Second
	DefaultTLSHandshakeTimeout   = 5 * time.Second
	DefaultResponseHeaderTimeout = 15 * time.Second
	DefaultMaxRedirects          = 3
)

// Options configure New. The zero value is a guarded client with the
// default timeouts.
type Options struct {
	// Timeout bounds a whole request: connection, redirects and reading
	// the body. Callers add their own per-attempt deadline on the request
	// context.
	Timeout time.Duration
	// DialTimeout bounds establishing a TCP connection.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response headers once
	// the request is written.
	ResponseHeaderTimeout time.Duration
	// MaxRedirects is how many redirects are followed; 0 means
	// DefaultMaxRedirects, a negative value follows none (the 3xx
	// response is returned as is).
	MaxRedirects int
	// AllowPrivate turns the guard off (TOCSIN_ALLOW_PRIVATE_WEBHOOKS).
	AllowPrivate bool
	// IsPrivateFunc decides which addresses the guard refuses; nil means
	// IsPrivate. Tests use it to pass one loopback address for "public".
	IsPrivateFunc func(netip.Addr) bool
}

// PrivateAddressError is the guard refusing a connection. Its text names
// the address only, never the URL (which may carry credentials).
type PrivateAddressError struct {
	Addr netip.Addr
}

func (e *PrivateAddressError) Error() string {
	return fmt.Sprintf("refused to connect to private address %s", e.Addr)
}

// Is lets errors.Is(err, ErrPrivateAddress) match any refused address.
func (e *PrivateAddressError) Is(target error) bool { return target == ErrPrivateAddress }

// ErrPrivateAddress matches every *PrivateAddressError with errors.Is.
var ErrPrivateAddress = errors.New("refused to connect to private address")

// ErrTooManyRedirects is returned (wrapped) when a request was redirected
// more than Options.MaxRedirects times.
var ErrTooManyRedirects = errors.New("too many redirects")

// New returns a client with o's timeouts, redirect limit and, unless
// o.AllowPrivate, the private-address guard. Proxies from the environment
// are not used while the guard is on: the guard would then only see the
// proxy's address, not the destination.
func New(o Options) *http.Client {
	o = o.withDefaults()
	dialer := &net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    o.TLSHandshakeTimeout,
		ResponseHeaderTimeout:  o.ResponseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if o.AllowPrivate {
		transport.Proxy = http.ProxyFromEnvironment
	} else {
		dialer.Control = guard(o.IsPrivateFunc)
	}
	return &http.Client{
		Timeout:       o.Timeout,
		Transport:     transport,
		CheckRedirect: checkRedirect(o.MaxRedirects),
	}
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.TLSHandshakeTimeout <= 0 {
		o.TLSHandshakeTimeout = DefaultTLSHandshakeTimeout
	}
	if o.ResponseHeaderTimeout <= 0 {
		o.ResponseHeaderTimeout = DefaultResponseHeaderTimeout
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.IsPrivateFunc == nil {
		o.IsPrivateFunc = IsPrivate
	}
	return o
}

// guard is a net.Dialer.Control: address is the resolved "ip:port" the
// socket is about to connect to. Anything it cannot read is refused.
func guard(isPrivate func(netip.Addr) bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("refused to connect to unreadable address %q", address)
		}
		if addr := ap.Addr(); isPrivate(addr) {
			return &PrivateAddressError{Addr: addr}
		}
		return nil
	}
}

func checkRedirect(limit int) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if limit < 0 {
			return http.ErrUseLastResponse
		}
		if len(via) > limit {
			return fmt.Errorf("%w: stopped after %d redirects", ErrTooManyRedirects, limit)
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("refused redirect to scheme %q", req.URL.Scheme)
		}
		return nil
	}
}

// RedactURL strips the URL from the *url.Error that http.Client returns,
// keeping only its scheme and host: webhook URLs carry secrets in their
// user info, paths and queries. The result still unwraps to the cause.
func RedactURL(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &redactedError{op: ue.Op, where: Redact(ue.URL), err: ue.Err}
}

type redactedError struct {
	op, where string
	err       error
}

func (e *redactedError) Error() string { return fmt.Sprintf("%s %s: %v", e.op, e.where, e.err) }
func (e *redactedError) Unwrap() error { return e.err }

// Timeout reports whether the cause was a timeout, as *url.Error does.
func (e *redactedError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.As(e.err, &t) && t.Timeout()
}

// Redact shows a URL as scheme://host/…, without user info, path or query;
// what cannot be parsed shows as "(url)".
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(url)"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/…"
	}
	return s
}
