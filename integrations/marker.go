package integrations

import (
	"regexp"
	"strconv"
	"strings"
)

// IssueMarker is the hidden text by which an issue's card or ticket in
// another service (a GitHub issue, a Trello card) is found again when its
// handle was lost: Tocsin crashed between the service's answer and
// storing it. It names the installation (48 bits of its UUID), so that
// deployments filing into one repository or list never take each other's,
// and the issue: "tocsin:issue:a8e5d37a696c:42". Without an installation
// it is "tocsin:issue:42".
func IssueMarker(installation string, issueID int64) string {
	id := strconv.FormatInt(issueID, 10)
	if installation == "" {
		return "tocsin:issue:" + id
	}
	inst := strings.ReplaceAll(installation, "-", "")
	return "tocsin:issue:" + inst[:min(len(inst), 12)] + ":" + id
}

// autolinkRE finds where GitHub's and Trello's Markdown turn plain text
// into a link (a scheme's "://", a "www."), escaped or not.
var autolinkRE = regexp.MustCompile(`(?i)(:)(\\?/\\?/)|\b(www)(\\?\.)`)

// BreakAutolinks puts a word joiner (U+2060, invisible) inside every
// "://" and "www." of escaped Markdown text, so that services which link
// bare addresses (GitHub, Trello) show event data such as
// "http://evil.example" as text, not as a link.
func BreakAutolinks(s string) string {
	if !strings.Contains(s, ":") && !strings.Contains(strings.ToLower(s), "www") {
		return s
	}
	return autolinkRE.ReplaceAllString(s, "$1$3\u2060$2$4")
}
