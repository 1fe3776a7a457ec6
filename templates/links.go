package templates

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/tocsin/tocsin/integrations"
)

// An override may link wherever its author likes, but event data must not
// choose where a link goes: the values a template sees are escaped, yet a
// template can still put one where a link's target goes
// ("[details]({{.Issue.Title}})", "<{{.Issue.Title}}|x>", href="…").
// So an override's output may link only to the notification's own links
// (Tocsin's issue, event and rule pages), to what its body writes out, and
// to the mentions of the rule's notes; Links extract the targets of each
// format.

var (
	// Markdown: inline links and images, reference definitions, autolinks.
	mdInlineRE    = regexp.MustCompile(`\]\(\s*(<[^>\n]*>|[^\s)]*)`)
	mdReferenceRE = regexp.MustCompile(`(?m)^ {0,3}\[[^\]\n]*\]:\s*(<[^>\n]*>|\S+)`)
	autolinkRE    = regexp.MustCompile(`<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*)>`)
	// HTML: attributes that hold URLs, and CSS url(…).
	htmlURLRE = regexp.MustCompile(`(?i)\b(?:href|src|srcset|action|formaction|poster|background|cite|data|longdesc|usemap|icon|manifest|xlink:href)\s*=\s*["']?([^"'\s>]*)`)
	cssURLRE  = regexp.MustCompile(`(?i)url\(\s*['"]?([^'")\s]*)`)
	// Slack's mrkdwn: <target> and <target|text>.
	slackRE = regexp.MustCompile(`<([^<>|]*)(?:\|[^<>]*)?>`)
)

// MarkdownLinks are the link targets of Markdown (GitHub, Trello), raw
// HTML included, outside fenced code blocks.
func MarkdownLinks(out string) []string {
	prose := withoutCode(out)
	var targets []string
	for _, re := range []*regexp.Regexp{mdInlineRE, mdReferenceRE, autolinkRE, htmlURLRE, cssURLRE} {
		for _, m := range re.FindAllStringSubmatch(prose, -1) {
			targets = append(targets, strings.TrimSuffix(strings.TrimPrefix(m[1], "<"), ">"))
		}
	}
	return targets
}

// HTMLLinks are the URL targets of an HTML document.
func HTMLLinks(out string) []string {
	var targets []string
	for _, re := range []*regexp.Regexp{htmlURLRE, cssURLRE} {
		for _, m := range re.FindAllStringSubmatch(out, -1) {
			targets = append(targets, m[1])
		}
	}
	return targets
}

// SlackLinks are the link and mention targets in the strings of a Slack
// message (JSON), but for dates (<!date^…>), which only format a time,
// and the values of its URL fields (url, title_link, image_url, …).
func SlackLinks(out string) []string {
	var v any
	if json.Unmarshal([]byte(out), &v) != nil {
		return nil
	}
	var targets []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			for _, m := range slackRE.FindAllStringSubmatch(v, -1) {
				if !strings.HasPrefix(m[1], "!date^") {
					targets = append(targets, m[1])
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				if u, ok := e.(string); ok && (k == "url" || strings.HasSuffix(k, "_url") ||
					strings.HasSuffix(k, "_link") || strings.HasSuffix(k, "_icon")) {
					targets = append(targets, u)
				}
				walk(e)
			}
		}
	}
	walk(v)
	return targets
}

// withoutCode is Markdown without its fenced code blocks, where nothing
// links.
func withoutCode(md string) string {
	var b strings.Builder
	fence := ""
	for line := range strings.SplitSeq(md, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case fence != "":
			if strings.TrimSpace(line) == fence {
				fence = ""
			}
		case strings.HasPrefix(trimmed, "```"):
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, "`"))]
		default:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// checkLinks refuses an output that links to a target neither of the
// notification's links nor written in body nor mentioned in the rule's
// notes.
func checkLinks(targets []string, n *integrations.Notification, body string) error {
	if len(targets) == 0 {
		return nil
	}
	allowed := map[string]bool{}
	for _, u := range notificationURLs(n) {
		allowed[canonicalTarget(u)] = true
	}
	notes, _ := n.Options["notes"].(string)
	for _, tok := range tokens(body + "\n" + notes) {
		allowed[canonicalTarget(tok)] = true
	}
	for _, t := range targets {
		if c := canonicalTarget(t); c != "" && !allowed[c] {
			return fmt.Errorf("it links to %q, which is neither one of Tocsin's links nor written in the template", t)
		}
	}
	return nil
}

// tokens splits text at spaces and at the characters that delimit links.
func tokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune("\"'<>()|[]{}`", r)
	})
}

// canonicalTarget undoes the escapes a target may carry in each format
// (HTML entities, Markdown backslashes, percent-encoding), so that one
// link compares equal however it was written.
func canonicalTarget(s string) string {
	s = html.UnescapeString(strings.TrimSpace(s))
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] < 0x80 && (unicode.IsPunct(rune(s[i+1])) || unicode.IsSymbol(rune(s[i+1]))) {
			continue
		}
		b.WriteByte(s[i])
	}
	s = b.String()
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return s
}

// notificationURLs are the links a notification carries: Tocsin's pages of
// its issues, event and rule, and the unsubscribe link.
func notificationURLs(n *integrations.Notification) []string {
	urls := []string{n.Issue.URL}
	if n.Event != nil {
		urls = append(urls, n.Event.URL)
	}
	if n.Rule != nil {
		urls = append(urls, n.Rule.URL)
	}
	for _, it := range n.Digest {
		urls = append(urls, it.Issue.URL)
	}
	if n.Summary != nil {
		for _, is := range append(append([]integrations.SummaryIssue(nil), n.Summary.TopIssues...), n.Summary.NewTop...) {
			urls = append(urls, is.URL)
		}
	}
	if u, ok := n.Options["unsubscribe_url"].(string); ok {
		urls = append(urls, u)
	}
	return urls
}
