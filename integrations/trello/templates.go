package trello

import (
	"strings"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/templates"
)

// The Trello templates (templates/builtin/trello/). Card names are plain
// text; descriptions and comments are Markdown whose every value is
// escaped already (md, linkTo, codeBlock), so that an override cannot let
// event data form a link, an image, HTML or a mention.
var (
	nameTemplate = &templates.Template{Name: "trello/card-name.txt", Format: templates.Text,
		View: func(n *integrations.Notification) any { return nameView(n) }}
	descriptionTemplate = &templates.Template{Name: "trello/card-description.md", Format: templates.Markdown,
		View: func(n *integrations.Notification) any { return markdownView(n) }, Links: templates.MarkdownLinks}
	commentTemplate = &templates.Template{Name: "trello/comment.md", Format: templates.Markdown,
		View: func(n *integrations.Notification) any { return markdownView(n) }, Links: templates.MarkdownLinks}
)

// Templates are the Trello templates an organization, project or
// integration may override.
var Templates = templates.Registry{nameTemplate, descriptionTemplate, commentTemplate}

// data is the notification as the templates see it, its strings escaped
// by the template's format.
type data struct {
	templates.Notice
	loc *locale.Localizer
	esc func(string) string
}

func newData(n *integrations.Notification, esc func(string) string) data {
	return data{Notice: templates.NewNotice(n, esc), loc: locale.For(n.Language), esc: esc}
}

// T is a catalog message in the notification's language: as plain text in
// card names; as it is (Markdown) in descriptions and comments, where its
// arguments can only be view values, escaped already.
func (d data) T(id string, args ...any) string { return d.esc(d.loc.T(id, args...)) }

// nameView is what trello/card-name.txt sees: plain text values.
func nameView(n *integrations.Notification) data {
	return newData(n, func(s string) string { return plain(truncate(s, maxTitleRunes)) })
}

// view is what the Markdown templates see: the data, every string escaped
// as Markdown text and links reduced to http(s) ones, and the parts of
// the built-in messages, composed already.
type view struct {
	data
	// Title is the issue's title; Fields its essentials as a list; Stack
	// the stack excerpt in a code block under its heading.
	Title, Fields, Stack templates.Safe
	// Message is the event's message, when it says more than the title
	// (alerts and regressions only, in comments).
	Message templates.Safe
	// Headline is a comment's first sentences: what happened, the counts.
	Headline templates.Safe
	// OpenIssue links to the issue; OpenEvent to the event (else the issue).
	OpenIssue, OpenEvent templates.Safe
}

func markdownView(n *integrations.Notification) view {
	loc := locale.For(n.Language)
	v := view{data: newData(n, func(s string) string { return md(truncate(s, maxFieldRunes)) })}
	v.esc = func(s string) string { return s }
	v.Issue.URL = linkURL(n.Issue.URL)
	if v.Event != nil {
		v.Event.URL = linkURL(n.Event.URL)
	}
	if v.Rule != nil {
		v.Rule.URL = linkURL(n.Rule.URL)
	}
	is := &n.Issue
	v.Title = templates.Safe(md(truncate(is.Title, maxTitleRunes)))
	v.Fields, v.Stack = templates.Safe(fields(n, loc)), templates.Safe(stackBlock(n, loc))
	if ev := n.Event; ev != nil && ev.Message != "" && ev.Message != is.Title {
		v.Message = templates.Safe(md(truncate(ev.Message, maxMessageRunes)))
	}
	v.Headline = templates.Safe(headline(n, loc))
	v.OpenIssue = templates.Safe(linkTo(loc.T("OpenInTocsin", "What", firstOf(is.ShortID, loc.T("TheIssue"))), is.URL))
	v.OpenEvent = templates.Safe(linkTo(loc.T("OpenTocsin"), firstOf(eventURL(n), is.URL)))
	return v
}

// linkURL is raw as a Markdown link destination, "" unless it is an
// absolute http(s) URL.
func linkURL(raw string) string {
	l := linkTo("x", raw)
	if l == "" {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(l, "[x]("), ")")
}

// cardName is "[SHORTID] title" as one line of plain text, whatever the
// template printed.
func cardName(n *integrations.Notification) (string, string, error) {
	out, warning, err := nameTemplate.Render(n)
	return truncate(plain(out), maxTitleRunes+80), warning, err
}

// cardDescription is the card's Markdown: the issue's essentials, the
// stack excerpt, a link back, and the marker as its last line, which no
// template can leave out.
func cardDescription(n *integrations.Notification, installation string) (string, string, error) {
	out, warning, err := descriptionTemplate.Render(n)
	return strings.TrimRight(out, "\n") + "\n\n" + marker(installation, n.Issue.ID) + "\n", warning, err
}

// comment is the Markdown of a follow-up on an issue's card.
func comment(n *integrations.Notification) (string, string, error) {
	out, warning, err := commentTemplate.Render(n)
	return strings.TrimRight(out, "\n"), warning, err
}
