package github

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tocsin/tocsin/integrations"
)

// GitHub's issue bodies and comments are GitHub Flavored Markdown
// (https://github.github.com/gfm/), rendered with extras on top: @mentions,
// #123 and owner/repo#123 references, and autolinked URLs. Event data is
// written by whoever can make an application fail, so none of it may turn
// into a link, an image, HTML or a notification: inline text is escaped by
// escapeInline, stack traces go into fenced code blocks that their content
// cannot close.

// Limits that keep a body far below GitHub's 65,536 characters.
const (
	maxTitleRunes   = 256 // GitHub's limit for issue titles
	maxMessageRunes = 1000
	maxFieldRunes   = 200
	maxFrames       = 40
	maxFrameRunes   = 300
	maxTags         = 12
)

// wordJoiner is an invisible character that ends a word for GitHub's
// reference and mention matchers without showing.
const wordJoiner = "\u2060"

// escapeInline makes untrusted text safe in running Markdown text, on one
// line, at most limit runes. Every ASCII punctuation character is
// backslash-escaped, which CommonMark allows for all of them, so that no
// emphasis, link, image, autolink, HTML tag, entity, table cell or block
// marker can start. Mentions (@team) and issue references (#1) are found by
// GitHub in the rendered text, after escapes are gone, so a word joiner
// follows each @ and #. Line breaks become spaces; other control characters
// and bidirectional overrides are dropped.
func escapeInline(s string, limit int) string {
	s = clip(s, limit)
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case dropped(r):
		case r < utf8.RuneSelf && unicode.IsPunct(r) || r < utf8.RuneSelf && unicode.IsSymbol(r):
			b.WriteByte('\\')
			b.WriteRune(r)
			if r == '@' || r == '#' {
				b.WriteString(wordJoiner)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dropped reports control characters and the bidirectional formatting
// characters that can make shown text differ from what it says.
func dropped(r rune) bool {
	switch {
	case r < ' ' || r == 0x7f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
		return true
	}
	return false
}

// clip cuts s to at most limit runes, with an ellipsis when it cut.
func clip(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if limit <= 0 || utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit-1]) + "…"
}

// codeBlock fences lines as a code block that no line can close: the fence
// is longer than any run of backticks in the content.
func codeBlock(lines []string) string {
	var content strings.Builder
	for _, l := range lines {
		l = strings.Map(func(r rune) rune {
			if r == '\t' {
				return ' '
			}
			if dropped(r) {
				return -1
			}
			return r
		}, clip(l, maxFrameRunes))
		content.WriteString(l)
		content.WriteByte('\n')
	}
	longest, run := 0, 0
	for _, r := range content.String() {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + "text\n" + content.String() + fence + "\n"
}

// linkURL returns u as a Markdown link destination, or "" when u is not an
// absolute http(s) URL. Tocsin makes these URLs from TOCSIN_BASE_URL, but a
// link must not break out of its parentheses whatever they hold.
func linkURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.User != nil {
		return ""
	}
	return strings.NewReplacer("(", "%28", ")", "%29", "<", "%3C", ">", "%3E", " ", "%20", "`", "%60").Replace(p.String())
}

// link renders [text](u), or the escaped text alone when u is unusable.
func link(text, u string) string {
	text = escapeInline(text, maxFieldRunes)
	if dest := linkURL(u); dest != "" {
		return "[" + text + "](" + dest + ")"
	}
	return text
}

// issueMarker is the hidden text by which a GitHub issue filed for a
// Tocsin issue is found again when its handle was lost (Tocsin crashed
// between GitHub's answer and storing it).
func issueMarker(id int64) string { return "tocsin:issue:" + strconv.FormatInt(id, 10) }

// deliveryMarker marks a comment with the notification it delivered, so
// that a retry after a lost answer does not comment twice.
func deliveryMarker(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "tocsin:delivery:" + hex.EncodeToString(sum[:8])
}

// issueTitle is "[SHORTID] Issue title" on one line, within GitHub's limit.
// GitHub renders titles as plain text (code spans aside), without mentions.
func issueTitle(n *integrations.Notification) string {
	title := strings.Join(strings.FieldsFunc(n.Issue.Title, func(r rune) bool {
		return unicode.IsSpace(r) || dropped(r)
	}), " ")
	if title == "" {
		title = "(no title)"
	}
	if n.Issue.ShortID != "" {
		title = "[" + n.Issue.ShortID + "] " + title
	}
	return clip(title, maxTitleRunes)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// facts renders the issue's details as a Markdown list, skipping empty ones.
func facts(n *integrations.Notification, full bool) string {
	var b strings.Builder
	item := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "- **%s:** %s\n", name, escapeInline(value, maxFieldRunes))
		}
	}
	is := n.Issue
	if full {
		item("Culprit", is.Culprit)
		item("Level", is.Level)
		item("Project", cmpOr(is.Project.Name, is.Project.Slug))
	}
	if is.Count > 0 {
		item("Events", strconv.FormatInt(is.Count, 10))
	}
	if is.UserCount > 0 {
		item("Users", strconv.FormatInt(is.UserCount, 10))
	}
	if full {
		item("First seen", formatTime(is.FirstSeen))
	}
	item("Last seen", formatTime(is.LastSeen))
	release := is.LastRelease
	if n.Event != nil {
		release = cmpOr(n.Event.Release, release)
		item("Release", release)
		item("Environment", n.Event.Environment)
	} else {
		item("Release", release)
	}
	if full && n.Event != nil && len(n.Event.Tags) > 0 {
		var tags []string
		for i, t := range n.Event.Tags {
			if i == maxTags {
				tags = append(tags, "…")
				break
			}
			tags = append(tags, escapeInline(t[0], maxFieldRunes)+" \\= "+escapeInline(t[1], maxFieldRunes))
		}
		fmt.Fprintf(&b, "- **Tags:** %s\n", strings.Join(tags, ", "))
	}
	return b.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// message is the event's message when it says more than the title.
func message(n *integrations.Notification) string {
	if n.Event == nil || n.Event.Message == "" || n.Event.Message == n.Issue.Title {
		return ""
	}
	return "> " + escapeInline(n.Event.Message, maxMessageRunes) + "\n\n"
}

// stack renders the most recent frames of the event's stack trace.
func stack(n *integrations.Notification) string {
	if n.Event == nil || len(n.Event.Stacktrace) == 0 {
		return ""
	}
	frames := n.Event.Stacktrace
	head := "**Stack trace** (most recent call last)"
	if len(frames) > maxFrames {
		head += fmt.Sprintf(", last %d of %d frames", maxFrames, len(frames))
		frames = frames[len(frames)-maxFrames:]
	}
	return head + ":\n\n" + codeBlock(frames) + "\n"
}

// footer names the rule that fired, if any.
func footer(n *integrations.Notification) string {
	if n.Rule == nil || n.Rule.Name == "" {
		return ""
	}
	return "<sub>Sent by Tocsin for the alert rule " + link(n.Rule.Name, n.Rule.URL) + ".</sub>\n"
}

// issueBody is the Markdown body of a new GitHub issue.
func issueBody(n *integrations.Notification) string {
	var b strings.Builder
	if n.Issue.ID != 0 {
		b.WriteString("<!-- " + issueMarker(n.Issue.ID) + " -->\n")
	}
	name := cmpOr(n.Issue.ShortID, "Issue")
	b.WriteString("**" + link(name, n.Issue.URL) + "** reported by Tocsin")
	if n.Kind == integrations.KindRegression {
		b.WriteString(" (regression)")
	}
	if n.Kind == integrations.KindTest {
		b.WriteString(" (test notification)")
	}
	b.WriteString("\n\n")
	b.WriteString(message(n))
	b.WriteString(facts(n, true))
	b.WriteString("\n")
	b.WriteString(stack(n))
	if dest := linkURL(n.Issue.URL); dest != "" {
		b.WriteString("[Open " + escapeInline(name, maxFieldRunes) + " in Tocsin](" + dest + ")\n\n")
	}
	b.WriteString(footer(n))
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// commentBody is the Markdown of a follow-up comment on the GitHub issue.
func commentBody(n *integrations.Notification) string {
	var b strings.Builder
	if n.IdempotencyKey != "" {
		b.WriteString("<!-- " + deliveryMarker(n.IdempotencyKey) + " -->\n")
	}
	name := link(cmpOr(n.Issue.ShortID, "The issue"), n.Issue.URL)
	by := ""
	if n.Actor != "" {
		by = " by " + escapeInline(n.Actor, maxFieldRunes)
	}
	detailed := false
	switch n.Kind {
	case integrations.KindRegression:
		b.WriteString("**Regression:** " + name + " came back after it was resolved; reopening.")
		detailed = true
	case integrations.KindResolved:
		b.WriteString("**Resolved:** " + name + " was resolved in Tocsin" + by + "; closing.")
	case integrations.KindUnresolved:
		b.WriteString("**Unresolved:** " + name + " was marked unresolved in Tocsin" + by + ".")
	case integrations.KindIgnored:
		b.WriteString("**Ignored:** " + name + " was ignored in Tocsin" + by + ".")
	case integrations.KindAssigned:
		to := "someone"
		if n.Issue.Assignee != "" {
			to = escapeInline(n.Issue.Assignee, maxFieldRunes)
		}
		b.WriteString("**Assigned:** " + name + " was assigned to " + to + " in Tocsin" + by + ".")
	case integrations.KindTest:
		b.WriteString("**Test notification** from Tocsin for " + name + by + ".")
	default:
		b.WriteString("**Alert:** " + name + " has new events.")
		detailed = true
	}
	b.WriteString("\n\n")
	if detailed {
		b.WriteString(message(n))
		b.WriteString(facts(n, false))
		b.WriteString("\n")
		b.WriteString(stack(n))
	}
	b.WriteString(footer(n))
	return strings.TrimRight(b.String(), "\n") + "\n"
}
