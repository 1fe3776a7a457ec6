package slack

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/integrations"
)

// maxDigestItems bounds the issues one digest message lists; the rest are
// counted.
const maxDigestItems = 20

// digestMessage lists a digest's issues, most events first: each linked
// title with its short id, events, users and why it was alerted.
func digestMessage(n *integrations.Notification) message {
	project := firstOf(n.Issue.Project.Name, n.Issue.Project.Slug)
	head := fmt.Sprintf("*%d issues in %s*", len(n.Digest), escapeN(project, maxField))
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(head), nil, nil)}
	for i, it := range n.Digest {
		if i == maxDigestItems {
			blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("and %d more", len(n.Digest)-i))))
			break
		}
		is := it.Issue
		title := firstOf(is.Title, "(no title)")
		line := "*" + link(is.URL, escapeN(title, maxTitle)) + "*"
		var facts []string
		if is.ShortID != "" {
			facts = append(facts, escapeN(is.ShortID, maxField))
		}
		if it.Reason == integrations.KindRegression {
			facts = append(facts, "regression")
		}
		facts = append(facts, plural(is.Count, "event"), plural(is.UserCount, "user"))
		if it.Alerts > 1 {
			facts = append(facts, plural(it.Alerts, "alert"))
		}
		line += "\n" + strings.Join(facts, " · ")
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(line), nil, nil))
	}
	text := fmt.Sprintf("%d issues in %s", len(n.Digest), Escape(project))
	return message{text: text, attachment: slack.Attachment{Color: digestColour, Fallback: text,
		Blocks: slack.Blocks{BlockSet: blocks}}}
}

// digestColour is the attachment bar of a digest: the error red.
const digestColour = "#d20f2a"

func plural(n int64, noun string) string {
	s := strconv.FormatInt(n, 10) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}

// notifyDigest posts a digest as a message of its own, outside any issue's
// thread.
func (n *Notifier) notifyDigest(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
	m := digestMessage(note)
	if n.cfg.WebhookURL != "" {
		return n.postWebhook(ctx, m)
	}
	return n.postMarked(ctx, note, m)
}
