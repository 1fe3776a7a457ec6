package trello

import (
	"context"
	"errors"

	"github.com/adlio/trello"

	"github.com/tocsin/tocsin/integrations"
)

// Check asks Trello who the token belongs to (GET /1/members/me), for
// `tocsin check` and the integration's health; its failure is classified
// as Notify's are.
func (n *Notifier) Check(ctx context.Context) error {
	a, cancel := n.begin(ctx)
	defer cancel()
	m, err := a.client.GetMyMember(trello.Arguments{"fields": "username"})
	if err != nil {
		return a.fail("check the token (GET /members/me)", err)
	}
	if m == nil || m.ID == "" {
		return &integrations.RetryError{Reason: integrations.ReasonServer, Status: a.status(),
			Err: errors.New("trello: check the token (GET /members/me): the answer names no member")}
	}
	return nil
}
