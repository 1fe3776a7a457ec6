package slack

import (
	"context"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/integrations"
)

// summaryMessage is a scheduled summary: the period's figures, the events
// per day as a text chart, and the busiest and the new issues.
func summaryMessage(n *integrations.Notification) message {
	s := n.Summary
	project := firstOf(n.Issue.Project.Name, n.Issue.Project.Slug)
	title := firstOf(s.Name, "Summary")
	head := fmt.Sprintf("*%s* · %s\n%s – %s", escapeN(title, maxTitle), escapeN(project, maxField),
		slackDate(s.From), slackDate(s.To))
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(head), nil, nil)}
	var fields []*slack.TextBlockObject
	for _, f := range []struct {
		name string
		n    int64
	}{{"Events", s.Events}, {"New issues", s.NewIssues}, {"Regressions", s.Regressions}, {"Resolved", s.Resolved}} {
		fields = append(fields, mrkdwn("*"+f.name+"*\n"+strconv.FormatInt(f.n, 10)))
	}
	blocks = append(blocks, slack.NewSectionBlock(nil, fields, nil))
	if len(s.EventsByDay) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn("*Events per day*\n```"+s.Chart(20)+"```"), nil, nil))
	}
	list := func(heading string, issues []integrations.SummaryIssue) {
		if len(issues) == 0 {
			return
		}
		text := "*" + heading + "*"
		for _, is := range issues {
			text += "\n• " + link(is.URL, escapeN(firstOf(is.Title, "(no title)"), maxTitle)) + " · " +
				escapeN(is.ShortID, maxField) + " · " + plural(is.Events, "event") + " · " + plural(is.Users, "user")
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	list("Most events", s.TopIssues)
	list("New issues", s.NewTop)
	if len(s.Releases) > 0 {
		text := "*Crash-free sessions*"
		for _, r := range s.Releases {
			text += "\n• " + escapeN(r.Release, maxField) + ": " + r.CrashFree + " of " + plural(r.Sessions, "session")
		}
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(text), nil, nil))
	}
	text := fmt.Sprintf("%s: %d events, %d new issues in %s", Escape(title), s.Events, s.NewIssues, Escape(project))
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
