package slack

import (
	"context"
	"strings"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/templates"
)

// maxDigestItems bounds the issues one digest message lists; the rest are
// counted.
const maxDigestItems = 20

// digestColour is the attachment bar of a digest: the error red.
const digestColour = "#d20f2a"

// digestViewT is what slack/digest.json sees: the data and the parts of
// the built-in message.
type digestViewT struct {
	data
	Text, Colour templates.Safe
	// Head says how many issues of which project; Items are the issues
	// (each its linked title and facts), at most maxDigestItems; More
	// counts the others.
	Head  templates.Safe
	Items []templates.Safe
	More  templates.Safe
}

// digestView lists a digest's issues, most events first: each linked
// title with its short id, events, users and why it was alerted.
func digestView(n *integrations.Notification) digestViewT {
	loc := locale.For(n.Language)
	project := firstOf(n.Issue.Project.Name, n.Issue.Project.Slug)
	text := loc.T("DigestSubject", "Count", len(n.Digest), "Project", Escape(project))
	v := digestViewT{data: newData(n), Text: js(text), Colour: js(digestColour),
		Head: js("*" + loc.T("DigestSubject", "Count", len(n.Digest), "Project", escapeN(project, maxField)) + "*")}
	for i, it := range n.Digest {
		if i == maxDigestItems {
			v.More = js(loc.T("AndMore", "Count", len(n.Digest)-i))
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
		v.Items = append(v.Items, js(line+"\n"+strings.Join(facts, " · ")))
	}
	return v
}

// notifyDigest posts a digest as a message of its own, outside any issue's
// thread.
func (n *Notifier) notifyDigest(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
	return n.postRendered(ctx, note, digestTemplate, digestView(note))
}

// postRendered renders template t for the view v and posts the message on
// its own, with the warning of a set-aside override on the result.
func (n *Notifier) postRendered(ctx context.Context, note *integrations.Notification, t *templates.Template, v any) (*integrations.Result, error) {
	m, warning, err := renderMessage(t, note, v)
	if err != nil {
		return nil, err
	}
	res, err := n.postMessage(ctx, note, m)
	return addWarning(res, warning), err
}
