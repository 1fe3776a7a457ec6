package email

import (
	"errors"
	"strings"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/templates"
)

// The email templates, built in under templates/builtin/email/. The text
// parts print values as they are; the HTML parts escape them by context
// (html/template): event data cannot add markup, and javascript: links
// become "#ZgotmplZ".
var (
	subjectText = &templates.Template{Name: "email/subject.txt", Format: templates.Text,
		View: func(n *integrations.Notification) any { return newView(n) }, Validate: oneLineSubject}
	notificationText = emailTemplate("email/notification.txt", templates.Text)
	notificationHTML = emailTemplate("email/notification.html", templates.HTML)
	digestText       = emailTemplate("email/digest.txt", templates.Text)
	digestHTML       = emailTemplate("email/digest.html", templates.HTML)
	summaryText      = emailTemplate("email/summary.txt", templates.Text)
	summaryHTML      = emailTemplate("email/summary.html", templates.HTML)
)

// Templates are the email templates an organization, project or
// integration may override.
var Templates = templates.Registry{subjectText, notificationText, notificationHTML, digestText, digestHTML, summaryText, summaryHTML}

// maxSubject bounds a subject's length: a longer one is cut (RFC 5322
// allows 998 characters a line; mail clients show far fewer).
const maxSubject = 250

// oneLineSubject checks a rendered subject: one line, not empty.
func oneLineSubject(out string) error {
	s := strings.TrimSpace(out)
	switch {
	case s == "":
		return errors.New("the subject is empty")
	case strings.ContainsAny(s, "\r\n"):
		return errors.New("the subject must be one line")
	}
	return nil
}

func emailTemplate(name string, f templates.Format) *templates.Template {
	t := &templates.Template{Name: name, Format: f, View: func(n *integrations.Notification) any { return newView(n) }}
	if f == templates.HTML {
		t.Links = templates.HTMLLinks
	}
	return t
}
