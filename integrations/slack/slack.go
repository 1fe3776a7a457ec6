package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/templates"
)

// attemptTimeout bounds each call to Slack.
const attemptTimeout = 10 * time.Second

// Notifier posts notifications to Slack. With a bot token the first
// notification of an issue starts a thread (its Result.Handle is
// "CHANNEL_ID:ts"), later ones reply in it, and status changes also update
// the thread's parent; with an incoming webhook each notification is a new
// message without buttons.
type Notifier struct {
	cfg     Config
	apiURL  string
	http    *http.Client
	timeout time.Duration
	now     func() time.Time
}

var _ integrations.Notifier = (*Notifier)(nil)

// New builds the Notifier of one integration. apiURL is
// TOCSIN_SLACK_API_URL ("" for DefaultAPIURL); httpClient carries the
// requests (nil for a plain client: each call has its own deadline anyway).
func New(cfg Config, apiURL string, httpClient *http.Client) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	apiURL, err := NormalizeAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	return &Notifier{cfg: cfg, apiURL: apiURL, http: httpClient, timeout: attemptTimeout, now: time.Now}, nil
}

// Notify delivers n to n.Target or the default channel (an incoming
// webhook posts where it was made for). Options the rule action may set:
// "tags" (the tag keys to show, comma-separated), "notes" (text shown under
// the fields; it may mention <@USER>, <!subteam^GROUP> and <#CHANNEL>) and
// "broadcast" (true: thread replies are also sent to the channel).
func (n *Notifier) Notify(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
	switch {
	case note.Kind == integrations.KindDigest:
		return n.notifyDigest(ctx, note)
	case note.Kind == integrations.KindSummary && note.Summary != nil:
		return n.notifySummary(ctx, note)
	}
	if n.cfg.WebhookURL != "" {
		return n.notifyWebhook(ctx, note)
	}
	if note.Handle == "" {
		return n.post(ctx, note)
	}
	channel, ts, ok := strings.Cut(note.Handle, ":")
	if !ok || channel == "" || ts == "" {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient,
			Err: fmt.Errorf("slack: handle %q is not CHANNEL:ts", note.Handle)}
	}
	var res integrations.Result
	if isStatusChange(note.Kind) {
		// The update first: it is idempotent, so a retry after a failed
		// reply does not change the parent twice.
		status, warning, err := n.update(ctx, note, channel, ts)
		if err != nil {
			return nil, err
		}
		res.Status, res.Warning = status, warning
	}
	status, warning, err := n.reply(ctx, note, channel, ts)
	if err != nil {
		return nil, err
	}
	res.Status, res.Handle = status, note.Handle
	res.Warning = templates.Warnings(res.Warning, warning)
	return &res, nil
}

// addWarning sets the warning of a delivery's result.
func addWarning(res *integrations.Result, warning string) *integrations.Result {
	if res != nil && warning != "" {
		res.Warning = templates.Warnings(res.Warning, warning)
	}
	return res
}

// postMessage posts m as a message of its own: to the incoming webhook,
// or to the notification's channel.
func (n *Notifier) postMessage(ctx context.Context, note *integrations.Notification, m message) (*integrations.Result, error) {
	if n.cfg.WebhookURL != "" {
		return n.postWebhook(ctx, m)
	}
	return n.postMarked(ctx, note, m)
}

// post starts the issue's thread.
func (n *Notifier) post(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
	// A test notification's issue may be a sample: no buttons to click.
	m, warning, err := issueMessage(note, messageOptions{card: true, buttons: note.Issue.ID > 0 && note.Kind != integrations.KindTest, event: true})
	if err != nil {
		return nil, err
	}
	res, err := n.postMarked(ctx, note, m)
	return addWarning(res, warning), err
}

// postMarked posts m as a message of its own to the notification's
// channel, marked with its idempotency key in the message metadata. When
// an earlier attempt may have posted already (Unsure), it first looks for
// that mark instead.
func (n *Notifier) postMarked(ctx context.Context, note *integrations.Notification, m message) (*integrations.Result, error) {
	target := firstOf(note.Target, n.cfg.DefaultChannel)
	if target == "" {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig,
			Err: errors.New("slack: no channel: set default_channel or the rule action's channel")}
	}
	if note.Unsure && note.IdempotencyKey != "" {
		// Slack has no idempotent post, so look for the mark.
		channel, ts, status, err := n.findPosted(ctx, target, note.IdempotencyKey)
		var perm *integrations.PermanentError
		switch {
		case errors.As(err, &perm):
			// The history cannot be read (a missing scope, a channel the
			// bot posts to without being in it): post, at the risk of a
			// second message, rather than lose the alert.
		case err != nil:
			return nil, err
		case ts != "":
			return &integrations.Result{Handle: channel + ":" + ts, Status: status}, nil
		}
	}
	opts := m.options()
	if note.IdempotencyKey != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType,
			EventPayload: map[string]any{"delivery": deliveryMark(note.IdempotencyKey)}}))
	}
	var channel, ts string
	status, err := n.call(ctx, "post to "+target, func(ctx context.Context, a *attempt) (err error) {
		channel, ts, err = a.api.PostMessageContext(ctx, target, opts...)
		return err
	})
	if err != nil {
		return nil, err
	}
	if channel == "" || ts == "" {
		return nil, &integrations.RetryError{Reason: integrations.ReasonServer, Status: status,
			Err: fmt.Errorf("slack: post to %s: answer without channel or ts", target)}
	}
	return &integrations.Result{Handle: channel + ":" + ts, Status: status}, nil
}

// reply answers in the thread of the message channel:ts.
func (n *Notifier) reply(ctx context.Context, note *integrations.Notification, channel, ts string) (int, string, error) {
	o := messageOptions{card: true, event: true} // the parent keeps the buttons
	switch note.Kind {
	case integrations.KindResolved, integrations.KindAssigned, integrations.KindIgnored, integrations.KindUnresolved:
		o = messageOptions{status: true}
	}
	m, warning, err := issueMessage(note, o)
	if err != nil {
		return 0, "", err
	}
	opts := append(m.options(), slack.MsgOptionTS(ts))
	if broadcast(note.Options) {
		opts = append(opts, slack.MsgOptionBroadcast())
	}
	status, err := n.call(ctx, "reply in "+channel, func(ctx context.Context, a *attempt) error {
		_, _, err := a.api.PostMessageContext(ctx, channel, opts...)
		return err
	})
	return status, warning, err
}

// update shows the issue's new status on the thread's parent. A parent
// that can no longer be updated (deleted, too old) is left as it is.
func (n *Notifier) update(ctx context.Context, note *integrations.Notification, channel, ts string) (int, string, error) {
	m, warning, err := issueMessage(note, messageOptions{card: true, buttons: true})
	if err != nil {
		return 0, "", err
	}
	status, err := n.call(ctx, "update "+channel+" message", func(ctx context.Context, a *attempt) error {
		_, _, _, err := a.api.UpdateMessageContext(ctx, channel, ts, m.updateOptions()...)
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && parentGone[se.Err] {
			return nil
		}
		return err
	})
	return status, warning, err
}

// notifyWebhook posts to the incoming webhook: no thread (webhooks return
// no ts), no buttons (clicks need the bot's app).
func (n *Notifier) notifyWebhook(ctx context.Context, note *integrations.Notification) (*integrations.Result, error) {
	o := messageOptions{card: true, event: true}
	switch note.Kind {
	case integrations.KindResolved, integrations.KindAssigned, integrations.KindIgnored, integrations.KindUnresolved:
		o = messageOptions{card: true, status: true}
	}
	m, warning, err := issueMessage(note, o)
	if err != nil {
		return nil, err
	}
	res, err := n.postWebhook(ctx, m)
	return addWarning(res, warning), err
}

// postWebhook posts m to the integration's incoming webhook.
func (n *Notifier) postWebhook(ctx context.Context, m message) (*integrations.Result, error) {
	msg := &slack.WebhookMessage{Text: m.text, Attachments: []slack.Attachment{m.attachment}}
	status, err := n.call(ctx, "post to webhook", func(ctx context.Context, a *attempt) error {
		return slack.PostWebhookCustomHTTPContext(ctx, n.cfg.WebhookURL, a.http, msg)
	})
	if err != nil {
		return nil, err
	}
	return &integrations.Result{Status: status}, nil
}

// options are the chat.postMessage fields of m.
func (m message) options() []slack.MsgOption {
	return append(m.updateOptions(), slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
}

// updateOptions are the chat.update fields of m.
func (m message) updateOptions() []slack.MsgOption {
	return []slack.MsgOption{
		slack.MsgOptionText(m.text, false), // escaped already
		slack.MsgOptionAttachments(m.attachment),
	}
}

func broadcast(opts map[string]any) bool {
	switch v := opts["broadcast"].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}
