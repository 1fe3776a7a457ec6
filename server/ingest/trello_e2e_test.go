package ingest_test

import (
	"strings"
	"testing"

	"github.com/getsentry/sentry-go"

	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/integrations/trello/trellotest"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// TestDeliveries_Trello follows a Tocsin issue's Trello card: an event
// from the Sentry Go SDK fires a rule that puts a card for the issue on
// the integration's list, and resolving the issue in Tocsin moves that
// card to the integration's resolved list.
func TestDeliveries_Trello(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		board := trellotest.NewServer(t)
		in := integrationsWith(t, providers.Options{TrelloAPIURL: board.APIURL()})
		ts := newFixture(t, st).serveIntegrations(t, in)
		trelloIn := ts.createIntegration(t, "trello", map[string]any{"api_key": trellotest.Key, "token": trellotest.Token,
			"list_id": trellotest.ListID, "resolved_list_id": trellotest.ResolvedListID})
		rule := ts.createNewIssueRule(t, "New issues to the board",
			map[string]any{"id": rules.NotifyIntegration, "integration": trelloIn})
		startWorker(t, st, ts.base, in)

		sdk := newSDK(t, ts.dsn(ts.boot.Key), sentry.ClientOptions{Environment: "production"})
		const title = "inventory sync failed for warehouse 7"
		issueID := ts.event(t, sdk.captureError(t, title)).GroupID
		waitFor(t, "the Trello card", func() bool { return board.CardCount() >= 1 })
		ts.waitDelivered(t, trelloIn, 1)
		if n := ts.firings(t, rule); n != 1 {
			t.Errorf("the rule fired %d times, want once", n)
		}
		cards := board.Cards()
		if len(cards) != 1 {
			t.Fatalf("%d cards, want 1", len(cards))
		}
		card := cards[0]
		if card.IDList != trellotest.ListID || card.Closed || !strings.Contains(card.Name, title) {
			t.Errorf("card %q in list %s (archived: %v), want an open card %q in the integration's list %s",
				card.Name, card.IDList, card.Closed, title, trellotest.ListID)
		}
		if !strings.Contains(card.Desc, ts.issueURL(issueID)) {
			t.Errorf("the card's description does not link to the Tocsin issue %s:\n%s", ts.issueURL(issueID), card.Desc)
		}

		// Resolved in Tocsin, the issue's card moves to the resolved list.
		ts.resolve(t, issueID)
		waitFor(t, "the card to move to the resolved list", func() bool {
			return board.Card(card.ID).IDList == trellotest.ResolvedListID
		})
		ts.evaluated(t)
		ts.waitDelivered(t, trelloIn, 2)
		moved := board.Card(card.ID)
		if moved.Closed || len(moved.Comments) != 1 || board.CardCount() != 1 {
			t.Errorf("after the resolution: card archived %v with %d comments, %d cards; want the one open card with a comment on the resolution",
				moved.Closed, len(moved.Comments), board.CardCount())
		}
	})
}
