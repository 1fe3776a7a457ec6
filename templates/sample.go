package templates

import (
	"strings"
	"time"

	"github.com/tocsin/tocsin/integrations"
)

// Samples are the notifications Check renders the template name against:
// a digest or a summary for those templates, else an alert (with an event
// and a rule), a regression, a resolution and an assignment, which take
// the branches a notification template has, and for a subject template
// (which every message has) a digest and a summary too.
func Samples(name, lang string) []*integrations.Notification {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	project := integrations.Project{ID: 1, Slug: "backend", Name: "Backend"}
	issue := integrations.Issue{ID: 42, ShortID: "BACKEND-1A", Title: "ZeroDivisionError: division by zero",
		Culprit: "app.billing in compute_invoice", Level: "error", Status: "unresolved", Count: 12, UserCount: 3,
		FirstSeen: at.Add(-time.Hour), LastSeen: at, Project: project, Organization: "acme",
		URL: "https://tocsin.example.com/organizations/acme/issues/42/"}
	alert := func() *integrations.Notification {
		return &integrations.Notification{Kind: integrations.KindAlert, IdempotencyKey: "sample", Target: "ops",
			Issue: issue, Language: lang, At: at,
			Event: &integrations.Event{ID: "c0ffee00c0ffee00c0ffee00c0ffee00", Message: "division by zero", Environment: "production",
				Release: "backend@1.4.2", Timestamp: at, Tags: [][2]string{{"browser", "Firefox"}},
				Stacktrace: []string{"app.billing in compute_invoice at line 3"},
				URL:        issue.URL + "events/c0ffee00c0ffee00c0ffee00c0ffee00/"},
			Rule: &integrations.Rule{ID: 7, Name: "New errors", URL: "https://tocsin.example.com/rules/7/"}}
	}
	digest := func() *integrations.Notification {
		n := alert()
		n.Kind, n.Event, n.Rule = integrations.KindDigest, nil, nil
		n.Digest = []integrations.DigestItem{{Issue: issue, Alerts: 2, Reason: integrations.KindAlert},
			{Issue: issue, Alerts: 1, Reason: integrations.KindRegression}}
		return n
	}
	summary := func() *integrations.Notification {
		n := alert()
		n.Kind, n.Event, n.Rule = integrations.KindSummary, nil, nil
		n.Summary = &integrations.Summary{Name: "Daily", From: at.Add(-24 * time.Hour), To: at, Events: 12, NewIssues: 1,
			TopIssues:   []integrations.SummaryIssue{{ShortID: issue.ShortID, Title: issue.Title, URL: issue.URL, Events: 12, Users: 3}},
			NewTop:      []integrations.SummaryIssue{{ShortID: issue.ShortID, Title: issue.Title, URL: issue.URL, Events: 12, Users: 3}},
			EventsByDay: []integrations.DayCount{{Day: at.Truncate(24 * time.Hour), Events: 12}},
			Releases:    []integrations.ReleaseHealth{{Release: "backend@1.4.2", Sessions: 10, CrashFree: "90.00%"}}}
		return n
	}
	file := name[strings.IndexByte(name, '/')+1:]
	switch {
	case strings.HasPrefix(file, "digest"):
		return []*integrations.Notification{digest()}
	case strings.HasPrefix(file, "summary"):
		return []*integrations.Notification{summary()}
	}
	regression := alert()
	regression.Kind, regression.Rule = integrations.KindRegression, nil
	resolved := alert()
	resolved.Kind, resolved.Event, resolved.Rule, resolved.Actor = integrations.KindResolved, nil, nil, "jane@example.com"
	resolved.Handle = "1"
	assigned := alert()
	assigned.Kind, assigned.Event, assigned.Rule, assigned.Actor = integrations.KindAssigned, nil, nil, "jane@example.com"
	assigned.Issue.Assignee, assigned.Handle = "jane@example.com", "1"
	out := []*integrations.Notification{alert(), regression, resolved, assigned}
	if strings.HasPrefix(file, "subject") {
		// A subject template serves every kind of message.
		out = append(out, digest(), summary())
	}
	return out
}
