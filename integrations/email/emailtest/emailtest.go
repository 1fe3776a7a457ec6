// Package emailtest is a fake mail server for tests, as net/http/httptest
// is a fake HTTP server: an in-process SMTP server (emersion/go-smtp) on
// loopback that records the messages it accepts, and answers failures as
// told, with optional STARTTLS or implicit TLS and AUTH PLAIN. Parse takes
// a recorded message apart as a mail reader would.
package emailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tocsin/tocsin/integrations/notifiertest"
)

// Options configure a Server. notifiertest's HTTP-style answers map to
// SMTP replies like this:
//
//	429 (+Retry-After N)  421 4.7.0 at MAIL FROM, "retry after N seconds"
//	5xx                   451 4.3.0 at DATA (local error, try later)
//	401, 403              535 5.7.8 at AUTH (credentials refused)
//	404, 410              550 5.1.1 at RCPT TO (mailbox unavailable)
//	other 4xx             501 5.5.4 at MAIL FROM (syntax error)
//	Hang                  no reply to DATA until the test ends
type Options struct {
	Answer notifiertest.Answer
	// TLS offers STARTTLS, or with Implicit serves TLS from the start.
	TLS      *tls.Config
	Implicit bool
	// User and Pass, when set, are the only credentials AUTH PLAIN takes,
	// and a sender must authenticate.
	User, Pass string
}

// Server is the fake mail server. Its methods are safe for concurrent use.
type Server struct {
	host string
	port int

	answer     notifiertest.Answer
	user, pass string
	release    chan struct{}

	mu   sync.Mutex
	msgs []Message
}

// Message is one accepted message.
type Message struct {
	From string   // the envelope's sender (MAIL FROM)
	To   []string // the envelope's recipients (RCPT TO)
	Data []byte   // the message as sent, headers and body
	TLS  bool     // the session was encrypted
	User string   // who authenticated, "" for nobody
}

// NewServer starts a fake mail server on 127.0.0.1; it stops when the
// test ends.
func NewServer(t testing.TB, o Options) *Server {
	t.Helper()
	f := &Server{answer: o.Answer, user: o.User, pass: o.Pass, release: make(chan struct{})}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{f: f, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.AllowInsecureAuth = o.TLS == nil
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.TLS != nil && o.Implicit {
		l = tls.NewListener(l, o.TLS)
	} else {
		s.TLSConfig = o.TLS
	}
	host, port, _ := net.SplitHostPort(l.Addr().String())
	f.host = host
	f.port, _ = strconv.Atoi(port)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	t.Cleanup(func() { close(f.release) }) // runs first: unblocks a hung DATA
	return f
}

// Host is the address the server listens on, 127.0.0.1.
func (f *Server) Host() string { return f.host }

// Port is the port the server listens on.
func (f *Server) Port() int { return f.port }

// Messages are the messages accepted so far, in order.
func (f *Server) Messages() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.msgs...)
}

type session struct {
	f    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string {
	if s.f.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if st := s.f.answer.Status; st == 401 || st == 403 {
			return smtp.ErrAuthFailed
		}
		if user != s.f.user || pass != s.f.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.f.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	switch st := s.f.answer.Status; {
	case st == 429:
		msg := "Too many messages"
		if s.f.answer.RetryAfter != "" {
			msg += ", retry after " + s.f.answer.RetryAfter + " seconds"
		}
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: msg}
	case st >= 400 && st < 500 && st != 401 && st != 403 && st != 404 && st != 410:
		return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Syntax error in parameters"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if st := s.f.answer.Status; st == 404 || st == 410 {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.f.answer.Hang {
		<-s.f.release
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Gave up"}
	}
	if s.f.answer.Status >= 500 {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Local error in processing"}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.f.mu.Lock()
	s.f.msgs = append(s.f.msgs, Message{From: s.from, To: s.to, Data: data, TLS: isTLS, User: s.user})
	s.f.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// Parsed is a multipart/alternative message taken apart: its header and
// its decoded text and HTML parts, with CRLF line ends made LF.
type Parsed struct {
	Header netmail.Header
	Text   string
	HTML   string
}

// Parse reads m as a mail reader would. A message that is not
// multipart/alternative with one text/plain and one text/html part, and
// nothing else, is an error.
func (m Message) Parse() (*Parsed, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		return nil, fmt.Errorf("Content-Type %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	p := &Parsed{Header: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			if p.Text == "" || p.HTML == "" {
				return nil, fmt.Errorf("a text part of %d bytes and an HTML part of %d, want both", len(p.Text), len(p.HTML))
			}
			return p, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read part: %w", err)
		}
		body, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("read part: %w", err)
		}
		s := strings.ReplaceAll(string(body), "\r\n", "\n")
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			p.Text = s
		case "text/html":
			p.HTML = s
		default:
			return nil, fmt.Errorf("unexpected part %s", ct)
		}
	}
}

// Get returns header name with its encoded words (RFC 2047) decoded, or
// as it is when they do not decode.
func (p *Parsed) Get(name string) string {
	raw := p.Header.Get(name)
	v, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		return raw
	}
	return v
}

// SelfSignedTLS makes a self-signed certificate for 127.0.0.1 and
// localhost, and returns a server config serving it (Options.TLS) and a
// client config that trusts it.
func SelfSignedTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tocsin test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	return server, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
