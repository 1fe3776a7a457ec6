package email

import (
	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/templates"
)

// The email templates, built in under templates/builtin/email/. The text
// parts print values as they are; the HTML parts escape them by context
// (html/template): event data cannot add markup, and javascript: links
// become "#ZgotmplZ".
var (
	notificationText = emailTemplate("email/notification.txt", templates.Text)
	notificationHTML = emailTemplate("email/notification.html", templates.HTML)
	digestText       = emailTemplate("email/digest.txt", templates.Text)
	digestHTML       = emailTemplate("email/digest.html", templates.HTML)
	summaryText      = emailTemplate("email/summary.txt", templates.Text)
	summaryHTML      = emailTemplate("email/summary.html", templates.HTML)
)

// Templates are the email templates an organization, project or
// integration may override.
var Templates = templates.Registry{notificationText, notificationHTML, digestText, digestHTML, summaryText, summaryHTML}

func emailTemplate(name string, f templates.Format) *templates.Template {
	t := &templates.Template{Name: name, Format: f, View: func(n *integrations.Notification) any { return newView(n) }}
	if f == templates.HTML {
		t.Links = templates.HTMLLinks
	}
	return t
}
