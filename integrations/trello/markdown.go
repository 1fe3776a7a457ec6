package trello

// What the card and its comments say. Trello renders card descriptions and
// comments as Markdown and turns @username, @card and @board in comments
// into notifications; event data is hostile, so every piece of it is made
// literal before it goes in:
//
//   - in descriptions and comments, Markdown punctuation is escaped with a
//     backslash (CommonMark, https://spec.commonmark.org/0.31.2/#backslash-escapes),
//     so no link, image, emphasis, heading or HTML can be formed (":" too,
//     which keeps bare URLs from being linked), and line breaks become
//     spaces, so no block can start;
//   - the stack excerpt goes in a fenced code block whose fence is longer
//     than any run of backticks inside it;
//   - everywhere, "@" is followed by a word joiner (U+2060), invisible, so
//     that no mention matches;
//   - card names are plain text in Trello (not rendered as Markdown, so
//     backslashes would show): they lose control characters and line
//     breaks and their mentions are defused.
//
// Bidirectional overrides are dropped everywhere (they can make text read
// differently from what it is).

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
)

// Limits on what goes on a card; Trello refuses names and descriptions
// past 16384 characters, and these keep well below.
const (
	maxTitleRunes   = 300
	maxFieldRunes   = 200
	maxMessageRunes = 1000
	maxFrames       = 15
	maxFrameRunes   = 200
)

// wordJoiner follows every "@" so that no mention matches.
const wordJoiner = "\u2060"

// marker is the last line of the description of issue id's card: a card is
// found again by it after a crash between creating the card and storing its
// id. Only the last line counts, which event data cannot be.
func marker(installation string, id int64) string { return integrations.IssueMarker(installation, id) }

// hasMarker reports whether desc ends with this installation's marker of
// issue id.
func hasMarker(desc, installation string, id int64) bool {
	desc = strings.TrimRight(desc, " \t\r\n")
	last := desc[strings.LastIndexByte(desc, '\n')+1:]
	return strings.TrimSpace(last) == marker(installation, id)
}

// fields lists the issue's essentials for the card's description.
func fields(n *integrations.Notification, loc *locale.Localizer) string {
	stamp := func(t time.Time) string { return loc.TimeIn(t, n.TimeZone) }
	is := &n.Issue
	colon := strings.TrimSpace(loc.T("Colon"))
	var b strings.Builder
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "- **%s%s** %s\n", name, colon, md(truncate(value, maxFieldRunes)))
		}
	}
	field(loc.T("Project"), firstOf(is.Project.Name, is.Project.Slug))
	field(loc.T("Culprit"), is.Culprit)
	field(loc.T("Level"), is.Level)
	fmt.Fprintf(&b, "- **%s%s** %d · **%s%s** %d\n", loc.T("Events"), colon, is.Count, loc.T("Users"), colon, is.UserCount)
	if !is.FirstSeen.IsZero() {
		field(loc.T("FirstSeen"), stamp(is.FirstSeen))
	}
	if !is.LastSeen.IsZero() {
		field(loc.T("LastSeen"), stamp(is.LastSeen))
	}
	var env, release string
	if ev := n.Event; ev != nil {
		env, release = ev.Environment, ev.Release
	}
	field(loc.T("Release"), firstOf(release, is.LastRelease, is.FirstRelease))
	field(loc.T("Environment"), env)
	return b.String()
}

// stackBlock is the stack excerpt under its heading, "" without one.
func stackBlock(n *integrations.Notification, loc *locale.Localizer) string {
	if n.Event == nil || len(n.Event.Stacktrace) == 0 {
		return ""
	}
	colon := strings.TrimSpace(loc.T("Colon"))
	return "**" + loc.T("StackTrace") + "**" + loc.T("Comma") + loc.T("MostRecentCallLast") + colon + "\n\n" +
		codeBlock(n.Event.Stacktrace)
}

// headline is the first sentences of a comment: what happened and, for an
// alert or a regression, the counts.
func headline(n *integrations.Notification, loc *locale.Localizer) string {
	is := &n.Issue
	by := ""
	if n.Actor != "" {
		by = loc.T("By", "Actor", md(truncate(n.Actor, maxFieldRunes)))
	}
	var b strings.Builder
	switch n.Kind {
	case integrations.KindRegression:
		b.WriteString(loc.T("CardRegression"))
		if ev := n.Event; ev != nil && ev.Release != "" {
			b.WriteString(loc.T("CardInRelease", "Release", md(truncate(ev.Release, maxFieldRunes))))
		}
		b.WriteString(loc.T("Period"))
	case integrations.KindResolved:
		b.WriteString(loc.T("CardResolved", "By", by) + loc.T("Period"))
	case integrations.KindUnresolved:
		b.WriteString(loc.T("CardUnresolved", "By", by) + loc.T("Period"))
	case integrations.KindIgnored:
		b.WriteString(loc.T("CardIgnored", "By", by) + loc.T("Period"))
	case integrations.KindAssigned:
		if is.Assignee != "" {
			b.WriteString(loc.T("CardAssigned", "Assignee", md(truncate(is.Assignee, maxFieldRunes)), "By", by) + loc.T("Period"))
		} else {
			b.WriteString(loc.T("CardUnassigned", "By", by) + loc.T("Period"))
		}
	case integrations.KindTest:
		b.WriteString(loc.T("CardTest", "By", by) + loc.T("Period"))
	default:
		b.WriteString(loc.T("CardAlert"))
		if n.Rule != nil && n.Rule.Name != "" {
			b.WriteString(loc.T("CardRuleFired", "Rule", md(truncate(n.Rule.Name, maxFieldRunes))))
		}
		b.WriteString(loc.T("Period"))
	}
	switch n.Kind {
	case integrations.KindAlert, integrations.KindRegression:
		b.WriteString(loc.T("CardCounts", "Events", is.Count, "Users", is.UserCount))
		if !is.LastSeen.IsZero() {
			b.WriteString(loc.T("CardLastSeen", "When", md(loc.TimeIn(is.LastSeen, n.TimeZone))))
		}
		b.WriteString(loc.T("Period"))
	}
	return b.String()
}

func eventURL(n *integrations.Notification) string {
	if n.Event != nil {
		return n.Event.URL
	}
	return ""
}

// md makes s literal text in Trello's Markdown, on one line, trimmed (so
// that "**…**" around it stays bold).
func md(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case dropped(r):
		case r == '@':
			b.WriteString("@" + wordJoiner)
		case r < 0x80 && strings.ContainsRune("\\`*_{}[]()#+-.!|<>~&:", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return integrations.BreakAutolinks(strings.TrimSpace(b.String()))
}

// plain makes s a single line of plain text with no mention in it.
func plain(s string) string { return strings.Join(strings.Fields(oneLine(s)), " ") }

// dropped are control characters and bidirectional formatting.
func dropped(r rune) bool {
	return unicode.IsControl(r) || r == wordJoinerRune ||
		(r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F
}

const wordJoinerRune = 0x2060

// codeBlock fences the last maxFrames frames, one per line.
func codeBlock(frames []string) string {
	if len(frames) > maxFrames {
		frames = frames[len(frames)-maxFrames:]
	}
	lines := make([]string, len(frames))
	longest := 0
	for i, f := range frames {
		lines[i] = oneLine(truncate(f, maxFrameRunes))
		run := 0
		for _, r := range lines[i] {
			if r == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	fence := strings.Repeat("`", max(3, longest+1))
	return fence + "\n" + strings.Join(lines, "\n") + "\n" + fence + "\n"
}

// oneLine makes s one line with no mention in it, otherwise unchanged:
// a line of a code block.
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case dropped(r):
		case r == '@':
			b.WriteString("@" + wordJoiner)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// linkTo is a Markdown link to an http(s) URL of Tocsin's, "" when raw is
// not one.
func linkTo(text, raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	dest := strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u.String())
	return "[" + md(text) + "](" + dest + ")"
}

// stamp shows a time in UTC.

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos] + "…"
		}
		i++
	}
	return s
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
