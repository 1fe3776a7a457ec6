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
	"github.com/tocsin/tocsin/locale"
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
func issueMarker(installation string, id int64) string {
	return integrations.IssueMarker(installation, id)
}

// deliveryMarker marks a comment with the notification it delivered, so
// that a retry after a lost answer does not comment twice.
func deliveryMarker(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "tocsin:delivery:" + hex.EncodeToString(sum[:8])
}

// facts renders the issue's details as a Markdown list, skipping empty
// ones; times in the target's zone.
func facts(n *integrations.Notification, loc *locale.Localizer, full bool) string {
	var b strings.Builder
	colon := strings.TrimSpace(loc.T("Colon"))
	item := func(id, value string) {
		if value != "" {
			fmt.Fprintf(&b, "- **%s%s** %s\n", loc.T(id), colon, escapeInline(value, maxFieldRunes))
		}
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return loc.TimeIn(t, n.TimeZone)
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
		item("FirstSeen", when(is.FirstSeen))
	}
	item("LastSeen", when(is.LastSeen))
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
		fmt.Fprintf(&b, "- **%s%s** %s\n", loc.T("Tags"), colon, strings.Join(tags, loc.T("Comma")))
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
func stack(n *integrations.Notification, loc *locale.Localizer) string {
	if n.Event == nil || len(n.Event.Stacktrace) == 0 {
		return ""
	}
	frames := n.Event.Stacktrace
	head := loc.T("GitHubStack")
	if len(frames) > maxFrames {
		head += loc.T("GitHubLastFrames", "Shown", maxFrames, "Total", len(frames))
		frames = frames[len(frames)-maxFrames:]
	}
	return head + strings.TrimSpace(loc.T("Colon")) + "\n\n" + codeBlock(frames) + "\n"
}

// footer names the rule that fired, if any.
func footer(n *integrations.Notification, loc *locale.Localizer) string {
	if n.Rule == nil || n.Rule.Name == "" {
		return ""
	}
	return "<sub>" + loc.T("GitHubSentFor", "Rule", link(n.Rule.Name, n.Rule.URL)) + "</sub>\n"
}
