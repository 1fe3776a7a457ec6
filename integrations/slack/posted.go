package slack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// metadataType is the event type of the message metadata Tocsin attaches
// to the messages that start an issue's thread.
const metadataType = "tocsin_notification"

// postedWindow is how far back findPosted looks: a delivery is retried for
// at most a day.
const postedWindow = 26 * time.Hour

// deliveryMark names a notification in message metadata without showing
// its idempotency key.
func deliveryMark(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:12])
}

// findPosted looks in the target channel's recent history for a message
// carrying the notification's mark, left by an attempt whose answer was
// never recorded. It answers the message's channel and ts, or "" when
// there is none. target may be a channel id or a #name; a name is looked
// up among the channels the bot can see.
func (n *Notifier) findPosted(ctx context.Context, target, key string) (channel, ts string, status int, err error) {
	mark := deliveryMark(key)
	channel = strings.TrimPrefix(target, "#")
	if !looksLikeID(channel) {
		id, st, err := n.channelID(ctx, channel)
		if err != nil || id == "" {
			return "", "", st, err
		}
		channel = id
	}
	oldest := n.now().Add(-postedWindow)
	params := &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 200, IncludeAllMetadata: true,
		Oldest: slackTS(oldest)}
	for range 5 {
		var page *slack.GetConversationHistoryResponse
		status, err = n.call(ctx, "read the history of "+target, func(ctx context.Context, a *attempt) (err error) {
			page, err = a.api.GetConversationHistoryContext(ctx, params)
			return err
		})
		if err != nil {
			return "", "", status, err
		}
		for _, m := range page.Messages {
			if m.Metadata.EventType == metadataType && m.Metadata.EventPayload["delivery"] == mark {
				return channel, m.Timestamp, status, nil
			}
		}
		if !page.HasMore || page.ResponseMetaData.NextCursor == "" {
			break
		}
		params.Cursor = page.ResponseMetaData.NextCursor
	}
	return channel, "", status, nil
}

// channelID finds the id of the channel named name (or with that id), ""
// if the bot sees none.
func (n *Notifier) channelID(ctx context.Context, name string) (string, int, error) {
	params := &slack.GetConversationsParameters{Types: []string{"public_channel", "private_channel"},
		ExcludeArchived: true, Limit: 1000}
	var status int
	for range 10 {
		var list []slack.Channel
		var cursor string
		st, err := n.call(ctx, "list channels", func(ctx context.Context, a *attempt) (err error) {
			list, cursor, err = a.api.GetConversationsContext(ctx, params)
			return err
		})
		status = st
		if err != nil {
			return "", status, err
		}
		for _, c := range list {
			if c.Name == name || c.ID == name {
				return c.ID, status, nil
			}
		}
		if cursor == "" {
			break
		}
		params.Cursor = cursor
	}
	return "", status, nil
}

// looksLikeID reports whether s is a Slack conversation id (C…, G…, D…).
func looksLikeID(s string) bool {
	if len(s) < 9 || !strings.ContainsRune("CGD", rune(s[0])) {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// slackTS renders t as a Slack timestamp.
func slackTS(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10) + ".000000"
}
