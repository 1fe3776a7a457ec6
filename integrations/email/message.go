package email

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	htmltemplate "html/template"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/wneessen/go-mail"

	"github.com/tocsin/tocsin/integrations"
)

//go:embed templates
var templateFS embed.FS

var funcs = map[string]any{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
}

var (
	textTemplate = texttemplate.Must(texttemplate.New("notification.txt").Funcs(funcs).ParseFS(templateFS, "templates/notification.txt"))
	// htmlTemplate escapes every value by context (html/template): event
	// data cannot add markup, and javascript: links become "#ZgotmplZ".
	htmlTemplate = htmltemplate.Must(htmltemplate.New("notification.html").Funcs(funcs).ParseFS(templateFS, "templates/notification.html"))
	// The digest's: a list of issues.
	digestText = texttemplate.Must(texttemplate.New("digest.txt").Funcs(funcs).ParseFS(templateFS, "templates/digest.txt"))
	digestHTML = htmltemplate.Must(htmltemplate.New("digest.html").Funcs(funcs).ParseFS(templateFS, "templates/digest.html"))
	// The scheduled summary's.
	summaryText = texttemplate.Must(texttemplate.New("summary.txt").Funcs(funcs).ParseFS(templateFS, "templates/summary.txt"))
	summaryHTML = htmltemplate.Must(htmltemplate.New("summary.html").Funcs(funcs).ParseFS(templateFS, "templates/summary.html"))
)

// view is what the templates see.
type view struct {
	Kind     string
	Subject  string
	Headline string
	Project  string
	Issue    integrations.Issue
	Event    *integrations.Event
	Rule     *integrations.Rule
	Actor    string
	// Digest are a digest's issues (KindDigest), with their links checked.
	Digest []integrations.DigestItem
	// Summary is a scheduled summary's report (KindSummary).
	Summary *integrations.Summary
	// UnsubscribeURL is Options["unsubscribe_url"], when usable.
	UnsubscribeURL string
}

// message builds the mail for n and returns it with the issue's thread
// root Message-ID (without angle brackets).
func (e *Notifier) message(n *integrations.Notification, to []*netmail.Address) (*mail.Msg, string, error) {
	v := view{
		Kind:           n.Kind,
		Subject:        Subject(n),
		Headline:       headline(n),
		Project:        projectName(n.Issue.Project),
		Issue:          n.Issue,
		Event:          n.Event,
		Rule:           n.Rule,
		Actor:          n.Actor,
		UnsubscribeURL: unsubscribeURL(n.Options),
	}
	// Links are Tocsin's own; still, only http(s) ones are shown.
	v.Issue.URL = webURL(v.Issue.URL)
	if v.Event != nil {
		ev := *v.Event
		ev.URL = webURL(ev.URL)
		v.Event = &ev
	}
	if v.Rule != nil {
		r := *v.Rule
		r.URL = webURL(r.URL)
		v.Rule = &r
	}
	tt, ht := textTemplate, htmlTemplate
	if n.Kind == integrations.KindSummary && n.Summary != nil {
		tt, ht = summaryText, summaryHTML
		sum := *n.Summary
		sum.TopIssues, sum.NewTop = checkedLinks(sum.TopIssues), checkedLinks(sum.NewTop)
		v.Summary = &sum
	}
	if n.Kind == integrations.KindDigest {
		tt, ht = digestText, digestHTML
		for _, it := range n.Digest {
			it.Issue.URL = webURL(it.Issue.URL)
			v.Digest = append(v.Digest, it)
		}
	}
	var text, html bytes.Buffer
	if err := tt.Execute(&text, v); err != nil {
		return nil, "", err
	}
	if err := ht.Execute(&html, v); err != nil {
		return nil, "", err
	}

	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	m.FromMailAddress(e.from)
	m.ToMailAddress(to...)
	m.Subject(v.Subject)
	m.SetDateWithValue(e.now())
	m.SetUserAgent("Tocsin")
	m.SetGenHeader("Auto-Submitted", "auto-generated") // RFC 3834: no vacation replies
	m.SetGenHeader("X-Auto-Response-Suppress", "All")

	id, root := messageIDs(n, e.domain)
	m.SetMessageIDWithValue(id)
	if id != root {
		m.SetGenHeaderPreformatted(mail.HeaderInReplyTo, "<"+root+">")
		m.SetGenHeaderPreformatted(mail.HeaderReferences, "<"+root+">")
	}
	unsubscribe := []string{"mailto:" + e.from.Address + "?subject=unsubscribe"}
	if v.UnsubscribeURL != "" {
		unsubscribe = append(unsubscribe, v.UnsubscribeURL)
	}
	m.SetListUnsubscribe(unsubscribe...)

	m.SetBodyString(mail.TypeTextPlain, text.String())
	m.AddAlternativeString(mail.TypeTextHTML, html.String())
	return m, root, nil
}

// messageIDs threads one issue as one conversation. Every message gets
// tocsin.issue.{ID}.{hash of the idempotency key}@{domain}, stable across
// retries of one notification and different between notifications: mail
// services drop a message whose Message-ID they have already seen, so two
// alerts about one new issue (two rules firing at once) must not share
// one. The first message of an issue to a target (no Handle yet) is the
// thread's root; later ones point at the root (the Handle) with In-Reply-To
// and References.
func messageIDs(n *integrations.Notification, domain string) (id, root string) {
	key := n.IdempotencyKey
	if key == "" {
		key = n.Kind + "." + strconv.FormatInt(n.At.UnixNano(), 10)
	}
	sum := sha256.Sum256([]byte(key))
	id = "tocsin.issue." + strconv.FormatInt(n.Issue.ID, 10) + "." + hex.EncodeToString(sum[:8]) + "@" + domain
	if n.Handle == "" {
		return id, id
	}
	return id, n.Handle
}

// msgIDDomain is the from address's domain if it is a plain host name,
// else "tocsin.localhost".
func msgIDDomain(addr string) string {
	d := strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
	if d == "" || strings.Trim(d, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return "tocsin.localhost"
	}
	return d
}

// Subject is "[Tocsin] SHORTID: title", prefixed with what happened for
// anything but an alert: "[Tocsin] Regression: SHORTID: title".
func Subject(n *integrations.Notification) string {
	if n.Kind == integrations.KindSummary && n.Summary != nil {
		name := n.Summary.Name
		if name == "" {
			name = "Summary"
		}
		return "[Tocsin] " + oneLine(name, 120) + ": " + oneLine(projectName(n.Issue.Project), 120)
	}
	if n.Kind == integrations.KindDigest {
		return "[Tocsin] " + strconv.Itoa(len(n.Digest)) + " issues in " + oneLine(projectName(n.Issue.Project), 180)
	}
	prefix := map[string]string{
		integrations.KindRegression: "Regression: ",
		integrations.KindResolved:   "Resolved: ",
		integrations.KindAssigned:   "Assigned: ",
		integrations.KindIgnored:    "Ignored: ",
		integrations.KindUnresolved: "Unresolved: ",
		integrations.KindTest:       "Test: ",
	}[n.Kind]
	title := oneLine(n.Issue.Title, 180)
	if n.Issue.ShortID != "" {
		title = n.Issue.ShortID + ": " + title
	}
	return "[Tocsin] " + prefix + title
}

func headline(n *integrations.Notification) string {
	project := projectName(n.Issue.Project)
	by := ""
	if n.Actor != "" {
		by = " by " + n.Actor
	}
	switch n.Kind {
	case integrations.KindSummary:
		if n.Summary != nil {
			return project + " from " + n.Summary.From.UTC().Format("2006-01-02 15:04") + " to " +
				n.Summary.To.UTC().Format("2006-01-02 15:04 UTC")
		}
		return project
	case integrations.KindDigest:
		return strconv.Itoa(len(n.Digest)) + " issues alerted in " + project + " in the last minutes, most events first"
	case integrations.KindAlert:
		if n.Rule != nil {
			return "Alert rule “" + n.Rule.Name + "” fired in " + project
		}
		return "New issue in " + project
	case integrations.KindRegression:
		return "Regression in " + project + ": a resolved issue is back"
	case integrations.KindResolved:
		return "Resolved" + by
	case integrations.KindAssigned:
		if n.Issue.Assignee != "" {
			return "Assigned to " + n.Issue.Assignee + by
		}
		return "Assigned" + by
	case integrations.KindIgnored:
		return "Ignored" + by
	case integrations.KindUnresolved:
		return "Marked unresolved" + by
	case integrations.KindTest:
		return "Test notification from Tocsin"
	}
	return "Issue update in " + project
}

func projectName(p integrations.Project) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Slug
}

// oneLine folds control characters and runs of space into one space and
// cuts s to max runes, for header fields.
func oneLine(s string, max int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// webURL is s if it is an absolute http(s) URL, else "".
func webURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}

// unsubscribeURL takes Options["unsubscribe_url"] if it is an absolute
// http(s) URL that can sit in List-Unsubscribe's angle brackets.
func unsubscribeURL(opts map[string]any) string {
	s, _ := opts["unsubscribe_url"].(string)
	if strings.ContainsAny(s, " <>,\"\r\n\t") {
		return ""
	}
	return webURL(s)
}

// checkedLinks keeps only http(s) links of a summary's issues.
func checkedLinks(in []integrations.SummaryIssue) []integrations.SummaryIssue {
	out := make([]integrations.SummaryIssue, len(in))
	for i, is := range in {
		is.URL = webURL(is.URL)
		out[i] = is
	}
	return out
}
