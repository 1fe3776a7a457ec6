package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Inbound webhooks (POST /webhooks/github): GitHub signs each delivery
// with the webhook's secret and names the event in X-GitHub-Event; see
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// and https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues.

// Errors of VerifySignature; the handler answers 401 to each.
var (
	ErrNoSecret     = errors.New("github: the integration has no webhook secret")
	ErrNoSignature  = errors.New("github: no X-Hub-Signature-256 header")
	ErrBadSignature = errors.New("github: X-Hub-Signature-256 does not match the body")
)

// ErrIgnored says that a well-formed delivery is not one Tocsin acts on
// (another event, such as ping, or another action than closed and
// reopened): the handler answers 2xx and changes nothing.
var ErrIgnored = errors.New("github: event ignored")

// MaxPayload is the largest webhook body GitHub sends (25 MB); the handler
// reads at most this much.
const MaxPayload = 25 << 20

// VerifySignature checks X-Hub-Signature-256, "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret, in constant time. An empty secret
// verifies nothing: it is refused.
func VerifySignature(header http.Header, body []byte, secret string) error {
	if secret == "" {
		return ErrNoSecret
	}
	sig := header.Get("X-Hub-Signature-256")
	if sig == "" {
		return ErrNoSignature
	}
	digest, ok := strings.CutPrefix(sig, "sha256=")
	got, err := hex.DecodeString(digest)
	if !ok || err != nil || len(got) != sha256.Size {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Actions of an IssueEvent.
const (
	ActionClosed   = "closed"   // resolve the linked Tocsin issue
	ActionReopened = "reopened" // unresolve it
)

// IssueEvent is a GitHub issue closed or reopened, from an "issues"
// webhook, for the handler to resolve or unresolve the Tocsin issue linked
// to Handle.
//
// Echo loops: when Tocsin closes or reopens a GitHub issue itself (a
// resolution or a regression delivered by Notify), GitHub sends the
// matching webhook back with the token's user as its sender. The handler
// ignores events whose Sender equals (*Notifier).Login, compared without
// case; with an installation token, which cannot read its own user,
// Sender is the app's bot ("SLUG[bot]", SenderType "Bot"). Independently,
// the handler changes nothing when the Tocsin issue already has the
// wanted status, so that an echo that slips through stops there instead
// of notifying again.
type IssueEvent struct {
	Action      string // ActionClosed or ActionReopened
	Repository  string // "owner/repo", as GitHub spells it
	Number      int
	HTMLURL     string
	StateReason string // on close: "completed" or "not_planned"
	Sender      string // login of who closed or reopened it
	SenderType  string // "User" or "Bot"
	DeliveryID  string // X-GitHub-Delivery, unique per delivery
}

// Handle is the handle Notify answered for the issue, "owner/repo#123", to
// look up the linked Tocsin issue.
func (e *IssueEvent) Handle() string {
	r, _ := parseRepo(e.Repository)
	return handle{repo: r, number: e.Number}.String()
}

// ParseIssueEvent reads a verified delivery. It returns an error wrapping
// ErrIgnored for other events and actions, and another error for a
// malformed delivery.
func ParseIssueEvent(header http.Header, body []byte) (*IssueEvent, error) {
	kind := header.Get("X-GitHub-Event")
	switch {
	case kind == "":
		return nil, errors.New("github: webhook: no X-GitHub-Event header")
	case kind != "issues":
		return nil, fmt.Errorf("%w: %q event", ErrIgnored, kind)
	case len(body) > MaxPayload:
		return nil, fmt.Errorf("github: webhook: body of %d bytes, at most %d", len(body), MaxPayload)
	}
	parsed, err := gh.ParseWebHook(kind, body)
	if err != nil {
		return nil, fmt.Errorf("github: webhook: issues event: %w", err)
	}
	ev, ok := parsed.(*gh.IssuesEvent)
	if !ok {
		return nil, fmt.Errorf("github: webhook: issues event parsed as %T", parsed)
	}
	action := ev.GetAction()
	if action != ActionClosed && action != ActionReopened {
		return nil, fmt.Errorf("%w: issues %q", ErrIgnored, action)
	}
	if ev.GetIssue().IsPullRequest() {
		return nil, fmt.Errorf("%w: a pull request", ErrIgnored)
	}
	out := &IssueEvent{
		Action:      action,
		Repository:  ev.GetRepo().GetFullName(),
		Number:      ev.GetIssue().GetNumber(),
		HTMLURL:     ev.GetIssue().GetHTMLURL(),
		StateReason: ev.GetIssue().GetStateReason(),
		Sender:      ev.GetSender().GetLogin(),
		SenderType:  ev.GetSender().GetType(),
		DeliveryID:  header.Get("X-GitHub-Delivery"),
	}
	if _, err := parseRepo(out.Repository); err != nil {
		return nil, fmt.Errorf("github: webhook: issues event: %w", err)
	}
	if out.Number <= 0 {
		return nil, errors.New("github: webhook: issues event without an issue number")
	}
	return out, nil
}
