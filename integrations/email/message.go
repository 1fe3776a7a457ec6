package email

import (
	"crypto/sha256"
	"encoding/hex"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/wneessen/go-mail"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/templates"
)

// view is what the templates see.
type view struct {
	loc      *locale.Localizer
	zone     string
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

// newView is what the templates see of n, its links checked.
func newView(n *integrations.Notification) view {
	loc := locale.For(n.Language)
	v := view{
		loc:            loc,
		zone:           n.TimeZone,
		Kind:           n.Kind,
		Subject:        subject(n, loc),
		Headline:       headline(n, loc),
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
	if n.Kind == integrations.KindSummary && n.Summary != nil {
		sum := *n.Summary
		sum.TopIssues, sum.NewTop = checkedLinks(sum.TopIssues), checkedLinks(sum.NewTop)
		v.Summary = &sum
	}
	if n.Kind == integrations.KindDigest {
		for _, it := range n.Digest {
			it.Issue.URL = webURL(it.Issue.URL)
			v.Digest = append(v.Digest, it)
		}
	}
	return v
}

// message builds the mail for n and returns it with the issue's thread
// root Message-ID (without angle brackets), and why an override of its
// templates was not used ("" when none was broken).
func (e *Notifier) message(n *integrations.Notification, to []*netmail.Address) (*mail.Msg, string, string, error) {
	tt, ht := notificationText, notificationHTML
	switch {
	case n.Kind == integrations.KindSummary && n.Summary != nil:
		tt, ht = summaryText, summaryHTML
	case n.Kind == integrations.KindDigest:
		tt, ht = digestText, digestHTML
	}
	subject, warnSubject, err := subjectText.Render(n)
	if err != nil {
		return nil, "", "", err
	}
	text, warnText, err := tt.Render(n)
	if err != nil {
		return nil, "", "", err
	}
	html, warnHTML, err := ht.Render(n)
	if err != nil {
		return nil, "", "", err
	}
	warning := templates.Warnings(warnSubject, warnText, warnHTML)

	m := mail.NewMsg(mail.WithNoDefaultUserAgent())
	m.FromMailAddress(e.from)
	m.ToMailAddress(to...)
	m.Subject(oneLine(subject, maxSubject))
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
	if u := unsubscribeURL(n.Options); u != "" {
		unsubscribe = append(unsubscribe, u)
	}
	m.SetListUnsubscribe(unsubscribe...)

	m.SetBodyString(mail.TypeTextPlain, text)
	m.AddAlternativeString(mail.TypeTextHTML, html)
	return m, root, warning, nil
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
// anything but an alert: "[Tocsin] Regression: SHORTID: title"; in English.
func Subject(n *integrations.Notification) string { return subject(n, locale.For("")) }

func subject(n *integrations.Notification, loc *locale.Localizer) string {
	if n.Kind == integrations.KindSummary && n.Summary != nil {
		name := n.Summary.Name
		if name == "" {
			name = loc.T("Summary")
		}
		return "[Tocsin] " + oneLine(name, 120) + ": " + oneLine(projectName(n.Issue.Project), 120)
	}
	if n.Kind == integrations.KindDigest {
		return "[Tocsin] " + loc.T("DigestSubject", "Count", len(n.Digest), "Project", oneLine(projectName(n.Issue.Project), 180))
	}
	prefix := map[string]string{
		integrations.KindRegression: "PrefixRegression",
		integrations.KindResolved:   "PrefixResolved",
		integrations.KindAssigned:   "PrefixAssigned",
		integrations.KindIgnored:    "PrefixIgnored",
		integrations.KindUnresolved: "PrefixUnresolved",
		integrations.KindTest:       "PrefixTest",
	}[n.Kind]
	if prefix != "" {
		prefix = loc.T(prefix)
	}
	title := oneLine(n.Issue.Title, 180)
	if n.Issue.ShortID != "" {
		title = n.Issue.ShortID + ": " + title
	}
	return "[Tocsin] " + prefix + title
}

func headline(n *integrations.Notification, loc *locale.Localizer) string {
	project := projectName(n.Issue.Project)
	by := ""
	if n.Actor != "" {
		by = loc.T("By", "Actor", n.Actor)
	}
	switch n.Kind {
	case integrations.KindSummary:
		if n.Summary != nil {
			return loc.T("SummaryHeadline", "Project", project, "From", loc.TimeIn(n.Summary.From, n.TimeZone),
				"To", loc.TimeIn(n.Summary.To, n.TimeZone))
		}
		return project
	case integrations.KindDigest:
		return loc.T("DigestHeadline", "Count", len(n.Digest), "Project", project)
	case integrations.KindAlert:
		if n.Rule != nil {
			return loc.T("AlertRuleFired", "Rule", n.Rule.Name, "Project", project)
		}
		return loc.T("NewIssueIn", "Project", project)
	case integrations.KindRegression:
		return loc.T("RegressionIn", "Project", project)
	case integrations.KindResolved:
		return loc.T("ResolvedBy", "By", by)
	case integrations.KindAssigned:
		if n.Issue.Assignee != "" {
			return loc.T("AssignedToBy", "Assignee", n.Issue.Assignee, "By", by)
		}
		return loc.T("AssignedBy", "By", by)
	case integrations.KindIgnored:
		return loc.T("IgnoredBy", "By", by)
	case integrations.KindUnresolved:
		return loc.T("UnresolvedBy", "By", by)
	case integrations.KindTest:
		return loc.T("TestNotification")
	}
	return loc.T("IssueUpdateIn", "Project", project)
}

// T is the text of a catalog message in the message's language.
func (v view) T(id string, args ...any) string { return v.loc.T(id, args...) }

// L is a label of the text part: the message and a colon, padded to 14
// columns (a CJK character takes two).
func (v view) L(id string) string {
	s := v.loc.T(id) + v.EndColon()
	w := 0
	for _, r := range s {
		w++
		if unicode.Is(unicode.Han, r) || (r >= 0xFF00 && r <= 0xFFEF) {
			w++
		}
	}
	return s + strings.Repeat(" ", max(1, 14-w))
}

// Chart is the summary's events per day as text, days in the language.
func (v view) Chart() string { return v.Summary.Chart(30, v.loc.Lang()) }

// Bars are the summary's events per day for the HTML chart.
func (v view) Bars() []integrations.Bar { return v.Summary.Bars(30, v.loc.Lang()) }

// EndColon is the language's colon, for the end of a line.
func (v view) EndColon() string { return strings.TrimSpace(v.loc.T("Colon")) }

// When shows a time for the message's language, in the target's time
// zone; "" for none.
func (v view) When(t time.Time) string { return v.loc.TimeIn(t, v.zone) }

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
