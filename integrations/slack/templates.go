package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/templates"
)

// The Slack templates (templates/builtin/slack/) render a message as JSON:
// {"text": …, "attachments": [{"color": …, "fallback": …, "blocks": […]}]}.
// Every value a template can print is escaped for Slack's mrkdwn (Escape)
// and then for the inside of a JSON string, and the output is read back
// into slack-go's types and checked (parseMessage) before it is posted:
// event data cannot mention anyone, link anywhere or add blocks.
var (
	alertTemplate = &templates.Template{Name: "slack/alert.json", Format: templates.JSON,
		View: func(n *integrations.Notification) any { return alertView(n, sampleOptions(n)) }, Validate: validate, Links: templates.SlackLinks}
	digestTemplate = &templates.Template{Name: "slack/digest.json", Format: templates.JSON,
		View: func(n *integrations.Notification) any { return digestView(n) }, Validate: validate, Links: templates.SlackLinks}
	summaryTemplate = &templates.Template{Name: "slack/summary.json", Format: templates.JSON,
		View: func(n *integrations.Notification) any { return summaryView(n) }, Validate: validate, Links: templates.SlackLinks}
)

// Templates are the Slack templates an organization, project or
// integration may override.
var Templates = templates.Registry{alertTemplate, digestTemplate, summaryTemplate}

// message is what one chat.postMessage, chat.update or webhook carries.
type message struct {
	text       string // the notification's text, for pushes and screen readers
	attachment slack.Attachment
}

// messageOptions selects the parts of an issue's message.
type messageOptions struct {
	card    bool // the issue's card
	status  bool // who changed the status, atop (or instead of) the card
	buttons bool // with a bot token, on the thread's parent
	event   bool // show the event's part (environment, tags, message)
}

// sampleOptions are the parts checks and previews render: a status
// change above the card, or the full card.
func sampleOptions(n *integrations.Notification) messageOptions {
	if isStatusChange(n.Kind) && n.Kind != integrations.KindRegression {
		return messageOptions{card: true, status: true}
	}
	return messageOptions{card: true, buttons: true, event: true}
}

// value escapes event data for the templates: mrkdwn, then JSON.
func value(s string) string { return templates.JSONString(escapeN(s, maxField)) }

// js makes mrkdwn composed from escaped parts printable in a JSON string.
func js(s string) templates.Safe { return templates.Safe(templates.JSONString(s)) }

// data is the notification as every Slack template sees it.
type data struct {
	templates.Notice
	loc     *locale.Localizer
	Digest  []integrations.DigestItem
	Summary *integrations.Summary
}

func newData(n *integrations.Notification) data {
	d := data{Notice: templates.NewNotice(n, value), loc: locale.For(n.Language),
		Digest: templates.EscapeStrings(n.Digest, value), Summary: templates.EscapeStrings(n.Summary, value)}
	d.Issue.URL = href(n.Issue.URL)
	if d.Event != nil {
		d.Event.URL = href(n.Event.URL)
	}
	if d.Rule != nil {
		d.Rule.URL = href(n.Rule.URL)
	}
	for i := range d.Digest {
		d.Digest[i].Issue.URL = href(n.Digest[i].Issue.URL)
	}
	if d.Summary != nil {
		for i := range d.Summary.TopIssues {
			d.Summary.TopIssues[i].URL = href(n.Summary.TopIssues[i].URL)
		}
		for i := range d.Summary.NewTop {
			d.Summary.NewTop[i].URL = href(n.Summary.NewTop[i].URL)
		}
	}
	return d
}

// href is an http(s) URL ready for a mrkdwn link <href|text> in a JSON
// string, "" for any other.
func href(raw string) string {
	l := link(raw, "")
	if l == "" {
		return ""
	}
	return templates.JSONString(strings.TrimSuffix(strings.TrimPrefix(l, "<"), "|>"))
}

// T is a catalog message in the notification's language, for a JSON
// string (values passed to it are escaped a second time).
func (d data) T(id string, args ...any) string { return templates.JSONString(d.loc.T(id, args...)) }

// field is one of a section's fields: "*Name*\nValue".
type field struct{ Name, Value templates.Safe }

// newField takes mrkdwn (escaped already).
func newField(name, value string) field { return field{js(name), js(value)} }

// button is one of the card's buttons.
type button struct{ ActionID, Value, Text, Style templates.Safe }

func newButton(action, value, text string, style slack.Style) button {
	return button{js(action), js(value), js(text), js(string(style))}
}

// issueView is what slack/alert.json sees: the data and the parts of the
// built-in message, composed already.
type issueView struct {
	data
	// Card says the issue's card is shown; StatusLine, when set, says who
	// changed the status, atop the card or alone (a thread's reply).
	Card       bool
	StatusLine templates.Safe
	// Text is the notification's plain text (pushes, screen readers).
	Text   templates.Safe
	Colour templates.Safe
	// Head is the linked title, the culprit and the event's message.
	Head          templates.Safe
	Fields, Tags  []field
	Notes, Footer templates.Safe
	Buttons       []button
}

func alertView(n *integrations.Notification, o messageOptions) issueView {
	loc := locale.For(n.Language)
	v := issueView{data: newData(n), Card: o.card, Text: js(fallback(n)), Colour: js(colour(n))}
	if o.status {
		v.StatusLine = js(statusLine(n))
	}
	if !o.card {
		return v
	}
	is := &n.Issue
	title := is.Title
	if title == "" {
		title = loc.T("NoTitle")
	}
	head := "*" + link(is.URL, escapeN(title, maxTitle)) + "*"
	if is.Culprit != "" {
		head += "\n" + escapeN(is.Culprit, maxField)
	}
	if ev := n.Event; o.event && ev != nil && ev.Message != "" && ev.Message != is.Title {
		head += "\n>" + strings.ReplaceAll(escapeN(ev.Message, maxMessage), "\n", "\n>")
	}
	v.Head = js(head)
	add := func(name, value string) {
		if value != "" {
			v.Fields = append(v.Fields, newField(name, escapeN(value, maxField)))
		}
	}
	add(loc.T("Project"), firstOf(is.Project.Name, is.Project.Slug))
	if n.Event != nil && o.event {
		add(loc.T("Environment"), n.Event.Environment)
	}
	add(loc.T("Level"), is.Level)
	add(loc.T("Status"), statusText(n))
	add(loc.T("Events"), strconv.FormatInt(is.Count, 10))
	add(loc.T("Users"), strconv.FormatInt(is.UserCount, 10))
	if !is.FirstSeen.IsZero() {
		v.Fields = append(v.Fields, newField(loc.T("FirstSeen"), slackDate(is.FirstSeen)))
	}
	add(loc.T("Release"), release(n))
	if o.event {
		v.Tags = selectedTags(n)
	}
	if notes, _ := n.Options["notes"].(string); strings.TrimSpace(notes) != "" {
		v.Notes = js(escapeNotes(notes))
	}
	if o.buttons {
		v.Buttons = buttons(n)
	}
	v.Footer = js(footer(n))
	return v
}

// statusLine says who did what to the issue.
func statusLine(n *integrations.Notification) string {
	loc := locale.For(n.Language)
	var s string
	switch n.Kind {
	case integrations.KindResolved:
		s = loc.T("SlackResolved")
	case integrations.KindIgnored:
		s = loc.T("SlackIgnored")
	case integrations.KindUnresolved:
		s = loc.T("SlackUnresolved")
	case integrations.KindAssigned:
		s = loc.T("SlackAssigned")
		if n.Issue.Assignee != "" {
			s += loc.T("SlackAssignedTo", "Assignee", escapeN(n.Issue.Assignee, maxField))
		}
	}
	if n.Actor != "" {
		s += loc.T("By", "Actor", escapeN(n.Actor, maxField))
	}
	return s
}

// issueMessage renders the issue's message with the parts o selects;
// warning says why an override was set aside.
func issueMessage(n *integrations.Notification, o messageOptions) (message, string, error) {
	return renderMessage(alertTemplate, n, alertView(n, o))
}

// renderMessage renders t and reads the message back.
func renderMessage(t *templates.Template, n *integrations.Notification, v any) (message, string, error) {
	out, warning, err := t.RenderView(n, v)
	if err != nil {
		return message{}, warning, fmt.Errorf("slack: render %s: %w", t.Name, err)
	}
	m, err := parseMessage(out)
	if err != nil { // validate passed already: the built-in one is wrong
		return message{}, warning, fmt.Errorf("slack: render %s: %w", t.Name, err)
	}
	return m, warning, nil
}

// Block Kit limits; https://api.slack.com/reference/block-kit/blocks
const (
	maxBlocks        = 50
	maxSectionText   = 3000
	maxSectionFields = 10
	maxFieldText     = 2000
	maxContextElems  = 10
	maxHeaderText    = 150
	maxButtonText    = 75
	maxActions       = 25
)

// validate checks a rendered message: see parseMessage.
func validate(out string) error {
	_, err := parseMessage(out)
	return err
}

// parseMessage reads a rendered message into slack-go's types: one
// attachment whose blocks are of the kinds Tocsin sends (section,
// context, actions, divider, header) within Slack's limits. Every mrkdwn
// text is made verbatim, so that Slack links no name, channel or URL that
// the template did not.
func parseMessage(out string) (message, error) {
	var raw struct {
		Text        string             `json:"text"`
		Attachments []slack.Attachment `json:"attachments"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return message{}, fmt.Errorf("not a Slack message: %w", err)
	}
	if len(raw.Attachments) != 1 {
		return message{}, fmt.Errorf("a message has one attachment, not %d", len(raw.Attachments))
	}
	a := raw.Attachments[0]
	if err := checkBlocks(a.Blocks.BlockSet); err != nil {
		return message{}, err
	}
	return message{text: raw.Text, attachment: a}, nil
}

func checkBlocks(blocks []slack.Block) error {
	if len(blocks) == 0 || len(blocks) > maxBlocks {
		return fmt.Errorf("%d blocks: a message has 1 to %d", len(blocks), maxBlocks)
	}
	for i, b := range blocks {
		var err error
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text == nil && len(b.Fields) == 0 {
				err = errors.New("a section needs a text or fields")
			}
			err = errors.Join(err, checkText(b.Text, maxSectionText))
			if len(b.Fields) > maxSectionFields {
				err = errors.Join(err, fmt.Errorf("%d fields, at most %d", len(b.Fields), maxSectionFields))
			}
			for _, f := range b.Fields {
				err = errors.Join(err, checkText(f, maxFieldText))
			}
			if b.Accessory != nil {
				err = errors.Join(err, errors.New("section accessories are not supported"))
			}
		case *slack.ContextBlock:
			elems := b.ContextElements.Elements
			if len(elems) == 0 || len(elems) > maxContextElems {
				err = fmt.Errorf("%d context elements: 1 to %d", len(elems), maxContextElems)
			}
			for _, e := range elems {
				t, ok := e.(*slack.TextBlockObject)
				if !ok {
					err = errors.Join(err, errors.New("context elements are texts"))
					continue
				}
				err = errors.Join(err, checkText(t, maxSectionText))
			}
		case *slack.ActionBlock:
			if b.Elements == nil || len(b.Elements.ElementSet) == 0 || len(b.Elements.ElementSet) > maxActions {
				err = fmt.Errorf("actions hold 1 to %d buttons", maxActions)
				break
			}
			for _, e := range b.Elements.ElementSet {
				btn, ok := e.(*slack.ButtonBlockElement)
				if !ok {
					err = errors.Join(err, errors.New("actions hold buttons"))
					continue
				}
				if btn.URL != "" {
					err = errors.Join(err, errors.New("buttons do not link"))
				}
				err = errors.Join(err, checkText(btn.Text, maxButtonText))
			}
		case *slack.HeaderBlock:
			err = checkText(b.Text, maxHeaderText)
			if b.Text == nil || b.Text.Type != slack.PlainTextType {
				err = errors.Join(err, errors.New("a header is plain text"))
			}
		case *slack.DividerBlock:
		default:
			err = fmt.Errorf("block type %q is not supported", b.BlockType())
		}
		if err != nil {
			return fmt.Errorf("block %d: %w", i+1, err)
		}
	}
	return nil
}

// checkText checks a text object's type and length, and makes mrkdwn
// verbatim.
func checkText(t *slack.TextBlockObject, limit int) error {
	if t == nil {
		return nil
	}
	switch t.Type {
	case slack.MarkdownType:
		t.Verbatim = true
	case slack.PlainTextType:
	default:
		return fmt.Errorf("text type %q is not mrkdwn or plain_text", t.Type)
	}
	if n := utf8.RuneCountInString(t.Text); n > limit {
		return fmt.Errorf("a text of %d characters, at most %d", n, limit)
	}
	return nil
}
