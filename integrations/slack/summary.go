package slack

import (
	"context"
	"fmt"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/templates"
)

// summaryColour is the attachment bar of a summary: a calm blue.
const summaryColour = "#2562d4"

// summaryViewT is what slack/summary.json sees: the data and the parts of
// the built-in message.
type summaryViewT struct {
	data
	Text, Colour templates.Safe
	// Head is the summary's name, project and period; Figures the
	// period's counts with their change.
	Head    templates.Safe
	Figures []field
	// Chart, TopIssues, NewIssues and Releases are whole section texts
	// (heading included), "" when there is nothing to show.
	Chart, TopIssues, NewIssues, Releases templates.Safe
}

// summaryView is a scheduled summary: the period's figures, the events
// per day as a text chart, and the busiest and the new issues.
func summaryView(n *integrations.Notification) summaryViewT {
	loc := locale.For(n.Language)
	s := n.Summary
	if s == nil {
		s = &integrations.Summary{}
	}
	project := firstOf(n.Issue.Project.Name, n.Issue.Project.Slug)
	title := firstOf(s.Name, loc.T("Summary"))
	text := loc.T("SummaryFallback", "Name", Escape(title), "Events", s.Events, "NewIssues", s.NewIssues, "Project", Escape(project))
	v := summaryViewT{data: newData(n), Text: js(text), Colour: js(summaryColour),
		Head: js(fmt.Sprintf("*%s* · %s\n%s – %s", escapeN(title, maxTitle), escapeN(project, maxField),
			slackDate(s.From), slackDate(s.To)))}
	for _, f := range [][2]string{{loc.T("Events"), s.EventsFigure()}, {loc.T("NewIssues"), s.NewIssuesFigure()},
		{loc.T("Regressions"), s.RegressionsFigure()}, {loc.T("Resolved"), s.ResolvedFigure()}} {
		v.Figures = append(v.Figures, newField(f[0], f[1]))
	}
	if len(s.EventsByDay) > 0 {
		v.Chart = js("*" + loc.T("EventsPerDay") + "*\n```" + s.Chart(20, n.Language) + "```")
	}
	list := func(heading string, issues []integrations.SummaryIssue) templates.Safe {
		if len(issues) == 0 {
			return ""
		}
		text := "*" + heading + "*"
		for _, is := range issues {
			text += "\n• " + link(is.URL, escapeN(firstOf(is.Title, loc.T("NoTitle")), maxTitle)) + " · " +
				escapeN(is.ShortID, maxField) + " · " + loc.T("NEvents", "Count", is.Events) + " · " + loc.T("NUsers", "Count", is.Users)
		}
		return js(text)
	}
	v.TopIssues, v.NewIssues = list(loc.T("MostEvents"), s.TopIssues), list(loc.T("NewIssues"), s.NewTop)
	if len(s.Releases) > 0 {
		text := "*" + loc.T("CrashFreeSessions") + "*"
		for _, r := range s.Releases {
			text += "\n• " + escapeN(r.Release, maxField) + loc.T("Colon") + r.CrashFree + " " + loc.T("NSessions", "Count", r.Sessions)
		}
		v.Releases = js(text)
	}
	return v
}

// notifySummary posts a summary as a message of its own.
func (n *Notifier) notifySummary(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
	return n.postRendered(ctx, note, summaryTemplate, summaryView(note))
}
