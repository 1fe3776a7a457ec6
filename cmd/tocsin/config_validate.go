package main

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tocsin/tocsin/integrations/email"
)

// validate checks every setting and returns the first problem as a *settingError,
// in the order of settings().
func (c *Config) validate() error {
	if err := checkAddr(c.Addr); err != nil {
		return invalid("addr", "%w", err)
	}
	if err := checkHTTPURL(c.BaseURL); err != nil {
		return invalid("base_url", "%w", err)
	}
	if u, _ := url.Parse(c.BaseURL); u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return invalid("base_url", "%q must not have user info, a query or a fragment", redactURL(c.BaseURL))
	}
	if c.DataDir == "" {
		return invalid("data_dir", "must not be empty")
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		return invalid("database_url", "%w", err)
	}
	if n := utf8.RuneCountInString(c.SecretKey); n > 0 && n < minSecretKeyLen {
		return invalid("secret_key", "must be at least %d characters, not %d", minSecretKeyLen, n)
	}
	if c.AdminEmail != "" {
		if a, err := mail.ParseAddress(c.AdminEmail); err != nil || a.Address != c.AdminEmail {
			return invalid("admin_email", "%q is not a plain email address like name@example.com", c.AdminEmail)
		}
	}
	if n := utf8.RuneCountInString(c.AdminPassword); n > 0 && n < minPasswordLen {
		return invalid("admin_password", "must be at least %d characters", minPasswordLen)
	}
	if err := checkSMTPURL(c.SMTPURL); err != nil {
		return invalid("smtp_url", "%w", err)
	}
	if c.MailFrom == "" && c.SMTPURL != "" {
		return invalid("mail_from", "required when smtp_url (TOCSIN_SMTP_URL) is set")
	}
	if c.MailFrom != "" {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			return invalid("mail_from", "%q is not an email address: %w", c.MailFrom, err)
		}
	}
	for _, u := range []struct{ key, value string }{
		{"slack_api_url", c.SlackAPIURL},
		{"github_api_url", c.GitHubAPIURL},
		{"trello_api_url", c.TrelloAPIURL},
	} {
		if err := checkHTTPURL(u.value); err != nil {
			return invalid(u.key, "%w", err)
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return invalid("log_format", "%q is neither text nor json", c.LogFormat)
	}
	if c.EventRetentionDays < 1 {
		return invalid("event_retention_days", "%d is less than 1", c.EventRetentionDays)
	}
	return nil
}

// checkAddr checks that addr is host:port with a numeric port 1-65535; the host may
// be empty (all interfaces), an IP address or a name.
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if err := checkPort(port); err != nil {
		return err
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !isHostName(host) {
		return fmt.Errorf("host %q is neither an IP address nor a host name", host)
	}
	return nil
}

// checkPort checks that port is a number 1-65535.
func checkPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || strings.HasPrefix(port, "+") {
		return fmt.Errorf("port %q is not a number", port)
	}
	if n < 1 || n > 65535 {
		return fmt.Errorf("port %q out of range 1-65535", port)
	}
	return nil
}

// isHostName reports whether s is a DNS name: dot-separated labels of letters,
// digits, hyphens and underscores, at most 253 characters.
func isHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// parseURL parses raw like url.Parse, but its error never quotes raw unredacted.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, and its inner error may quote part of
		// the userinfo when a password holds '/', '?' or '#'.
		var ue *url.Error
		if !strings.Contains(raw, "@") && errors.As(err, &ue) {
			return nil, fmt.Errorf("%q is not a URL: %w", raw, ue.Err)
		}
		return nil, fmt.Errorf("%q is not a URL (percent-encode '/', '?', '#' and '@' in a user name or password)", redactURL(raw))
	}
	return u, nil
}

// checkHTTPURL checks that raw is an absolute http or https URL with a host.
func checkHTTPURL(raw string) error {
	u, err := parseURL(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http:// or https:// URL", redactURL(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", redactURL(raw))
	}
	if p := u.Port(); p != "" {
		if err := checkPort(p); err != nil {
			return fmt.Errorf("%q: %w", redactURL(raw), err)
		}
	}
	return nil
}

// checkDatabaseURL checks that raw is empty, a postgres:// or postgresql:// URL
// with a host (or a host query parameter naming a socket directory), or
// sqlite:PATH, sqlite://PATH or file:PATH.
func checkDatabaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	lower := strings.ToLower(raw)
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(lower, prefix) {
			if len(raw) == len(prefix) {
				return fmt.Errorf("%q has no path", redactURL(raw))
			}
			return nil
		}
	}
	u, err := parseURL(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("%q is not a postgres://, postgresql://, sqlite: or file: URL", redactURL(raw))
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return fmt.Errorf("%q has neither a host nor a host= socket directory", redactURL(raw))
	}
	return nil
}

// checkSMTPURL checks TOCSIN_SMTP_URL with the parser the mailer uses, so
// that a URL that passes here is one the mailer reads the same way.
func checkSMTPURL(raw string) error {
	if raw == "" {
		return nil
	}
	if _, err := email.ParseSMTPURL(raw); err != nil {
		return fmt.Errorf("%q: %w", redactURL(raw), err)
	}
	return nil
}
