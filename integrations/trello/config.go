// Package trello keeps one Trello card per Tocsin issue, through
// adlio/trello: an alert creates the card, a regression comments and moves
// it back to its list, a resolution moves it to the resolved list. It also
// checks and reads Trello's webhooks, so that moving a card can resolve
// the issue.
//
// This file holds the integration's settings.
package trello

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Config is a Trello integration's settings (INTERFACES.md, provider
// "trello": token and webhook_secret are secrets, api_key is not). It
// prints without its secrets.
type Config struct {
	// APIKey is the Trello application's (Power-Up's) API key.
	APIKey string `json:"api_key"`
	// Token is a member's token for that key, with read and write scope
	// on the board. Secret.
	Token string `json:"token"`
	// BoardID is the board whose cards the webhook watches.
	BoardID string `json:"board_id,omitempty"`
	// ListID is where new cards go when a rule action names no list, and
	// where a regression moves its card back to.
	ListID string `json:"list_id"`
	// ResolvedListID, when set, is where a resolved issue's card goes,
	// and a card moved there resolves its issue.
	ResolvedListID string `json:"resolved_list_id,omitempty"`
	// WebhookSecret checks X-Trello-Webhook: the application's OAuth 1.0
	// secret, with which Trello signs its webhooks. Secret.
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// Installation names the Tocsin deployment (its installation UUID),
	// set by the caller rather than stored: a card's marker carries it, so
	// that a retry after a lost answer takes this Tocsin's card, no other's.
	Installation string `json:"-"`
}

var (
	// idRE is a Trello object id: 24 lowercase hex digits (a MongoDB
	// ObjectId). Lists are only reachable by id.
	idRE = regexp.MustCompile(`^[0-9a-f]{24}$`)
	// refRE is a board or card as the API also takes them: an id or the
	// 8-character short link from the object's URL.
	refRE = regexp.MustCompile(`^(?:[0-9a-f]{24}|[0-9A-Za-z]{8})$`)
)

// Validate says what in c cannot work, all of it at once.
func (c Config) Validate() error {
	var errs []error
	credential := func(name, v string) {
		switch {
		case v == "":
			errs = append(errs, fmt.Errorf("trello: %s is required", name))
		case strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			errs = append(errs, fmt.Errorf("trello: %s contains spaces or control characters", name))
		}
	}
	credential("api_key", c.APIKey)
	credential("token", c.Token)
	if c.WebhookSecret != "" && strings.ContainsFunc(c.WebhookSecret, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		errs = append(errs, errors.New("trello: webhook_secret contains spaces or control characters"))
	}
	if c.ListID == "" {
		errs = append(errs, errors.New("trello: list_id is required"))
	} else if !idRE.MatchString(c.ListID) {
		errs = append(errs, fmt.Errorf("trello: list_id %q is not a Trello id (24 hex digits)", c.ListID))
	}
	if c.ResolvedListID != "" && !idRE.MatchString(c.ResolvedListID) {
		errs = append(errs, fmt.Errorf("trello: resolved_list_id %q is not a Trello id (24 hex digits)", c.ResolvedListID))
	}
	if c.BoardID != "" && !refRE.MatchString(c.BoardID) {
		errs = append(errs, fmt.Errorf("trello: board_id %q is not a Trello board id or short link", c.BoardID))
	}
	return errors.Join(errs...)
}

// String shows the settings with their secrets redacted.
func (c Config) String() string {
	return fmt.Sprintf("trello(board=%q, list=%q, resolved_list=%q, api_key=%q, token=%s, webhook_secret=%s)",
		c.BoardID, c.ListID, c.ResolvedListID, c.APIKey, redacted(c.Token), redacted(c.WebhookSecret))
}

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string { return c.String() }

// LogValue logs the settings with their secrets redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("board_id", c.BoardID),
		slog.String("list_id", c.ListID),
		slog.String("resolved_list_id", c.ResolvedListID),
		slog.String("api_key", c.APIKey),
		slog.String("token", redacted(c.Token)),
		slog.String("webhook_secret", redacted(c.WebhookSecret)),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return "unset"
	}
	return "REDACTED"
}
