package integrations

import (
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
