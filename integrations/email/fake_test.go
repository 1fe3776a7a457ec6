package email

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/tocsin/tocsin/integrations/notifiertest"
)

// fakeSMTP is an in-process SMTP server (emersion/go-smtp) that records
// what it accepts and answers as told. notifiertest's HTTP-style answers
// map to SMTP replies like this:
//
//	429 (+Retry-After N)  421 4.7.0 at MAIL FROM, "retry after N seconds"
//	5xx                   451 4.3.0 at DATA (local error, try later)
//	401, 403              535 5.7.8 at AUTH (credentials refused)
//	404, 410              550 5.1.1 at RCPT TO (mailbox unavailable)
//	other 4xx             501 5.5.4 at MAIL FROM (syntax error)
//	Hang                  no reply to DATA until the test ends
type fakeSMTP struct {
	host string
	port int

	answer     notifiertest.Answer
	user, pass string
	release    chan struct{}

	mu   sync.Mutex
	msgs []fakeMessage
}

// fakeMessage is one accepted message.
type fakeMessage struct {
	From string
	To   []string
	Data []byte
	TLS  bool   // the session was encrypted
	User string // who authenticated, "" for nobody
}

type fakeOptions struct {
	Answer notifiertest.Answer
	// TLS offers STARTTLS, or with Implicit serves TLS from the start.
	TLS      *tls.Config
	Implicit bool
	// User and Pass, when set, are the only credentials AUTH PLAIN takes.
	User, Pass string
}

func newFakeSMTP(t *testing.T, o fakeOptions) *fakeSMTP {
	t.Helper()
	f := &fakeSMTP{answer: o.Answer, user: o.User, pass: o.Pass, release: make(chan struct{})}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &fakeSession{f: f, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.AllowInsecureAuth = o.TLS == nil
	var l net.Listener
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

// smtpConfig is the server's settings for a Notifier.
func (f *fakeSMTP) smtpConfig(tlsMode string) SMTP {
	return SMTP{Host: f.host, Port: f.port, Username: f.user, Password: f.pass, TLS: tlsMode}
}

func (f *fakeSMTP) messages() []fakeMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMessage(nil), f.msgs...)
}

type fakeSession struct {
	f    *fakeSMTP
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (s *fakeSession) AuthMechanisms() []string {
	if s.f.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *fakeSession) Auth(string) (sasl.Server, error) {
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

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
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

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if st := s.f.answer.Status; st == 404 || st == 410 {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
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
	s.f.msgs = append(s.f.msgs, fakeMessage{From: s.from, To: s.to, Data: data, TLS: isTLS, User: s.user})
	s.f.mu.Unlock()
	return nil
}

func (s *fakeSession) Reset()        { s.from, s.to = "", nil }
func (s *fakeSession) Logout() error { return nil }

// testTLS makes a self-signed certificate for 127.0.0.1 and returns the
// server's config and a client config that trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
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
