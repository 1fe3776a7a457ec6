package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/tocsin/tocsin/integrations"
)

// DefaultTimeout bounds one delivery attempt: connection, TLS, AUTH and
// the message.
const DefaultTimeout = 30 * time.Second

// Notifier sends notifications by SMTP, one message per notification to
// the addresses of its target.
type Notifier struct {
	smtp      SMTP
	from      *netmail.Address
	domain    string // of from, for Message-IDs
	timeout   time.Duration
	tlsConfig *tls.Config
	now       func() time.Time
}

// Option configures a Notifier.
type Option func(*Notifier)

// WithTimeout sets the deadline of one attempt (DefaultTimeout otherwise).
func WithTimeout(d time.Duration) Option { return func(n *Notifier) { n.timeout = d } }

// WithTLSConfig sets the TLS settings for STARTTLS and implicit TLS, e.g.
// a private CA; its ServerName defaults to the SMTP host.
func WithTLSConfig(c *tls.Config) Option { return func(n *Notifier) { n.tlsConfig = c.Clone() } }

// WithNowFunc sets the clock for the Date header.
func WithNowFunc(now func() time.Time) Option { return func(n *Notifier) { n.now = now } }

// New returns a Notifier sending through s as from (TOCSIN_MAIL_FROM, an
// address with an optional display name: "Tocsin <alerts@example.com>").
func New(s SMTP, from string, opts ...Option) (*Notifier, error) {
	if s.Host == "" || s.Port == 0 {
		return nil, errors.New("email: no SMTP server")
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("email: from address %q: %w", from, err)
	}
	n := &Notifier{smtp: s, from: addr, domain: msgIDDomain(addr.Address), timeout: DefaultTimeout, now: time.Now}
	for _, o := range opts {
		o(n)
	}
	if n.tlsConfig == nil {
		n.tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if n.tlsConfig.ServerName == "" {
		n.tlsConfig.ServerName = s.Host
	}
	return n, nil
}

// Notify sends n to the addresses of n.Target (comma-separated, display
// names allowed) as a multipart/alternative message, threaded per issue
// (see messageIDs). Result.Handle is the thread root, which the
// caller passes back as Notification.Handle for later notifications.
//
// Failures are classified at this edge (see classify): 4xx replies retry
// (421 and replies naming a wait as rate_limited), 535 and other AUTH
// failures are permanent auth, 550/551 permanent not_found, other 5xx
// permanent client; connection, TLS and timeouts retry as network.
func (e *Notifier) Notify(ctx context.Context, n *integrations.Notification) (*integrations.Result, error) {
	to, err := recipients(n.Target)
	if err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
	}
	msg, root, warning, err := e.message(n, to)
	if err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient, Err: fmt.Errorf("email: build message: %w", err)}
	}

	ctx, cancel := context.WithTimeoutCause(ctx, e.timeout, fmt.Errorf("no answer within %s", e.timeout))
	defer cancel() // also closes the connection, see dial
	where := fmt.Sprintf("email: send to %s via %s", addressList(to), e.smtp)
	deadline, _ := ctx.Deadline()
	remaining := time.Until(deadline)
	if remaining <= 0 || ctx.Err() != nil {
		return nil, &integrations.RetryError{Reason: integrations.ReasonNetwork, Err: fmt.Errorf("%s: %w", where, context.Cause(ctx))}
	}

	// go-mail's per-command deadline is a backstop a little past the
	// attempt's: the attempt's context ends first and closes the
	// connection, so the error reports it (see dial).
	c, err := e.smtp.client(remaining+time.Second, e.clientOptions(ctx)...)
	if err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: fmt.Errorf("%s: %w", where, err)}
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, classify(ctx, fmt.Errorf("%s: %w", where, err))
	}
	err = c.SendWithSMTPClient(sc, msg)
	// The message is out once the server accepted DATA; a failing RSET or
	// QUIT after that must not cause a second copy.
	_ = c.CloseWithSMTPClient(sc)
	if err != nil && !msg.IsDelivered() {
		return nil, classify(ctx, fmt.Errorf("%s: %w", where, err))
	}
	return &integrations.Result{Handle: root, Warning: warning}, nil
}

// clientOptions are what Notify adds to the server's settings: the TLS
// config, and a dialer that ends the connection when the attempt's
// context does, so a hung server cannot outlive the deadline.
func (e *Notifier) clientOptions(attempt context.Context) []mail.Option {
	opts := []mail.Option{mail.WithTLSConfig(e.tlsConfig), mail.WithDialContextFunc(e.dial(attempt))}
	if e.smtp.TLS == TLSImplicit && e.smtp.Username != "" {
		// With its own dialer go-mail does not know the connection is
		// encrypted and would not offer PLAIN or LOGIN; the mechanisms
		// still check that the connection is TLS before sending secrets.
		opts = append(opts, mail.WithOpportunisticSMTPAuth(
			mail.SMTPAuthSCRAMSHA256PLUS, mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1PLUS,
			mail.SMTPAuthSCRAMSHA1, mail.SMTPAuthCramMD5, mail.SMTPAuthPlain, mail.SMTPAuthLogin))
	}
	return opts
}

// dial connects (and for implicit TLS, handshakes); the connection is
// closed when attempt ends, whatever go-mail is blocked on.
func (e *Notifier) dial(attempt context.Context) mail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if e.smtp.TLS == TLSImplicit {
			tc := tls.Client(conn, e.tlsConfig.Clone())
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = conn.Close()
				return nil, err
			}
			conn = tc // a *tls.Conn, so that AUTH knows it is encrypted
		}
		context.AfterFunc(attempt, func() { _ = conn.Close() })
		return conn, nil
	}
}

// recipients reads a target: "a@example.com, Ops <ops@example.com>".
func recipients(target string) ([]*netmail.Address, error) {
	if strings.TrimSpace(target) == "" {
		return nil, errors.New("email: no recipient")
	}
	to, err := netmail.ParseAddressList(target)
	if err != nil {
		return nil, fmt.Errorf("email: recipients %q: %w", target, err)
	}
	return to, nil
}

func addressList(to []*netmail.Address) string {
	s := make([]string, len(to))
	for i, a := range to {
		s[i] = a.Address
	}
	return strings.Join(s, ", ")
}
