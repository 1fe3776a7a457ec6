// Package integrations is the seam between fired rules and the services
// that carry notifications: one small interface that every service
// implements (Slack, GitHub issues, Trello, email, signed webhooks), the
// notification they deliver, and the error values with which they say
// whether a failure is worth retrying and when. Delivery itself — durable
// jobs, retries, the delivery log — is the worker's; a Notifier only makes
// one attempt.
package integrations

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Notifier delivers one notification to one target of one service.
type Notifier interface {
	Notify(ctx context.Context, n *Notification) (*Result, error)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n *Notification) (*Result, error)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n *Notification) (*Result, error) { return f(ctx, n) }

// Kinds of notification.
const (
	KindAlert      = "alert"      // a rule fired on a new issue, an event or a frequency
	KindRegression = "regression" // a resolved issue came back
	KindResolved   = "resolved"   // the issue was resolved
	KindAssigned   = "assigned"   // the issue was assigned
	KindIgnored    = "ignored"
	KindUnresolved = "unresolved"
	KindTest       = "test" // sent from the API to check an integration
	// KindDigest lists several issues' alerts collected over a few minutes
	// (Notification.Digest); Issue holds only the project.
	KindDigest = "digest"
	// KindSummary is a project's scheduled summary (Notification.Summary);
	// Issue holds only the project.
	KindSummary = "summary"
)

// Notification is what a service is asked to deliver: one issue (and the
// event that triggered it) to one target, with what the service already
// knows of that issue.
type Notification struct {
	Kind string
	// IdempotencyKey identifies this notification across retries: rule,
	// issue, target and firing. Services that can (webhooks, Slack's
	// client_msg_id) pass it on so that a retry is not shown twice.
	IdempotencyKey string
	// Target is the service's destination: a Slack channel, an
	// "owner/repo", a Trello list id, email addresses, a URL; "" means the
	// integration's default.
	Target string
	// Handle is what the service answered for an earlier notification of
	// the same issue and target (Slack message ts, GitHub issue number,
	// Trello card id), so that follow-ups thread, comment or update instead
	// of posting anew; "" for the first.
	Handle string
	Issue  Issue
	Event  *Event // nil when no event triggered it (resolution, assignment, test)
	Rule   *Rule  // nil when no rule fired it
	// Options are the rule action's fields (tags to show, labels, notes…).
	Options map[string]any
	// Actor is who caused the notification, for resolutions and assignments.
	Actor string
	At    time.Time
	// Digest are the issues of a KindDigest notification, most events first.
	Digest []DigestItem
	// Summary is the report of a KindSummary notification.
	Summary *Summary
	// Templates are the overrides of the message templates that apply to
	// this notification (by name, such as "email/notification.html").
	Templates map[string]string
	// Language is the target's language ("" or "en", "zh-CN"), from its
	// integration's "language" setting.
	Language string
	// TimeZone is the target's time zone (an IANA name, "" for UTC), from
	// its integration's "timezone" setting, for the dates messages show.
	TimeZone string
	// Unsure is set when an earlier attempt of this notification may have
	// reached the service without its answer being recorded (the process
	// stopped mid-delivery). A service that marks what it posts with the
	// IdempotencyKey looks for that mark first instead of posting again.
	Unsure bool
}

// Summary is what a scheduled summary reports on a project's period.
type Summary struct {
	Name        string
	From, To    time.Time
	Events      int64
	NewIssues   int64
	Regressions int64
	Resolved    int64
	// The figures of the period of the same length just before.
	PrevEvents, PrevNewIssues, PrevRegressions, PrevResolved int64
	TopIssues                                                []SummaryIssue // most events in the period first
	NewTop                                                   []SummaryIssue // the period's new issues, most events first
	EventsByDay                                              []DayCount     // seven days, oldest first
	Releases                                                 []ReleaseHealth
}

// ReleaseHealth is a release's crash-free rate in a summary's period.
type ReleaseHealth struct {
	Release   string
	Sessions  int64
	CrashFree string // "99.52%"
}

// SummaryIssue is an issue of a summary.
type SummaryIssue struct {
	ShortID string
	Title   string
	URL     string
	Events  int64 // in the period
	Users   int64
}

// DayCount is one day's events.
type DayCount struct {
	Day    time.Time
	Events int64
}

// DigestItem is one issue of a digest.
type DigestItem struct {
	Issue Issue
	// Alerts is how many notifications about the issue the digest stands for.
	Alerts int64
	// Reason is the last of them: KindAlert or KindRegression.
	Reason string
}

// Issue is what notifications show of an issue.
type Issue struct {
	ID           int64
	ShortID      string // DEFAULT-1A
	Title        string
	Culprit      string
	Level        string
	Status       string
	Substatus    string
	Platform     string
	Count        int64
	UserCount    int64
	FirstSeen    time.Time
	LastSeen     time.Time
	FirstRelease string
	LastRelease  string
	Assignee     string
	Project      Project
	Organization string // slug
	URL          string // the issue in Tocsin's web UI
}

// Project names the issue's project.
type Project struct {
	ID   int64
	Slug string
	Name string
}

// Event is what notifications show of the triggering event.
type Event struct {
	ID          string
	Message     string
	Environment string
	Release     string
	Timestamp   time.Time
	Tags        [][2]string
	// Stacktrace is an excerpt, most recent frame last: "module in function at line".
	Stacktrace []string
	URL        string // the event in Tocsin's web UI
}

// Rule names the rule that fired.
type Rule struct {
	ID   int64
	Name string
	URL  string
}

// Result is what the service answered to a delivered notification.
type Result struct {
	// Handle identifies what was created or updated (see Notification.Handle).
	Handle string
	// URL links to it (a GitHub issue, a Trello card, a Slack permalink).
	URL string
	// Status is the HTTP status of the service's answer, 0 for SMTP.
	Status int
	// Warning is a problem that did not stop the delivery, for the
	// integration to show (an override template that does not work).
	Warning string
}

// Failure classification, made once at each service's edge (STYLE.md):
// *PermanentError stops retrying, *RetryError reschedules, any other error
// is retried with backoff.

// Reasons of a failure, for the delivery log.
const (
	ReasonAuth        = "auth"         // credentials refused: fix the integration
	ReasonNotFound    = "not_found"    // channel, repository, list or address unknown
	ReasonRateLimited = "rate_limited" // the service asked to slow down
	ReasonClient      = "client"       // the request was refused for another reason
	ReasonServer      = "server"       // the service failed
	ReasonNetwork     = "network"      // timeout or connection failure
	ReasonConfig      = "config"       // the integration's settings cannot work
)

// PermanentError is a failure that retrying will not mend (401, 404, a
// revoked token); the integration is marked unhealthy with its reason.
type PermanentError struct {
	Reason string
	Status int
	Err    error
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("%s (permanent, %s): %v", statusText(e.Status), e.Reason, e.Err)
}

func (e *PermanentError) Unwrap() error { return e.Err }

// RetryError is a failure worth retrying; After, when set, is the wait the
// service asked for (Retry-After, Slack's and GitHub's rate limits), which
// the worker honours per destination without spending an attempt.
type RetryError struct {
	Reason string
	Status int
	After  time.Duration
	Err    error
}

func (e *RetryError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("%s (retry after %s, %s): %v", statusText(e.Status), e.After, e.Reason, e.Err)
	}
	return fmt.Sprintf("%s (retry, %s): %v", statusText(e.Status), e.Reason, e.Err)
}

func (e *RetryError) Unwrap() error { return e.Err }

func statusText(code int) string {
	if code == 0 {
		return "no answer"
	}
	return "HTTP " + strconv.Itoa(code)
}

// maxRetryAfter caps a service's Retry-After so that a wrong header does
// not park a destination for days.
const maxRetryAfter = time.Hour

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date,
// capped; 0 when absent or unreadable.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil {
		return min(max(time.Duration(secs)*time.Second, 0), maxRetryAfter)
	}
	if t, err := http.ParseTime(h); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// Classify turns an HTTP status into the failure it is: 429 and 5xx retry
// (429 with its Retry-After), 401/403 are permanent auth failures, 404 and
// 410 permanent not-found, other 4xx permanent client errors.
func Classify(status int, retryAfter string, now time.Time, err error) error {
	switch {
	case status == http.StatusTooManyRequests:
		return &RetryError{Reason: ReasonRateLimited, Status: status, After: ParseRetryAfter(retryAfter, now), Err: err}
	case status >= 500:
		return &RetryError{Reason: ReasonServer, Status: status, After: ParseRetryAfter(retryAfter, now), Err: err}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &PermanentError{Reason: ReasonAuth, Status: status, Err: err}
	case status == http.StatusNotFound || status == http.StatusGone:
		return &PermanentError{Reason: ReasonNotFound, Status: status, Err: err}
	case status >= 400:
		return &PermanentError{Reason: ReasonClient, Status: status, Err: err}
	}
	return &RetryError{Reason: ReasonNetwork, Status: status, Err: err}
}

// IsPermanent reports whether err says retrying is pointless.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}
