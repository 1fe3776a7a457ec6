package email

import (
	"context"
	"crypto/tls"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email/emailtest"
	"github.com/tocsin/tocsin/integrations/notifiertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	testFrom = "Tocsin <alerts@tocsin.example.com>"
	testUser = "tocsin@example.com"
	testPass = "smtp-p4ss-9c1e"
)

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// setup starts a fake server and a Notifier talking to it in tlsMode.
func setup(t *testing.T, o emailtest.Options, tlsMode string, clientTLS *tls.Config) (*Notifier, *emailtest.Server) {
	t.Helper()
	f := emailtest.NewServer(t, o)
	opts := []Option{WithNowFunc(func() time.Time { return testNow })}
	if clientTLS != nil {
		opts = append(opts, WithTLSConfig(clientTLS))
	}
	n, err := New(smtpConfig(f, o, tlsMode), testFrom, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return n, f
}

// smtpConfig is the settings of a Notifier for the fake server f, started
// with o, in tlsMode.
func smtpConfig(f *emailtest.Server, o emailtest.Options, tlsMode string) SMTP {
	return SMTP{Host: f.Host(), Port: f.Port(), Username: o.User, Password: o.Pass, TLS: tlsMode}
}

func notification(kind string) *integrations.Notification {
	return &integrations.Notification{
		Kind:           kind,
		IdempotencyKey: "rule-7.issue-42.email-2.1710428966",
		Target:         "Ops Team <ops@example.com>, dev@example.com",
		Issue: integrations.Issue{
			ID:        42,
			ShortID:   "BACKEND-1A",
			Title:     `ValueError: bad "input" <script>alert(1)</script>`,
			Culprit:   "app.views in checkout",
			Level:     "error",
			Status:    "unresolved",
			Substatus: "new",
			Platform:  "python",
			Count:     12,
			UserCount: 3,
			FirstSeen: time.Date(2026, 3, 14, 14, 0, 0, 0, time.UTC),
			LastSeen:  time.Date(2026, 3, 14, 15, 9, 0, 0, time.UTC),
			Project:   integrations.Project{ID: 7, Slug: "backend", Name: "Backend"},
			URL:       "https://tocsin.example.com/organizations/acme/issues/42/",
		},
		Event: &integrations.Event{
			ID:          "e4874d664c3540c1a32eab185f12c5ab",
			Message:     "bad \"input\" <script>alert(1)</script> & <img src=x onerror=alert(2)>",
			Environment: "production",
			Release:     "backend@1.4.2",
			Tags:        [][2]string{{"browser", "Chrome <124>"}, {"url", "javascript:alert(3)"}},
			Stacktrace:  []string{"app.main in run at line 3", "app.views in checkout at line 12"},
			URL:         "javascript:alert(4)",
		},
		Rule:    &integrations.Rule{ID: 7, Name: "Page on <b>new</b> errors", URL: "https://tocsin.example.com/alerts/7/"},
		Options: map[string]any{"unsubscribe_url": "https://tocsin.example.com/account/notifications/?project=7"},
		At:      testNow,
	}
}

// parse takes a received message apart.
func parse(t *testing.T, m emailtest.Message) *emailtest.Parsed {
	t.Helper()
	p, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, got)
	}
}

func TestNotifier_Notify(t *testing.T) {
	t.Parallel()
	e, f := setup(t, emailtest.Options{}, TLSNone, nil)
	res, err := e.Notify(context.Background(), notification(integrations.KindAlert))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Handle, "tocsin.issue.42.") || !strings.HasSuffix(res.Handle, "@tocsin.example.com") || res.Status != 0 {
		t.Errorf("result %+v, want the message's id, the thread root, as handle", res)
	}
	msgs := f.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "alerts@tocsin.example.com" || strings.Join(got.To, ",") != "ops@example.com,dev@example.com" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	p := parse(t, got)
	for name, want := range map[string]string{
		"Subject":                  `[Tocsin] BACKEND-1A: ValueError: bad "input" <script>alert(1)</script>`,
		"From":                     `"Tocsin" <alerts@tocsin.example.com>`,
		"To":                       `"Ops Team" <ops@example.com>, <dev@example.com>`,
		"Message-Id":               "<" + res.Handle + ">",
		"In-Reply-To":              "",
		"References":               "",
		"List-Unsubscribe":         "<mailto:alerts@tocsin.example.com?subject=unsubscribe>, <https://tocsin.example.com/account/notifications/?project=7>",
		"Auto-Submitted":           "auto-generated",
		"Date":                     "Sat, 14 Mar 2026 15:09:26 +0000",
		"Mime-Version":             "1.0",
		"X-Mailer":                 "Tocsin",
		"X-Auto-Response-Suppress": "All",
	} {
		if v := p.Get(name); v != want {
			t.Errorf("%s: %q, want %q", name, v, want)
		}
	}

	// The text part is plain; the HTML part escapes every value.
	if !strings.Contains(p.Text, "<script>alert(1)</script>") {
		t.Errorf("text part lost the event data:\n%s", p.Text)
	}
	for _, bad := range []string{"<script", "<img", "<b>new", `href="javascript:`, "onerror=alert(2)>"} {
		if strings.Contains(p.HTML, bad) {
			t.Errorf("HTML part carries %q unescaped", bad)
		}
	}
	if !strings.Contains(p.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("HTML part does not show the escaped title:\n%s", p.HTML)
	}
	if strings.Contains(p.Text, "javascript:alert(4)") || strings.Contains(p.HTML, "javascript:alert(4)") {
		t.Error("a javascript: link is shown")
	}
	checkGolden(t, "alert.txt", p.Text)
	checkGolden(t, "alert.html", p.HTML)
}

func TestNotifier_Notify_threading(t *testing.T) {
	t.Parallel()
	e, f := setup(t, emailtest.Options{}, TLSNone, nil)
	first := notification(integrations.KindAlert)
	res, err := e.Notify(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	root := "<" + res.Handle + ">"

	later := notification(integrations.KindRegression)
	later.Handle = res.Handle
	later.IdempotencyKey = "rule-7.issue-42.email-2.1710500000"
	later.Options = nil
	if _, err := e.Notify(context.Background(), later); err != nil {
		t.Fatal(err)
	}
	retry := *later // the same notification again: same Message-ID
	if _, err := e.Notify(context.Background(), &retry); err != nil {
		t.Fatal(err)
	}

	msgs := f.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	p0, p1, p2 := parse(t, msgs[0]), parse(t, msgs[1]), parse(t, msgs[2])
	if p0.Get("Message-Id") != root {
		t.Errorf("first Message-ID %q, want the root %q", p0.Get("Message-Id"), root)
	}
	id := p1.Get("Message-Id")
	if id == root || !strings.HasPrefix(id, "<tocsin.issue.42.") || !strings.HasSuffix(id, "@tocsin.example.com>") {
		t.Errorf("follow-up Message-ID %q", id)
	}
	if p1.Get("In-Reply-To") != root || p1.Get("References") != root {
		t.Errorf("follow-up In-Reply-To %q References %q, want %q", p1.Get("In-Reply-To"), p1.Get("References"), root)
	}
	if p2.Get("Message-Id") != id {
		t.Errorf("a retry got Message-ID %q, want %q again", p2.Get("Message-Id"), id)
	}
	// Another first alert about the issue (a second rule firing at once)
	// is its own message, not a copy mail services would drop.
	other := notification(integrations.KindAlert)
	other.IdempotencyKey = "rule-8.issue-42.email-1.1710400000"
	res2, err := e.Notify(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Handle == res.Handle {
		t.Errorf("two first alerts share the Message-ID %q", res.Handle)
	}
	if s := p1.Get("Subject"); !strings.HasPrefix(s, "[Tocsin] Regression: BACKEND-1A: ") {
		t.Errorf("regression subject %q", s)
	}
	if v := p1.Get("List-Unsubscribe"); v != "<mailto:alerts@tocsin.example.com?subject=unsubscribe>" {
		t.Errorf("List-Unsubscribe without a URL: %q", v)
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ kind, want string }{
		{integrations.KindAlert, "[Tocsin] DEFAULT-1A: TypeError: x is undefined"},
		{integrations.KindRegression, "[Tocsin] Regression: DEFAULT-1A: TypeError: x is undefined"},
		{integrations.KindResolved, "[Tocsin] Resolved: DEFAULT-1A: TypeError: x is undefined"},
		{integrations.KindAssigned, "[Tocsin] Assigned: DEFAULT-1A: TypeError: x is undefined"},
		{integrations.KindTest, "[Tocsin] Test: DEFAULT-1A: TypeError: x is undefined"},
	} {
		n := &integrations.Notification{Kind: tc.kind, Issue: integrations.Issue{ShortID: "DEFAULT-1A", Title: "TypeError:\r\n x \x00is   undefined"}}
		if got := Subject(n); got != tc.want {
			t.Errorf("Subject(%s) = %q, want %q", tc.kind, got, tc.want)
		}
	}
	long := &integrations.Notification{Kind: integrations.KindAlert, Issue: integrations.Issue{ShortID: "X-1", Title: strings.Repeat("é", 500)}}
	if n := len([]rune(Subject(long))); n > 200 {
		t.Errorf("subject of %d runes, want it cut", n)
	}
}

func TestNotifier_Notify_classification(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := emailtest.SelfSignedTLS(t)
	notifiertest.Run(t, func(t *testing.T, a notifiertest.Answer) (integrations.Notifier, *integrations.Notification, []string) {
		e, _ := setup(t, emailtest.Options{Answer: a, TLS: serverTLS, User: testUser, Pass: testPass}, TLSStartTLS, clientTLS)
		return e, notification(integrations.KindAlert), []string{testPass}
	})
}

func TestNotifier_Notify_tls(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := emailtest.SelfSignedTLS(t)
	for _, tc := range []struct {
		name     string
		mode     string
		implicit bool
	}{
		{"starttls", TLSStartTLS, false},
		{"implicit tls", TLSImplicit, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, f := setup(t, emailtest.Options{TLS: serverTLS, Implicit: tc.implicit, User: testUser, Pass: testPass}, tc.mode, clientTLS)
			if _, err := e.Notify(context.Background(), notification(integrations.KindAlert)); err != nil {
				t.Fatal(err)
			}
			msgs := f.Messages()
			if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != testUser {
				t.Fatalf("want one message over TLS after AUTH, got %+v", msgs)
			}
		})
	}

	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		e, f := setup(t, emailtest.Options{TLS: serverTLS, User: testUser, Pass: testPass}, TLSStartTLS, nil)
		_, err := e.Notify(context.Background(), notification(integrations.KindAlert))
		notifiertest.Check(t, notifiertest.Case{Want: "retry", Reason: integrations.ReasonNetwork}, err, []string{testPass})
		if len(f.Messages()) != 0 {
			t.Error("a message went out over an untrusted connection")
		}
	})

	t.Run("starttls required but not offered", func(t *testing.T) {
		t.Parallel()
		e, _ := setup(t, emailtest.Options{}, TLSStartTLS, clientTLS)
		_, err := e.Notify(context.Background(), notification(integrations.KindAlert))
		notifiertest.Check(t, notifiertest.Case{Want: "permanent", Reason: integrations.ReasonConfig}, err, nil)
	})
}

func TestNotifier_Notify_attemptTimeout(t *testing.T) {
	t.Parallel()
	o := emailtest.Options{Answer: notifiertest.Answer{Hang: true}}
	f := emailtest.NewServer(t, o)
	e, err := New(smtpConfig(f, o, TLSNone), testFrom, WithTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = e.Notify(context.Background(), notification(integrations.KindAlert))
	notifiertest.Check(t, notifiertest.Case{Want: "retry", Reason: integrations.ReasonNetwork}, err, nil)
	if !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("error %q does not report the attempt's deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the attempt took %s", d)
	}
}

func TestNotifier_Notify_badTarget(t *testing.T) {
	t.Parallel()
	e, f := setup(t, emailtest.Options{}, TLSNone, nil)
	for _, target := range []string{"", "not an address", "a@example.com,, <b@"} {
		n := notification(integrations.KindAlert)
		n.Target = target
		_, err := e.Notify(context.Background(), n)
		notifiertest.Check(t, notifiertest.Case{Want: "permanent", Reason: integrations.ReasonConfig}, err, nil)
	}
	if len(f.Messages()) != 0 {
		t.Error("a message went out")
	}
}

func TestReplyWait(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]time.Duration{
		"4.7.0 Too many messages, retry after 5 seconds": 5 * time.Second,
		"4.7.0 try again in 2 minutes":                   2 * time.Minute,
		"Rate limited, retry in 30s":                     30 * time.Second,
		"4.7.0 Try again later":                          0,
		"retry after 999999 seconds":                     time.Hour,
	} {
		if got := replyWait(text); got != want {
			t.Errorf("replyWait(%q) = %s, want %s", text, got, want)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	s := SMTP{Host: "smtp.example.com", Port: 587, TLS: TLSStartTLS}
	if _, err := New(s, "not an address"); err == nil {
		t.Error("a bad from address must be refused")
	}
	if _, err := New(SMTP{}, testFrom); err == nil {
		t.Error("no server must be refused")
	}
	e, err := New(s, "Tocsin <alerts@Mail.Example.COM>")
	if err != nil || e.domain != "mail.example.com" {
		t.Errorf("New: %v, domain %q", err, e.domain)
	}
}

// The subject comes from its template, which can be overridden; event data
// cannot add a header through it (a line break makes the override count
// as broken: the built-in subject is used, with a warning).
func TestNotifier_Notify_subjectTemplate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body, title, want string
		warned                  bool
	}{
		{name: "override", body: "[{{.Project}}] {{.Issue.ShortID}} {{.Issue.Level}}", title: "ValueError",
			want: "[Backend] BACKEND-1A error"},
		{name: "a title that breaks the line", body: "{{.Issue.Title}}", title: "boom\r\nBcc: victim@example.com",
			want: "[Tocsin] BACKEND-1A: boom Bcc: victim@example.com", warned: true},
		{name: "an empty subject", body: "{{/* nothing */}}", title: "ValueError",
			want: "[Tocsin] BACKEND-1A: ValueError", warned: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e, f := setup(t, emailtest.Options{}, TLSNone, nil)
			n := notification(integrations.KindAlert)
			n.Issue.Title = c.title
			n.Templates = map[string]string{"email/subject.txt": c.body}
			res, err := e.Notify(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			p := parse(t, f.Messages()[0])
			if got := p.Get("Subject"); got != c.want {
				t.Errorf("Subject %q, want %q", got, c.want)
			}
			if p.Get("Bcc") != "" {
				t.Errorf("a Bcc header came in: %q", p.Get("Bcc"))
			}
			if warned := strings.Contains(res.Warning, "email/subject.txt"); warned != c.warned {
				t.Errorf("warning %q, want one naming the template: %v", res.Warning, c.warned)
			}
		})
	}
}
