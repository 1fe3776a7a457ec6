// Package templates renders every outgoing message from a template: the
// built-in ones embedded in the binary (readable as examples in builtin/),
// or an organization's, project's or integration's override of them.
//
// Each service package declares its templates (name, output format, the
// view a notification becomes, a check of the output) and renders through
// Template.Render, which falls back to the built-in body, with a warning,
// when an override does not parse, does not run or does not produce a
// valid message: a broken override never stops a delivery.
//
// Safety does not depend on the template. A view hands the template only
// values already escaped for the output format (Markdown, Slack mrkdwn,
// the inside of a JSON string), or html/template escapes them by context;
// JSON output is parsed and re-encoded before it is used. Whatever an
// override writes, event data cannot add markup, mentions, links or JSON
// structure.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
)

//go:embed builtin
var builtinFS embed.FS

// Format is how a template is parsed and its output checked.
type Format int

const (
	// Text is plain text (text/template); the view cleans its values.
	Text Format = iota
	// HTML is parsed with html/template, which escapes values by context.
	HTML
	// Markdown is text/template over a view of Markdown-escaped values.
	Markdown
	// JSON is text/template over a view of values escaped for the inside
	// of a JSON string; the output must be one JSON value, which is
	// re-encoded (see Canonical) before Validate sees it.
	JSON
)

// Template is one overridable message template.
type Template struct {
	// Name is the template's name, "service/file.ext"; its built-in body
	// is builtin/Name.
	Name   string
	Format Format
	// View is what the template sees of a notification.
	View func(n *integrations.Notification) any
	// Validate, when set, checks a rendered output (Slack blocks, a
	// webhook body); an output it refuses counts as a broken template.
	Validate func(out string) error
	// Links, when set, are the link targets of an output (MarkdownLinks,
	// HTMLLinks, SlackLinks): an override's output may link only to the
	// notification's own links and to what the override writes out.
	Links func(out string) []string

	once    sync.Once
	builtin executor
	err     error
}

// executor is a parsed text or HTML template.
type executor interface {
	Execute(w io.Writer, data any) error
}

// Default is the built-in body of the template.
func (t *Template) Default() string {
	b, err := fs.ReadFile(builtinFS, "builtin/"+t.Name)
	if err != nil {
		panic(fmt.Sprintf("templates: no built-in body for %s: %v", t.Name, err))
	}
	return string(b)
}

// parsed keeps templates once parsed, by name and body: overrides are read
// for every delivery.
var parsed sync.Map // string → executor

// parse parses body as the template: with html/template for HTML (so that
// values are escaped by context, as in the built-in ones), with
// text/template otherwise. A missing field is an error, not "<no value>".
func (t *Template) parse(body string) (executor, error) {
	key := t.Name + "\x00" + body
	if e, ok := parsed.Load(key); ok {
		return e.(executor), nil
	}
	var e executor
	var err error
	if t.Format == HTML {
		e, err = htmltemplate.New(t.Name).Option("missingkey=error").Parse(body)
	} else {
		e, err = texttemplate.New(t.Name).Option("missingkey=error").Parse(body)
	}
	if err != nil {
		return nil, err
	}
	parsed.Store(key, e)
	return e, nil
}

// execute renders a parsed template for the view v and checks the output;
// the links of an override's output too (see checkLinks), against its body
// and n.
func (t *Template) execute(e executor, v any, n *integrations.Notification, override bool, body string) (string, error) {
	var b bytes.Buffer
	if err := e.Execute(&b, v); err != nil {
		return "", err
	}
	out := b.String()
	if t.Format == JSON {
		c, err := Canonical([]byte(out))
		if err != nil {
			return "", fmt.Errorf("template: %s: the output is not JSON: %w", t.Name, err)
		}
		out = string(c)
	}
	if t.Validate != nil {
		if err := t.Validate(out); err != nil {
			return "", fmt.Errorf("template: %s: %w", t.Name, err)
		}
	}
	if override && t.Links != nil {
		if err := checkLinks(t.Links(out), n, body); err != nil {
			return "", fmt.Errorf("template: %s: %w", t.Name, err)
		}
	}
	return out, nil
}

// Render renders the template for n: the override of n.Templates when
// there is one and it works, else the built-in body. warning says why an
// override was set aside; err is only the built-in template's failure.
func (t *Template) Render(n *integrations.Notification) (out, warning string, err error) {
	return t.RenderView(n, t.View(n))
}

// RenderView is Render with a view the notifier built itself, with what
// only it knows (its installation, its options); t.View is then what
// Check and Preview use.
func (t *Template) RenderView(n *integrations.Notification, v any) (out, warning string, err error) {
	if body, ok := n.Templates[t.Name]; ok {
		e, oerr := t.parse(body)
		if oerr == nil {
			if out, oerr = t.execute(e, v, n, true, body); oerr == nil {
				return out, "", nil
			}
		} else {
			oerr = withColumn(oerr, body)
		}
		warning = fmt.Sprintf("template %s does not work, the built-in one was used: %v", t.Name, oerr)
	}
	t.once.Do(func() { t.builtin, t.err = t.parse(t.Default()) })
	if t.err != nil {
		return "", warning, fmt.Errorf("built-in template %s: %w", t.Name, t.err)
	}
	out, err = t.execute(t.builtin, v, n, false, "")
	if err != nil {
		return "", warning, fmt.Errorf("built-in template %s: %w", t.Name, err)
	}
	return out, warning, nil
}

// Preview renders body as the template for n, as a delivery would, but
// reporting an error instead of falling back.
func (t *Template) Preview(body string, n *integrations.Notification) (string, error) {
	e, err := t.parse(body)
	if err != nil {
		return "", withColumn(err, body)
	}
	return t.execute(e, t.View(n), n, true, body)
}

// Check parses body as the template and renders it against sample
// notifications of every kind the template serves, in every language, so
// that an override is refused when saved rather than found broken when an
// alert is sent. The error says where (line, and column when the
// template engine knows it) and what.
func (t *Template) Check(body string) error {
	if _, err := t.parse(body); err != nil {
		return withColumn(err, body)
	}
	for _, lang := range locale.Languages {
		for _, n := range Samples(t.Name, lang) {
			if _, err := t.Preview(body, n); err != nil {
				return fmt.Errorf("%w (rendering a sample %s notification)", err, n.Kind)
			}
		}
	}
	return nil
}

// Warnings joins the warnings of several renders.
func Warnings(ws ...string) string {
	return strings.Join(slices.DeleteFunc(ws, func(w string) bool { return w == "" }), " ")
}

// Registry is the set of overridable templates, in a stable order.
type Registry []*Template

// ErrUnknown is returned for a name the registry does not have.
var ErrUnknown = errors.New("not a template name")

// Lookup finds a template by name.
func (r Registry) Lookup(name string) (*Template, bool) {
	for _, t := range r {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// Names are the registry's template names.
func (r Registry) Names() []string {
	out := make([]string, len(r))
	for i, t := range r {
		out[i] = t.Name
	}
	return out
}

// Check checks body as the template name (see Template.Check).
func (r Registry) Check(name, body string) error {
	t, ok := r.Lookup(name)
	if !ok {
		return fmt.Errorf("%q is %w (%s)", name, ErrUnknown, strings.Join(r.Names(), ", "))
	}
	return t.Check(body)
}
