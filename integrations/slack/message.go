package slack

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
)

// Button action ids: the interactive handler reads them back from
// Interaction.ActionID, with the issue id as Interaction.Value.
const (
	ActionResolve  = "resolve"
	ActionIgnore   = "ignore"
	ActionAssignMe = "assign_me"
)

// Limits of Block Kit text objects, less a margin.
// https://api.slack.com/reference/block-kit/composition-objects#text
const (
	maxTitle   = 300
	maxMessage = 1000
	maxField   = 500
	maxNotes   = 2000
	maxTags    = 10 // a section holds at most 10 fields
	maxText    = 400
)

// Colours of the attachment bar: the issue's level, or its status once
// resolved or ignored.
var levelColours = map[string]string{
	"fatal":   "#d20f2a",
	"error":   "#e03e2f",
	"warning": "#f5a623",
	"info":    "#2788ce",
	"debug":   "#a0a0a0",
}

const (
	colourResolved = "#2eb886"
	colourIgnored  = "#c0c0c0"
	colourDefault  = "#e03e2f"
)

// mentionRE finds plain-text broadcasts, which Slack honours when a
// message is parsed with link_names.
var mentionRE = regexp.MustCompile(`(?i)@(here|channel|everyone)`)

// Escape makes untrusted text (event data) inert in Slack's mrkdwn: it
// escapes &, < and > as Slack asks, so that <!channel>, <!here>, <@U123>
// and <http://evil|links> show as typed, and puts a zero-width space after
// the @ of @here, @channel and @everyone.
// https://api.slack.com/reference/surfaces/formatting#escaping
func Escape(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return mentionRE.ReplaceAllString(s, "@\u200b$1")
}

// escapeN escapes s and cuts it, on a rune boundary and never inside an
// entity, so that the result has at most limit runes.
func escapeN(s string, limit int) string {
	e := Escape(s)
	if utf8.RuneCountInString(e) <= limit {
		return e
	}
	// Cut the raw text, then escape, shrinking until it fits.
	r := []rune(s)
	n := min(len(r), limit-1)
	for n > 0 {
		if e = Escape(string(r[:n])); utf8.RuneCountInString(e)+1 <= limit {
			return e + "…"
		}
		n -= max(1, (utf8.RuneCountInString(e)+1-limit)/4)
	}
	return "…"
}

// noteMentionRE finds the mentions that a rule's notes may keep: a user, a
// user group or a channel, never @channel or @here.
var noteMentionRE = regexp.MustCompile(`<(@[UW][A-Z0-9]+|!subteam\^[A-Z0-9]+|#C[A-Z0-9]+)>`)

// escapeNotes escapes a rule's notes like event data, except for explicit
// user, user-group and channel mentions, which are why notes exist
// ("<@U123> is on call").
func escapeNotes(s string) string {
	s = cut(s, maxNotes)
	var b strings.Builder
	last := 0
	for _, m := range noteMentionRE.FindAllStringIndex(s, -1) {
		b.WriteString(Escape(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(Escape(s[last:]))
	return b.String()
}

// cut shortens s to at most limit runes.
func cut(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit-1]) + "…"
}

// link is a mrkdwn link to an http(s) URL, or the bare text when the URL
// is of another kind. text must be escaped already.
func link(rawURL, text string) string {
	u, err := url.Parse(rawURL)
	if rawURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return text
	}
	href := strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20").Replace(rawURL)
	return "<" + href + "|" + text + ">"
}

// slackDate shows t in each reader's own time zone.
// https://api.slack.com/reference/surfaces/formatting#date-formatting
func slackDate(t time.Time) string {
	fallback := t.UTC().Format("2006-01-02 15:04 UTC")
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), fallback)
}

// kindLabel is how a notification introduces itself.
func kindLabel(n *integrations.Notification) string {
	id := map[string]string{
		integrations.KindRegression: "LabelRegression",
		integrations.KindTest:       "LabelTest",
		integrations.KindResolved:   "LabelResolved",
		integrations.KindIgnored:    "LabelIgnored",
		integrations.KindAssigned:   "LabelAssigned",
		integrations.KindUnresolved: "LabelUnresolved",
	}[n.Kind]
	if id == "" {
		id = "LabelAlert"
	}
	return locale.For(n.Language).T(id)
}

// status is the issue's status as a notification of kind leaves it.
func status(n *integrations.Notification) string {
	switch n.Kind {
	case integrations.KindResolved:
		return "resolved"
	case integrations.KindIgnored:
		return "ignored"
	case integrations.KindUnresolved, integrations.KindRegression:
		return "unresolved"
	}
	if n.Issue.Status != "" {
		return n.Issue.Status
	}
	return "unresolved"
}

func colour(n *integrations.Notification) string {
	switch status(n) {
	case "resolved":
		return colourResolved
	case "ignored":
		return colourIgnored
	}
	if c, ok := levelColours[strings.ToLower(n.Issue.Level)]; ok {
		return c
	}
	return colourDefault
}

// isStatusChange reports whether kind changes the issue's status, so that
// the thread's parent is updated.
func isStatusChange(kind string) bool {
	switch kind {
	case integrations.KindResolved, integrations.KindAssigned, integrations.KindIgnored,
		integrations.KindUnresolved, integrations.KindRegression:
		return true
	}
	return false
}

func statusText(n *integrations.Notification) string {
	loc := locale.For(n.Language)
	var s string
	switch status(n) {
	case "resolved":
		s = loc.T("StatusResolved")
	case "ignored":
		s = loc.T("StatusIgnored")
	default:
		s = loc.T("StatusUnresolved")
	}
	if n.Issue.Assignee != "" {
		s += loc.T("StatusAssignedTo", "Assignee", n.Issue.Assignee)
	}
	return s
}

func release(n *integrations.Notification) string {
	if n.Event != nil && n.Event.Release != "" {
		return n.Event.Release
	}
	return firstOf(n.Issue.LastRelease, n.Issue.FirstRelease)
}

// firstOf is the first non-empty string.
func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// selectedTags are the event's tags that the rule action lists in
// Options["tags"] (comma-separated keys), in that order.
func selectedTags(n *integrations.Notification) []field {
	if n.Event == nil {
		return nil
	}
	var keys []string
	switch v := n.Options["tags"].(type) {
	case string:
		keys = strings.Split(v, ",")
	case []string:
		keys = v
	case []any:
		for _, k := range v {
			if s, ok := k.(string); ok {
				keys = append(keys, s)
			}
		}
	}
	var fields []field
	seen := map[string]bool{}
	for _, k := range keys {
		k = strings.TrimSpace(k)
		if k == "" || seen[k] || len(fields) == maxTags {
			continue
		}
		seen[k] = true
		for _, t := range n.Event.Tags {
			if t[0] == k {
				fields = append(fields, newField(escapeN(k, 100), escapeN(t[1], maxField)))
				break
			}
		}
	}
	return fields
}

// buttons are the card's actions: resolve (unless resolved), ignore
// (while unresolved), assign to me.
func buttons(n *integrations.Notification) []button {
	loc := locale.For(n.Language)
	id := strconv.FormatInt(n.Issue.ID, 10)
	var out []button
	if status(n) != "resolved" {
		out = append(out, newButton(ActionResolve, id, loc.T("ButtonResolve"), slack.StylePrimary))
	}
	if status(n) == "unresolved" {
		out = append(out, newButton(ActionIgnore, id, loc.T("ButtonIgnore"), ""))
	}
	return append(out, newButton(ActionAssignMe, id, loc.T("ButtonAssignMe"), ""))
}

func footer(n *integrations.Notification) string {
	parts := []string{kindLabel(n)}
	if n.Issue.ShortID != "" {
		parts = append(parts, escapeN(n.Issue.ShortID, 100))
	}
	if n.Rule != nil && n.Rule.Name != "" {
		parts = append(parts, locale.For(n.Language).T("RulePrefix")+link(n.Rule.URL, escapeN(n.Rule.Name, 200)))
	}
	if !n.At.IsZero() {
		parts = append(parts, slackDate(n.At))
	}
	return strings.Join(parts, " · ")
}

// fallback is the plain text shown in pushes and where attachments are not.
func fallback(n *integrations.Notification) string {
	s := kindLabel(n) + ": "
	if p := firstOf(n.Issue.Project.Slug, n.Issue.Project.Name); p != "" {
		s += "[" + p + "] "
	}
	// The top-level text is not verbatim as the blocks are: Slack would
	// link an address in the title.
	return integrations.BreakAutolinks(escapeN(s+n.Issue.Title, maxText))
}
