package trello

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"
)

const (
	testSecret   = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	testCallback = "https://tocsin.example.com/webhooks/trello?integration=5"
)

// sign is what Trello puts in X-Trello-Webhook.
func sign(body, callbackURL, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(body + callbackURL))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

const moveBody = `{
  "model": {"id": "5e0000000000000000000001", "name": "Errors"},
  "action": {
    "id": "65f2c0ffee00000000000001",
    "idMemberCreator": "5a0000000000000000000001",
    "type": "updateCard",
    "date": "2026-03-14T10:00:00.000Z",
    "data": {
      "old": {"idList": "5f0000000000000000000001"},
      "card": {"idList": "5f0000000000000000000002", "id": "5c0000000000000000000042", "name": "[BACKEND-1A] TypeError", "idShort": 12, "shortLink": "AbCd1234"},
      "board": {"id": "5e0000000000000000000001", "name": "Errors", "shortLink": "BoArD123"},
      "listBefore": {"id": "5f0000000000000000000001", "name": "New"},
      "listAfter": {"id": "5f0000000000000000000002", "name": "Done"}
    },
    "memberCreator": {"id": "5a0000000000000000000001", "username": "alice", "fullName": "Alice Doe", "avatarHash": null}
  }
}`

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	good := sign(moveBody, testCallback, testSecret)
	for _, tc := range []struct {
		name     string
		header   string
		body     string
		callback string
		secret   string
		want     error
	}{
		{name: "good", header: good, body: moveBody, callback: testCallback, secret: testSecret},
		{name: "missing", header: "", body: moveBody, callback: testCallback, secret: testSecret, want: ErrNoSignature},
		{name: "wrong secret", header: sign(moveBody, testCallback, "other"), body: moveBody, callback: testCallback, secret: testSecret, want: ErrBadSignature},
		{name: "changed body", header: good, body: moveBody + " ", callback: testCallback, secret: testSecret, want: ErrBadSignature},
		{name: "other callback url", header: good, body: moveBody, callback: "https://tocsin.example.com/webhooks/trello", secret: testSecret, want: ErrBadSignature},
		{name: "body signed without the callback url", header: sign(moveBody, "", testSecret), body: moveBody, callback: testCallback, secret: testSecret, want: ErrBadSignature},
		{name: "not base64", header: "not base64!", body: moveBody, callback: testCallback, secret: testSecret, want: ErrBadSignature},
		{name: "hex instead of base64", header: "deadbeef", body: moveBody, callback: testCallback, secret: testSecret, want: ErrBadSignature},
		{name: "no secret configured", header: sign(moveBody, testCallback, ""), body: moveBody, callback: testCallback, secret: "", want: ErrNoSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Trello-Webhook", tc.header)
			}
			err := VerifySignature(h, []byte(tc.body), tc.callback, tc.secret)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseAction(t *testing.T) {
	t.Parallel()
	t.Run("move between lists", func(t *testing.T) {
		t.Parallel()
		mv, err := ParseAction([]byte(moveBody))
		if err != nil {
			t.Fatal(err)
		}
		want := CardMove{
			ActionID:       "65f2c0ffee00000000000001",
			CardID:         "5c0000000000000000000042",
			CardName:       "[BACKEND-1A] TypeError",
			BoardID:        "5e0000000000000000000001",
			ListBefore:     "5f0000000000000000000001",
			ListAfter:      "5f0000000000000000000002",
			MemberID:       "5a0000000000000000000001",
			MemberUsername: "alice",
			MemberName:     "Alice Doe",
			At:             time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC),
		}
		if mv == nil || *mv != want {
			t.Errorf("got %+v\nwant %+v", mv, want)
		}
	})
	for _, tc := range []struct {
		name, body string
		wantErr    bool
	}{
		{name: "renamed card", body: `{"action":{"type":"updateCard","data":{"card":{"id":"5c0000000000000000000042","name":"new"},"old":{"name":"old"}}}}`},
		{name: "comment", body: `{"action":{"type":"commentCard","data":{"text":"hi","card":{"id":"5c0000000000000000000042"}}}}`},
		{name: "card created", body: `{"action":{"type":"createCard","data":{"list":{"id":"5f0000000000000000000001"},"card":{"id":"5c0000000000000000000042"}}}}`},
		{name: "not json", body: `<html>`, wantErr: true},
		{name: "no action", body: `{"model":{}}`, wantErr: true},
		{name: "move without card", body: `{"action":{"type":"updateCard","data":{"listBefore":{"id":"a"},"listAfter":{"id":"b"}}}}`, wantErr: true},
		{name: "move without list id", body: `{"action":{"type":"updateCard","data":{"card":{"id":"c"},"listBefore":{},"listAfter":{"id":"b"}}}}`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mv, err := ParseAction([]byte(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Errorf("got %+v, want an error", mv)
				}
				return
			}
			if err != nil || mv != nil {
				t.Errorf("got %+v, %v; want nothing to do", mv, err)
			}
		})
	}
}
