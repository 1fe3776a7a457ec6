// Package email delivers notifications by SMTP, through wneessen/go-mail.
// This file holds the server settings of TOCSIN_SMTP_URL.
package email

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// TLS modes of TOCSIN_SMTP_URL's tls parameter.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// SMTP is a mail server: smtp://[user:pass@]host:port?tls=none|starttls|tls.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string
}

// String shows the server without its password.
func (s SMTP) String() string {
	return fmt.Sprintf("%s (tls=%s)", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), s.TLS)
}

// ParseSMTPURL reads TOCSIN_SMTP_URL. The tls default is starttls, except on
// port 465, which means implicit TLS; the port default follows the mode.
func ParseSMTPURL(raw string) (SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTP{}, fmt.Errorf("smtp url: cannot parse")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return SMTP{}, fmt.Errorf("smtp url: scheme %q, want smtp or smtps", u.Scheme)
	}
	s := SMTP{Host: u.Hostname(), TLS: strings.ToLower(u.Query().Get("tls"))}
	if s.Host == "" {
		return SMTP{}, fmt.Errorf("smtp url: no host")
	}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil || s.Port < 1 || s.Port > 65535 {
			return SMTP{}, fmt.Errorf("smtp url: bad port %q", p)
		}
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	switch {
	case s.TLS == "" && (u.Scheme == "smtps" || s.Port == 465):
		s.TLS = TLSImplicit
	case s.TLS == "":
		s.TLS = TLSStartTLS
	case s.TLS != TLSNone && s.TLS != TLSStartTLS && s.TLS != TLSImplicit:
		return SMTP{}, fmt.Errorf("smtp url: tls=%q, want none, starttls or tls", s.TLS)
	}
	if s.Port == 0 {
		s.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[s.TLS]
	}
	return s, nil
}

// client builds a go-mail client for the server; extra options come last
// and so override the defaults.
func (s SMTP) client(timeout time.Duration, extra ...mail.Option) (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(timeout)}
	switch s.TLS {
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	opts = append(opts, extra...)
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp %s: %w", s, err)
	}
	return c, nil
}

// Check connects, negotiates TLS and authenticates as configured, then
// hangs up; `tocsin check` reports its result.
func (s SMTP) Check(ctx context.Context) error {
	c, err := s.client(10 * time.Second)
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fmt.Errorf("smtp %s: %w", s, err)
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("smtp %s: close: %w", s, err)
	}
	return nil
}
