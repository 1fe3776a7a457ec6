package github

import (
	"strings"
	"unicode"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/templates"
)

// The GitHub templates (templates/builtin/github/). The issue's title is
// plain text; its body and comments are Markdown whose every value is
// escaped already (escapeInline, link, codeBlock), so that an override
// cannot let event data form a link, an image, HTML or a mention.
var (
	titleTemplate = &templates.Template{Name: "github/issue-title.txt", Format: templates.Text,
		View: func(n *integrations.Notification) any { return titleView(n) }}
	issueTemplate = &templates.Template{Name: "github/issue.md", Format: templates.Markdown,
		View: func(n *integrations.Notification) any { return markdownView(n, false) }, Links: templates.MarkdownLinks}
	commentTemplate = &templates.Template{Name: "github/comment.md", Format: templates.Markdown,
		View: func(n *integrations.Notification) any { return markdownView(n, true) }, Links: templates.MarkdownLinks}
)

// Templates are the GitHub templates an organization, project or
// integration may override.
var Templates = templates.Registry{titleTemplate, issueTemplate, commentTemplate}

// data is the notification as the templates see it, its strings escaped
// by the template's format.
type data struct {
	templates.Notice
	loc *locale.Localizer
}

func newData(n *integrations.Notification, esc func(string) string) data {
	return data{Notice: templates.NewNotice(n, esc), loc: locale.For(n.Language)}
}

// T is a catalog message in the notification's language. Its arguments
// are printed as given: view values, escaped already.
func (d data) T(id string, args ...any) string { return d.loc.T(id, args...) }

// plainTitle is s on one line, without control or bidirectional
// characters: GitHub shows titles as plain text, without mentions.
func plainTitle(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || dropped(r)
	}), " ")
}

// titleView is what github/issue-title.txt sees: plain text values.
func titleView(n *integrations.Notification) data { return newData(n, plainTitle) }

// view is what github/issue.md and github/comment.md see: the data, every
// string escaped as inline Markdown and links reduced to http(s) ones, and
// the parts of the built-in messages, composed already.
type view struct {
	data
	// Link is the issue's short id linked to the issue.
	Link templates.Safe
	// Headline says what happened: "**[BACKEND-1A](…)** reported by
	// Tocsin", "**Resolved:** … was resolved in Tocsin by …; closing."
	Headline templates.Safe
	// Detailed says the event's details follow (new events, regressions).
	Detailed bool
	// Message is the event's message as a quote, when it says more than
	// the title.
	Message templates.Safe
	// Facts and ShortFacts list the issue's details (all, or those that
	// change); Stack is the stack trace in a code block; Open links to the
	// issue; Footer names the rule.
	Facts, ShortFacts, Stack, Open, Footer templates.Safe
}

func markdownView(n *integrations.Notification, comment bool) view {
	loc := locale.For(n.Language)
	v := view{data: newData(n, func(s string) string { return escapeInline(s, maxFieldRunes) })}
	v.Issue.URL = linkURL(n.Issue.URL)
	if v.Event != nil {
		v.Event.URL = linkURL(n.Event.URL)
	}
	if v.Rule != nil {
		v.Rule.URL = linkURL(n.Rule.URL)
	}
	name := cmpOr(n.Issue.ShortID, loc.T("GitHubIssue"))
	if comment {
		name = cmpOr(n.Issue.ShortID, loc.T("GitHubTheIssue"))
	}
	v.Link = templates.Safe(link(name, n.Issue.URL))
	v.Headline, v.Detailed = headline(n, loc, string(v.Link), comment)
	v.Message = templates.Safe(message(n))
	v.Facts, v.ShortFacts = templates.Safe(facts(n, loc, true)), templates.Safe(facts(n, loc, false))
	v.Stack = templates.Safe(stack(n, loc))
	if dest := linkURL(n.Issue.URL); dest != "" {
		v.Open = templates.Safe("[" + loc.T("OpenInTocsin", "What", escapeInline(name, maxFieldRunes)) + "](" + dest + ")")
	}
	v.Footer = templates.Safe(footer(n, loc))
	return v
}

// headline says what happened, in a new issue's body or in a comment, and
// whether the event's details follow.
func headline(n *integrations.Notification, loc *locale.Localizer, link string, comment bool) (templates.Safe, bool) {
	if !comment {
		s := loc.T("GitHubReported", "Link", link)
		switch n.Kind {
		case integrations.KindRegression:
			s += loc.T("GitHubReportedRegression")
		case integrations.KindTest:
			s += loc.T("GitHubReportedTest")
		}
		return templates.Safe(s), true
	}
	by := ""
	if n.Actor != "" {
		by = loc.T("By", "Actor", escapeInline(n.Actor, maxFieldRunes))
	}
	switch n.Kind {
	case integrations.KindRegression:
		return templates.Safe(loc.T("GitHubRegression", "Link", link)), true
	case integrations.KindResolved:
		return templates.Safe(loc.T("GitHubResolved", "Link", link, "By", by)), false
	case integrations.KindUnresolved:
		return templates.Safe(loc.T("GitHubUnresolved", "Link", link, "By", by)), false
	case integrations.KindIgnored:
		return templates.Safe(loc.T("GitHubIgnored", "Link", link, "By", by)), false
	case integrations.KindAssigned:
		to := loc.T("GitHubSomeone")
		if n.Issue.Assignee != "" {
			to = escapeInline(n.Issue.Assignee, maxFieldRunes)
		}
		return templates.Safe(loc.T("GitHubAssigned", "Link", link, "Assignee", to, "By", by)), false
	case integrations.KindTest:
		return templates.Safe(loc.T("GitHubTest", "Link", link, "By", by)), false
	}
	return templates.Safe(loc.T("GitHubAlert", "Link", link)), true
}

// issueTitle is "[SHORTID] Issue title" on one line, within GitHub's
// limit, whatever the template printed.
func issueTitle(n *integrations.Notification) (string, string, error) {
	out, warning, err := titleTemplate.Render(n)
	return clip(plainTitle(out), maxTitleRunes), warning, err
}

// issueBody is the Markdown body of a new GitHub issue, under the hidden
// marker by which it is found again (which no template can leave out).
func issueBody(n *integrations.Notification, installation string) (string, string, error) {
	out, warning, err := issueTemplate.Render(n)
	if n.Issue.ID != 0 {
		out = "<!-- " + issueMarker(installation, n.Issue.ID) + " -->\n" + out
	}
	return strings.TrimRight(out, "\n") + "\n", warning, err
}

// commentBody is the Markdown of a follow-up comment on the GitHub issue,
// under the hidden marker of the notification it delivers.
func commentBody(n *integrations.Notification) (string, string, error) {
	out, warning, err := commentTemplate.Render(n)
	if n.IdempotencyKey != "" {
		out = "<!-- " + deliveryMarker(n.IdempotencyKey) + " -->\n" + out
	}
	return strings.TrimRight(out, "\n") + "\n", warning, err
}
