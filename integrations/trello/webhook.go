package trello

// Trello's webhooks (https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/):
// each POST carries X-Trello-Webhook, the base64 HMAC-SHA1 of the raw body
// followed by the callback URL the webhook was registered with, keyed with
// the application's OAuth 1.0 secret; the body is {"action": …, "model": …}.

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// SignatureHeader is the header that carries Trello's webhook signature.
const SignatureHeader = "X-Trello-Webhook"

// maxWebhookBody bounds what ParseAction reads; Trello's actions are a few
// kilobytes.
const maxWebhookBody = 1 << 20

// Errors of VerifySignature.
var (
	ErrNoSecret     = errors.New("trello webhook: the integration has no webhook secret")
	ErrNoSignature  = errors.New("trello webhook: no " + SignatureHeader + " header")
	ErrBadSignature = errors.New("trello webhook: signature does not match")
)

// VerifySignature checks that body came from Trello to callbackURL (as
// registered, query included), in constant time.
func VerifySignature(header http.Header, body []byte, callbackURL, secret string) error {
	if secret == "" {
		return ErrNoSecret
	}
	sig := strings.TrimSpace(header.Get(SignatureHeader))
	if sig == "" {
		return ErrNoSignature
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	mac.Write([]byte(callbackURL))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// CardMove is a card moved from one list to another, as a webhook
// reports it.
type CardMove struct {
	ActionID   string // Trello's action id, to skip a delivery seen before
	CardID     string
	CardName   string
	BoardID    string
	ListBefore string // list ids
	ListAfter  string
	// MemberID, MemberUsername and MemberName say who moved the card.
	MemberID       string
	MemberUsername string
	MemberName     string
	At             time.Time
}

// webhookBody is the part of a webhook that ParseAction reads.
type webhookBody struct {
	Action *struct {
		ID              string    `json:"id"`
		Type            string    `json:"type"`
		Date            time.Time `json:"date"`
		IDMemberCreator string    `json:"idMemberCreator"`
		MemberCreator   *struct {
			ID       string `json:"id"`
			Username string `json:"username"`
			FullName string `json:"fullName"`
		} `json:"memberCreator"`
		Data struct {
			Card *struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"card"`
			Board *struct {
				ID string `json:"id"`
			} `json:"board"`
			ListBefore *struct {
				ID string `json:"id"`
			} `json:"listBefore"`
			ListAfter *struct {
				ID string `json:"id"`
			} `json:"listAfter"`
		} `json:"data"`
	} `json:"action"`
}

// ParseAction reads a webhook's body: a card moved between lists (an
// updateCard action with data.listBefore and data.listAfter) gives its
// CardMove; any other well-formed action gives nil and no error, for the
// handler to acknowledge and ignore.
func ParseAction(body []byte) (*CardMove, error) {
	if len(body) > maxWebhookBody {
		return nil, fmt.Errorf("trello webhook: body of %d bytes, at most %d", len(body), maxWebhookBody)
	}
	var w webhookBody
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("trello webhook: %w", err)
	}
	a := w.Action
	if a == nil || a.Type == "" {
		return nil, errors.New("trello webhook: no action")
	}
	d := a.Data
	if a.Type != "updateCard" || d.ListBefore == nil || d.ListAfter == nil {
		return nil, nil
	}
	if d.Card == nil || d.Card.ID == "" || d.ListBefore.ID == "" || d.ListAfter.ID == "" {
		return nil, errors.New("trello webhook: card move without card or list ids")
	}
	mv := &CardMove{
		ActionID:   a.ID,
		CardID:     d.Card.ID,
		CardName:   d.Card.Name,
		ListBefore: d.ListBefore.ID,
		ListAfter:  d.ListAfter.ID,
		MemberID:   a.IDMemberCreator,
		At:         a.Date,
	}
	if d.Board != nil {
		mv.BoardID = d.Board.ID
	}
	if m := a.MemberCreator; m != nil {
		mv.MemberID = firstOf(m.ID, mv.MemberID)
		mv.MemberUsername, mv.MemberName = m.Username, m.FullName
	}
	return mv, nil
}
