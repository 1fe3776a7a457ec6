package slack

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
)

// maxDigestItems bounds the issues one digest message lists; the rest are
// counted.
const maxDigestItems = 20

// digestMessage lists a digest's issues, most events first: each linked
// title with its short id, events, users and why it was alerted.
func digestMessage(n *integrations.Notification) message {
	loc := locale.For(n.Language)
	project := firstOf(n.Issue.Project.Name, n.Issue.Project.Slug)
	head := "*" + loc.T("DigestSubject", "Count", len(n.Digest), "Project", escapeN(project, maxField)) + "*"
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(head), nil, nil)}
	for i, it := range n.Digest {
		if i == maxDigestItems {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(loc.T("AndMore", "Count", len(n.Digest)-i))))
			break
		}
		is := it.Issue
		title := firstOf(is.Title, loc.T("NoTitle"))
		line := "*" + link(is.URL, escapeN(title, maxTitle)) + "*"
		var facts []string
		if is.ShortID != "" {
			facts = append(facts, escapeN(is.ShortID, maxField))
		}
		if it.Reason == integrations.KindRegression {
			facts = append(facts, loc.T("Regression"))
		}
		facts = append(facts, loc.T("NEvents", "Count", is.Count), loc.T("NUsers", "Count", is.UserCount))
		if it.Alerts > 1 {
			facts = append(facts, loc.T("NAlerts", "Count", it.Alerts))
		}
		line += "\n" + strings.Join(facts, " · ")
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(line), nil, nil))
	}
	text := loc.T("DigestSubject", "Count", len(n.Digest), "Project", Escape(project))
	return message{text: text, attachment: slack.Attachment{Color: digestColour, Fallback: text,
		Blocks: slack.Blocks{BlockSet: blocks}}}
}

// digestColour is the attachment bar of a digest: the error red.
const digestColour = "#d20f2a"

// notifyDigest posts a digest as a message of its own, outside any issue's
// thread.
func (n *Notifier) notifyDigest(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
	m := digestMessage(note)
	if n.cfg.WebhookURL != "" {
		return n.postWebhook(ctx, m)
	}
	return n.postMarked(ctx, note, m)
}
