package slack

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
)

// summaryMessage is a scheduled summary: the period's figures, the events
// per day as a text chart, and the busiest and the new issues.
func summaryMessage(n *integrations.Notification) message {
	loc := locale.For(n.Language)
	s := n.Summary
	project := firstOf(n.Issue.Project.Name, n.Issue.Project.Slug)
	title := firstOf(s.Name, loc.T("Summary"))
	head := fmt.Sprintf("*%s* · %s\n%s – %s", escapeN(title, maxTitle), escapeN(project, maxField),
		slackDate(s.From), slackDate(s.To))
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(head), nil, nil)}
	var fields []*slack.TextBlockObject
	for _, f := range [][2]string{{loc.T("Events"), s.EventsFigure()}, {loc.T("NewIssues"), s.NewIssuesFigure()},
		{loc.T("Regressions"), s.RegressionsFigure()}, {loc.T("Resolved"), s.ResolvedFigure()}} {
		fields = append(fields, mrkdwn("*"+f[0]+"*\n"+f[1]))
	}
	blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	if len(s.EventsByDay) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*"+loc.T("EventsPerDay")+"*\n```"+s.Chart(20, n.Language)+"```"), nil, nil))
	}
	list := func(heading string, issues []integrations.SummaryIssue) {
		if len(issues) == 0 {
			return
		}
		text := "*" + heading + "*"
		for _, is := range issues {
			text += "\n• " + link(is.URL, escapeN(firstOf(is.Title, loc.T("NoTitle")), maxTitle)) + " · " +
				escapeN(is.ShortID, maxField) + " · " + loc.T("NEvents", "Count", is.Events) + " · " + loc.T("NUsers", "Count", is.Users)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	list(loc.T("MostEvents"), s.TopIssues)
	list(loc.T("NewIssues"), s.NewTop)
	if len(s.Releases) > 0 {
		text := "*" + loc.T("CrashFreeSessions") + "*"
		for _, r := range s.Releases {
			text += "\n• " + escapeN(r.Release, maxField) + loc.T("Colon") + r.CrashFree + " " + loc.T("NSessions", "Count", r.Sessions)
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	text := loc.T("SummaryFallback", "Name", Escape(title), "Events", s.Events, "NewIssues", s.NewIssues, "Project", Escape(project))
	return message{text: text, attachment: slack.Attachment{Color: summaryColour, Fallback: text,
		Blocks: slack.Blocks{BlockSet: blocks}}}
}

// summaryColour is the attachment bar of a summary: a calm blue.
const summaryColour = "#2562d4"

// notifySummary posts a summary as a message of its own.
func (n *Notifier) notifySummary(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
	m := summaryMessage(note)
	if n.cfg.WebhookURL != "" {
		return n.postWebhook(ctx, m)
	}
	return n.postMarked(ctx, note, m)
}
