package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// sign signs body as Slack does at time at.
func sign(body []byte, secret string, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

func TestVerifyRequest(t *testing.T) {
	t.Parallel()
	body := []byte("payload=" + url.QueryEscape(blockActionsPayload))
	cases := []struct {
		name    string
		header  func() http.Header
		body    []byte
		secret  string
		wantErr error // nil for accepted; errAny for any error
	}{
		{name: "valid", header: func() http.Header { return sign(body, testSigning, testNow) }},
		{name: "valid, 4 minutes old", header: func() http.Header { return sign(body, testSigning, testNow.Add(-4*time.Minute)) }},
		{name: "valid, clock 4 minutes behind", header: func() http.Header { return sign(body, testSigning, testNow.Add(4*time.Minute)) }},
		{name: "replay", header: func() http.Header { return sign(body, testSigning, testNow.Add(-6*time.Minute)) }, wantErr: ErrStale},
		{name: "from the future", header: func() http.Header { return sign(body, testSigning, testNow.Add(6*time.Minute)) }, wantErr: ErrStale},
		{name: "other secret", header: func() http.Header { return sign(body, "another-secret", testNow) }, wantErr: ErrBadSignature},
		{name: "body changed", header: func() http.Header { return sign(body, testSigning, testNow) }, body: append([]byte("x"), body...), wantErr: ErrBadSignature},
		{name: "timestamp changed", header: func() http.Header {
			h := sign(body, testSigning, testNow)
			h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(testNow.Unix()-1, 10))
			return h
		}, wantErr: ErrBadSignature},
		{name: "no v0 prefix", header: func() http.Header {
			h := sign(body, testSigning, testNow)
			h.Set("X-Slack-Signature", h.Get("X-Slack-Signature")[3:])
			return h
		}, wantErr: ErrBadSignature},
		{name: "not hex", header: func() http.Header {
			h := sign(body, testSigning, testNow)
			h.Set("X-Slack-Signature", "v0=zz")
			return h
		}, wantErr: ErrBadSignature},
		{name: "bad timestamp", header: func() http.Header {
			h := sign(body, testSigning, testNow)
			h.Set("X-Slack-Request-Timestamp", "yesterday")
			return h
		}, wantErr: ErrBadSignature},
		{name: "no signature", header: func() http.Header {
			h := sign(body, testSigning, testNow)
			h.Del("X-Slack-Signature")
			return h
		}, wantErr: ErrNotSigned},
		{name: "no timestamp", header: func() http.Header {
			h := sign(body, testSigning, testNow)
			h.Del("X-Slack-Request-Timestamp")
			return h
		}, wantErr: ErrNotSigned},
		{name: "no headers", header: func() http.Header { return http.Header{} }, wantErr: ErrNotSigned},
		{name: "no secret configured", header: func() http.Header { return sign(body, "", testNow) }, secret: "-", wantErr: errAny},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b, secret := body, testSigning
			if c.body != nil {
				b = c.body
			}
			if c.secret == "-" {
				secret = ""
			}
			err := VerifyRequest(c.header(), b, secret, testNow)
			switch {
			case c.wantErr == nil && err != nil:
				t.Fatalf("rejected: %v", err)
			case c.wantErr == errAny && err == nil, c.wantErr != nil && c.wantErr != errAny && !errors.Is(err, c.wantErr):
				t.Fatalf("err %v, want %v", err, c.wantErr)
			}
		})
	}
}

var errAny = errors.New("any error")

// blockActionsPayload is a click on Resolve, shaped as Slack sends it.
const blockActionsPayload = `{
  "type": "block_actions",
  "user": {"id": "U024BE7LH", "username": "jane", "name": "jane", "team_id": "T0001"},
  "api_app_id": "A0APP",
  "token": "verification-token",
  "container": {"type": "message_attachment", "message_ts": "1700000000.000001", "attachment_id": 1, "channel_id": "C0OPS", "is_ephemeral": false, "is_app_unfurl": false},
  "trigger_id": "1234.5678.abcd",
  "team": {"id": "T0001", "domain": "tocsin"},
  "enterprise": null,
  "is_enterprise_install": false,
  "channel": {"id": "C0OPS", "name": "ops"},
  "message": {
    "bot_id": "B0BOT", "type": "message", "text": "Alert: [backend] ZeroDivisionError", "user": "U0BOT", "ts": "1700000000.000001",
    "attachments": [{"id": 1, "color": "e03e2f", "fallback": "Alert", "blocks": [{"type": "actions", "block_id": "tocsin_actions", "elements": []}]}]
  },
  "state": {"values": {}},
  "response_url": "https://hooks.slack.com/actions/T0001/1234/abcdef",
  "actions": [{
    "action_id": "resolve", "block_id": "tocsin_actions",
    "text": {"type": "plain_text", "text": "Resolve", "emoji": true},
    "value": "42", "style": "primary", "type": "button", "action_ts": "1700000100.000200"
  }]
}`

func TestParseInteraction(t *testing.T) {
	t.Parallel()
	form := func(payload string) []byte { return []byte("payload=" + url.QueryEscape(payload)) }
	cases := []struct {
		name    string
		body    []byte
		want    *Interaction
		handle  string
		wantErr bool
	}{
		{
			name: "resolve",
			body: form(blockActionsPayload),
			want: &Interaction{ActionID: ActionResolve, Value: "42", IssueID: 42, UserID: "U024BE7LH", UserName: "jane",
				TeamID: "T0001", ResponseURL: "https://hooks.slack.com/actions/T0001/1234/abcdef", ChannelID: "C0OPS",
				MessageTS: "1700000000.000001"},
			handle: "C0OPS:1700000000.000001",
		},
		{
			name: "in a thread",
			body: form(`{"type":"block_actions","user":{"id":"U1","username":"bob"},"team":{"id":"T1"},
				"container":{"type":"message","message_ts":"1700000000.000009","thread_ts":"1700000000.000001","channel_id":"C0OPS"},
				"response_url":"https://hooks.slack.com/actions/x","actions":[{"action_id":"assign_me","block_id":"b","value":"7"}]}`),
			want: &Interaction{ActionID: ActionAssignMe, Value: "7", IssueID: 7, UserID: "U1", UserName: "bob", TeamID: "T1",
				ResponseURL: "https://hooks.slack.com/actions/x", ChannelID: "C0OPS", MessageTS: "1700000000.000009", ThreadTS: "1700000000.000001"},
			handle: "C0OPS:1700000000.000001",
		},
		{name: "no payload", body: []byte("foo=bar"), wantErr: true},
		{name: "not json", body: form("{"), wantErr: true},
		{name: "other type", body: form(`{"type":"view_submission"}`), wantErr: true},
		{name: "no action", body: form(`{"type":"block_actions","user":{"id":"U1"},"container":{"channel_id":"C1","message_ts":"1.2"},"actions":[]}`), wantErr: true},
		{name: "unknown action", body: form(`{"type":"block_actions","user":{"id":"U1"},"container":{"channel_id":"C1","message_ts":"1.2"},"actions":[{"action_id":"delete","value":"1"}]}`), wantErr: true},
		{name: "value not an id", body: form(`{"type":"block_actions","user":{"id":"U1"},"container":{"channel_id":"C1","message_ts":"1.2"},"actions":[{"action_id":"ignore","value":"x"}]}`), wantErr: true},
		{name: "no user", body: form(`{"type":"block_actions","container":{"channel_id":"C1","message_ts":"1.2"},"actions":[{"action_id":"ignore","value":"1"}]}`), wantErr: true},
		{name: "bad form", body: []byte("payload=%zz"), wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseInteraction(c.body)
			if c.wantErr {
				if err == nil {
					t.Fatalf("accepted: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != *c.want {
				t.Errorf("got  %+v\nwant %+v", *got, *c.want)
			}
			if got.Handle() != c.handle {
				t.Errorf("handle %q, want %q", got.Handle(), c.handle)
			}
		})
	}
}
