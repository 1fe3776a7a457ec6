package webhook

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/templates"
)

// The body's shape follows Sentry's integration-platform webhooks:
// https://docs.sentry.io/organization/integrations/integration-platform/webhooks/issues/
// https://docs.sentry.io/organization/integrations/integration-platform/webhooks/issue-alerts/
// Field names, string ids, string counts and timestamps are Sentry's. The
// body is rendered by the templates webhook/issue.json and
// webhook/event-alert.json (templates/builtin/webhook/) from a view whose
// strings are escaped for the inside of a JSON string; the json tags name
// the fields the templates write.

// view is what the webhook templates see.
type view struct {
	Resource     string // "issue" or "event_alert" (Sentry-Hook-Resource)
	Action       string
	Installation string
	Actor        actor
	// Issue is the issue of an issue webhook, Event the event of an
	// event_alert one, with the rule that fired.
	Issue         *issue
	Event         *event
	TriggeredRule string
}

var (
	issueTemplate = &templates.Template{Name: "webhook/issue.json", Format: templates.JSON,
		View: func(n *integrations.Notification) any { return sampleView(n, "issue") }, Validate: isObject}
	eventAlertTemplate = &templates.Template{Name: "webhook/event-alert.json", Format: templates.JSON,
		View: func(n *integrations.Notification) any { return sampleView(n, "event_alert") }, Validate: isObject}
)

// sampleView is what checks and previews render resource's template
// with: n's action when it is of that resource, else the resource's
// usual one.
func sampleView(n *integrations.Notification, resource string) view {
	action := "created"
	if resource == "event_alert" {
		action = "triggered"
	}
	if r, a, err := Route(n); err == nil && r == resource {
		action = a
	}
	return newView(n, resource, action, sampleInstallation)
}

// Templates are the webhook templates an organization, project or
// integration may override.
var Templates = templates.Registry{issueTemplate, eventAlertTemplate}

// sampleInstallation stands for the installation in checks and previews.
const sampleInstallation = "00000000-0000-4000-8000-000000000000"

// newView is what the templates see of n, every string escaped for the
// inside of a JSON string.
func newView(n *integrations.Notification, resource, action, installation string) view {
	v := view{Resource: resource, Action: action, Installation: installation,
		Actor: actor{Type: "application", ID: "tocsin", Name: "Tocsin"}}
	if n.Actor != "" {
		v.Actor = actor{Type: "user", ID: n.Actor, Name: n.Actor}
	}
	if resource == "event_alert" {
		ev := eventPayload(n)
		v.Event = &ev
		if n.Rule != nil {
			v.TriggeredRule = n.Rule.Name
		}
	} else {
		is := issuePayload(n)
		v.Issue = &is
	}
	return templates.EscapeStrings(v, templates.JSONString)
}

// isObject accepts a body that is a JSON object, as receivers expect.
func isObject(out string) error {
	if !strings.HasPrefix(out, "{") {
		return errors.New("the body is not a JSON object")
	}
	return nil
}

type actor struct {
	Type string `json:"type"` // "application" or "user"
	ID   string `json:"id"`
	Name string `json:"name"`
}

type issue struct {
	ID                  string         `json:"id"`
	ShortID             string         `json:"shortId"`
	Title               string         `json:"title"`
	Culprit             string         `json:"culprit"`
	Level               string         `json:"level"`
	Status              string         `json:"status"`
	Substatus           *string        `json:"substatus"`
	StatusDetails       map[string]any `json:"statusDetails"`
	Platform            string         `json:"platform"`
	Type                string         `json:"type"`
	Metadata            map[string]any `json:"metadata"`
	Count               string         `json:"count"`
	UserCount           int64          `json:"userCount"`
	FirstSeen           *string        `json:"firstSeen"`
	LastSeen            *string        `json:"lastSeen"`
	Project             project        `json:"project"`
	AssignedTo          *assignee      `json:"assignedTo"`
	Permalink           *string        `json:"permalink"`
	Logger              *string        `json:"logger"`
	Annotations         []string       `json:"annotations"`
	NumComments         int            `json:"numComments"`
	HasSeen             bool           `json:"hasSeen"`
	IsBookmarked        bool           `json:"isBookmarked"`
	IsPublic            bool           `json:"isPublic"`
	IsSubscribed        bool           `json:"isSubscribed"`
	ShareID             *string        `json:"shareId"`
	SubscriptionDetails map[string]any `json:"subscriptionDetails"`
	URL                 string         `json:"url,omitempty"`
	WebURL              string         `json:"web_url,omitempty"`
	ProjectURL          string         `json:"project_url,omitempty"`
}

type project struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Platform string `json:"platform"`
}

type assignee struct {
	Type  string `json:"type"` // "user" or "team"
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

type event struct {
	EventID     string         `json:"event_id"`
	IssueID     string         `json:"issue_id"`
	Title       string         `json:"title"`
	Message     string         `json:"message"`
	Culprit     string         `json:"culprit"`
	Level       string         `json:"level"`
	Platform    string         `json:"platform"`
	Type        string         `json:"type"`
	Metadata    map[string]any `json:"metadata"`
	Project     int64          `json:"project"`
	Environment *string        `json:"environment"`
	Release     *string        `json:"release"`
	Datetime    *string        `json:"datetime"`
	Timestamp   templates.Safe `json:"timestamp"` // a JSON number, "" for null
	Tags        [][2]string    `json:"tags"`
	URL         string         `json:"url,omitempty"`
	WebURL      string         `json:"web_url,omitempty"`
	IssueURL    string         `json:"issue_url,omitempty"`
}

// sentryTime is Sentry's timestamp format: UTC with microseconds.
func sentryTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format("2006-01-02T15:04:05.000000Z")
	return &s
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// apiBase is the scheme and host of Tocsin's web UI link, where its
// Sentry-compatible /api/0/ lives too; "" when the issue has no link.
func apiBase(webURL string) string {
	u, err := url.Parse(webURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.Scheme + "://" + u.Host + "/api/0/"
}

func issuePayload(n *integrations.Notification) issue {
	is := n.Issue
	id := strconv.FormatInt(is.ID, 10)
	out := issue{
		ID:            id,
		ShortID:       is.ShortID,
		Title:         is.Title,
		Culprit:       is.Culprit,
		Level:         is.Level,
		Status:        is.Status,
		Substatus:     nullable(is.Substatus),
		StatusDetails: map[string]any{},
		Platform:      is.Platform,
		Type:          "error",
		Metadata:      map[string]any{"title": is.Title},
		Count:         strconv.FormatInt(is.Count, 10),
		UserCount:     is.UserCount,
		FirstSeen:     sentryTime(is.FirstSeen),
		LastSeen:      sentryTime(is.LastSeen),
		Project:       project{ID: strconv.FormatInt(is.Project.ID, 10), Name: is.Project.Name, Slug: is.Project.Slug, Platform: is.Platform},
		AssignedTo:    assignedTo(is.Assignee),
		Permalink:     nullable(is.URL),
		Annotations:   []string{},
		WebURL:        is.URL,
	}
	if base := apiBase(is.URL); base != "" {
		out.URL = base + "issues/" + id + "/"
		if is.Organization != "" && is.Project.Slug != "" {
			out.ProjectURL = base + "projects/" + url.PathEscape(is.Organization) + "/" + url.PathEscape(is.Project.Slug) + "/"
		}
	}
	return out
}

// assignedTo reads Issue.Assignee: "" for nobody, "team:SLUG" for a team,
// otherwise a user (an email address when it has an @).
func assignedTo(a string) *assignee {
	switch {
	case a == "":
		return nil
	case strings.HasPrefix(a, "team:"):
		slug := strings.TrimPrefix(a, "team:")
		return &assignee{Type: "team", ID: slug, Name: slug}
	case strings.Contains(a, "@"):
		return &assignee{Type: "user", ID: a, Name: a, Email: a}
	}
	return &assignee{Type: "user", ID: a, Name: a}
}

func eventPayload(n *integrations.Notification) event {
	is := n.Issue
	issueID := strconv.FormatInt(is.ID, 10)
	out := event{
		IssueID:  issueID,
		Title:    is.Title,
		Culprit:  is.Culprit,
		Level:    is.Level,
		Platform: is.Platform,
		Type:     "error",
		Metadata: map[string]any{"title": is.Title},
		Project:  is.Project.ID,
		Tags:     [][2]string{},
	}
	base := apiBase(is.URL)
	if base != "" {
		out.IssueURL = base + "issues/" + issueID + "/"
	}
	if e := n.Event; e != nil {
		out.EventID = e.ID
		out.Message = e.Message
		out.Environment = nullable(e.Environment)
		out.Release = nullable(e.Release)
		out.Datetime = sentryTime(e.Timestamp)
		if !e.Timestamp.IsZero() {
			ts, _ := json.Marshal(float64(e.Timestamp.UnixMicro()) / 1e6) // a float always encodes
			out.Timestamp = templates.Safe(ts)
		}
		if e.Tags != nil {
			out.Tags = e.Tags
		}
		out.WebURL = e.URL
		if base != "" && e.ID != "" && is.Organization != "" && is.Project.Slug != "" {
			out.URL = base + "projects/" + url.PathEscape(is.Organization) + "/" + url.PathEscape(is.Project.Slug) + "/events/" + url.PathEscape(e.ID) + "/"
		}
	}
	return out
}
