package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Errors of VerifyRequest; the interactive handler answers 401 to each.
var (
	ErrNotSigned    = errors.New("slack: request not signed")
	ErrStale        = errors.New("slack: request timestamp too far from now")
	ErrBadSignature = errors.New("slack: bad request signature")
)

// maxSkew is how far a request's timestamp may be from now: older
// requests are replays.
const maxSkew = 5 * time.Minute

// maxInteraction bounds the body ParseInteraction reads.
const maxInteraction = 1 << 20

// VerifyRequest checks Slack's v0 signature of a request: X-Slack-Signature
// is "v0=" and the hex HMAC-SHA256, keyed with the app's signing secret, of
// "v0:{X-Slack-Request-Timestamp}:{body}", and the timestamp is within five
// minutes of now.
// https://api.slack.com/authentication/verifying-requests-from-slack
func VerifyRequest(header http.Header, body []byte, signingSecret string, now time.Time) error {
	if signingSecret == "" {
		return errors.New("slack: no signing_secret configured")
	}
	ts, sig := header.Get("X-Slack-Request-Timestamp"), header.Get("X-Slack-Signature")
	if ts == "" || sig == "" {
		return ErrNotSigned
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrBadSignature, ts)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > maxSkew || d < -maxSkew {
		return ErrStale
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, "v0="))
	if err != nil || !strings.HasPrefix(sig, "v0=") {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(signingSecret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Interaction is a click on one of the buttons of an issue's message.
type Interaction struct {
	ActionID string // ActionResolve, ActionIgnore or ActionAssignMe
	Value    string // the button's value: the issue id
	IssueID  int64  // Value as a number
	UserID   string // the Slack user who clicked
	UserName string
	TeamID   string
	// ResponseURL takes a message that replaces or answers the clicked
	// one, for 30 minutes.
	ResponseURL string
	ChannelID   string
	MessageTS   string // the clicked message
	ThreadTS    string // its thread's parent, when it is a reply
}

// Handle is the Notification.Handle of the issue's thread: the parent
// message as "CHANNEL_ID:ts".
func (i *Interaction) Handle() string {
	return i.ChannelID + ":" + firstOf(i.ThreadTS, i.MessageTS)
}

// blockActions is the part of a block_actions payload that Tocsin reads.
// https://api.slack.com/reference/interaction-payloads/block-actions
type blockActions struct {
	Type string `json:"type"`
	User struct {
		ID       string `json:"id"`
		Username string `json:"username"`
		Name     string `json:"name"`
		TeamID   string `json:"team_id"`
	} `json:"user"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
	Container struct {
		MessageTS string `json:"message_ts"`
		ThreadTS  string `json:"thread_ts"`
		ChannelID string `json:"channel_id"`
	} `json:"container"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Message struct {
		TS       string `json:"ts"`
		ThreadTS string `json:"thread_ts"`
	} `json:"message"`
	ResponseURL string `json:"response_url"`
	Actions     []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
	} `json:"actions"`
}

// ParseInteraction reads the payload form field of a block_actions
// request (a click on Resolve, Ignore or Assign to me). Call it only on a
// body that VerifyRequest accepted.
func ParseInteraction(body []byte) (*Interaction, error) {
	if len(body) > maxInteraction {
		return nil, errors.New("slack: interaction payload too large")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errors.New("slack: interaction body is not a form")
	}
	payload := form.Get("payload")
	if payload == "" {
		return nil, errors.New("slack: interaction without payload")
	}
	var p blockActions
	if err := json.Unmarshal([]byte(payload), &p); err != nil {
		return nil, fmt.Errorf("slack: read interaction payload: %w", err)
	}
	if p.Type != "block_actions" {
		return nil, fmt.Errorf("slack: interaction of type %q, want block_actions", p.Type)
	}
	if len(p.Actions) != 1 {
		return nil, fmt.Errorf("slack: interaction with %d actions, want 1", len(p.Actions))
	}
	act := p.Actions[0]
	switch act.ActionID {
	case ActionResolve, ActionIgnore, ActionAssignMe:
	default:
		return nil, fmt.Errorf("slack: unknown action %q", act.ActionID)
	}
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("slack: action value %q is not an issue id", act.Value)
	}
	i := &Interaction{
		ActionID:    act.ActionID,
		Value:       act.Value,
		IssueID:     id,
		UserID:      p.User.ID,
		UserName:    firstOf(p.User.Username, p.User.Name),
		TeamID:      firstOf(p.Team.ID, p.User.TeamID),
		ResponseURL: p.ResponseURL,
		ChannelID:   firstOf(p.Container.ChannelID, p.Channel.ID),
		MessageTS:   firstOf(p.Container.MessageTS, p.Message.TS),
		ThreadTS:    firstOf(p.Container.ThreadTS, p.Message.ThreadTS),
	}
	if i.UserID == "" || i.ChannelID == "" || i.MessageTS == "" {
		return nil, errors.New("slack: interaction without user, channel or message")
	}
	return i, nil
}
