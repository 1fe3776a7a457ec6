package email

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
)

// TemplateNames are the email templates an organization, project or
// integration may override; their built-in bodies are DefaultTemplate's.
var TemplateNames = []string{
	"email/notification.txt", "email/notification.html",
	"email/digest.txt", "email/digest.html",
	"email/summary.txt", "email/summary.html",
}

// DefaultTemplate is the built-in body of a template name, readable as an
// example for overrides.
func DefaultTemplate(name string) (string, bool) {
	file, ok := strings.CutPrefix(name, "email/")
	if !ok {
		return "", false
	}
	b, err := fs.ReadFile(templateFS, "templates/"+file)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// executor is a parsed text or HTML template.
type executor interface {
	Execute(w io.Writer, data any) error
}

// parsed keeps overrides once parsed, by name and body.
var parsed sync.Map // string → executor

// parseOverride parses body as the template name: with html/template for
// .html (so values are escaped by context, as in the built-in ones), with
// text/template otherwise.
func parseOverride(name, body string) (executor, error) {
	key := name + "\x00" + body
	if t, ok := parsed.Load(key); ok {
		return t.(executor), nil
	}
	var t executor
	var err error
	if strings.HasSuffix(name, ".html") {
		t, err = htmltemplate.New(name).Option("missingkey=error").Parse(body)
	} else {
		t, err = texttemplate.New(name).Option("missingkey=error").Parse(body)
	}
	if err != nil {
		return nil, err
	}
	parsed.Store(key, t)
	return t, nil
}

// render executes template name for v: the override in overrides when
// there is one and it parses and runs, else the built-in def. warning says
// why an override was not used; a broken override never stops a message.
func render(name string, def executor, overrides map[string]string, v view) (out, warning string, err error) {
	if body, ok := overrides[name]; ok {
		t, perr := parseOverride(name, body)
		if perr == nil {
			var b bytes.Buffer
			if perr = t.Execute(&b, v); perr == nil {
				return b.String(), "", nil
			}
		}
		warning = fmt.Sprintf("template %s does not work, the built-in one was used: %v", name, perr)
	}
	var b bytes.Buffer
	if err := def.Execute(&b, v); err != nil {
		return "", warning, err
	}
	return b.String(), warning, nil
}

// CheckTemplate parses body as the template name and renders it against
// sample messages in every language, so that an override is refused when
// saved rather than found broken when an alert is sent. The error says
// where (line and column) and what.
func CheckTemplate(name, body string) error {
	known := false
	for _, n := range TemplateNames {
		known = known || n == name
	}
	if !known {
		return fmt.Errorf("%q is not a template name (%s)", name, strings.Join(TemplateNames, ", "))
	}
	for _, lang := range locale.Languages {
		if _, err := Preview(name, body, sampleNotification(name, lang)); err != nil {
			return err
		}
	}
	return nil
}

// Preview renders body as the template name for a notification, as a
// delivery would, but reporting an error instead of falling back.
func Preview(name, body string, n *integrations.Notification) (string, error) {
	t, err := parseOverride(name, body)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, newView(n)); err != nil {
		return "", err
	}
	return b.String(), nil
}

// sampleNotification is what CheckTemplate renders a template against.
func sampleNotification(name, lang string) *integrations.Notification {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	project := integrations.Project{ID: 1, Slug: "backend", Name: "Backend"}
	issue := integrations.Issue{ID: 42, ShortID: "BACKEND-1A", Title: "ZeroDivisionError: division by zero",
		Culprit: "app.billing in compute_invoice", Level: "error", Status: "unresolved", Count: 12, UserCount: 3,
		FirstSeen: at.Add(-time.Hour), LastSeen: at, Project: project, Organization: "acme",
		URL: "https://tocsin.example.com/organizations/acme/issues/42/"}
	n := &integrations.Notification{Kind: integrations.KindAlert, IdempotencyKey: "sample", Target: "ops@example.com",
		Issue: issue, Language: lang, At: at,
		Event: &integrations.Event{ID: "c0ffee00c0ffee00c0ffee00c0ffee00", Message: "division by zero", Environment: "production",
			Release: "backend@1.4.2", Tags: [][2]string{{"browser", "Firefox"}}, Stacktrace: []string{"app.billing in compute_invoice at line 3"},
			URL: issue.URL + "events/c0ffee00c0ffee00c0ffee00c0ffee00/"},
		Rule: &integrations.Rule{ID: 7, Name: "New errors", URL: "https://tocsin.example.com/rules/7/"}}
	switch {
	case strings.HasPrefix(name, "email/digest"):
		n.Kind, n.Event, n.Rule = integrations.KindDigest, nil, nil
		n.Digest = []integrations.DigestItem{{Issue: issue, Alerts: 2, Reason: integrations.KindAlert}}
	case strings.HasPrefix(name, "email/summary"):
		n.Kind, n.Event, n.Rule = integrations.KindSummary, nil, nil
		n.Summary = &integrations.Summary{Name: "Daily", From: at.Add(-24 * time.Hour), To: at, Events: 12, NewIssues: 1,
			TopIssues:   []integrations.SummaryIssue{{ShortID: issue.ShortID, Title: issue.Title, URL: issue.URL, Events: 12, Users: 3}},
			EventsByDay: []integrations.DayCount{{Day: at.Truncate(24 * time.Hour), Events: 12}},
			Releases:    []integrations.ReleaseHealth{{Release: "backend@1.4.2", Sessions: 10, CrashFree: "90.00%"}}}
	}
	return n
}
