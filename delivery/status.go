package delivery

import (
	"context"
	"errors"
	"fmt"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/store"
)

// StatusSync keeps what services made for an issue in step with it: when
// people resolve, ignore, reopen or assign an issue, every linked Slack
// thread, GitHub issue and Trello card gets a delivery of that change
// (the Slack message is updated, the GitHub issue closed, the card moved).
// Webhook integrations get every change and every new issue, as Sentry's
// integration platform sends issue.* webhooks to subscribed apps (each
// webhook filters by its events). It is an ActivityHandler of the worker,
// fed from the outbox.
type StatusSync struct {
	store *store.Store
}

// NewStatusSync returns the handler.
func NewStatusSync(st *store.Store) *StatusSync { return &StatusSync{store: st} }

// activityKinds maps the latest activity of an issue to the notification kind.
var activityKinds = map[string]string{
	"set_resolved":            integrations.KindResolved,
	"set_resolved_in_release": integrations.KindResolved,
	"set_ignored":             integrations.KindIgnored,
	"set_unresolved":          integrations.KindUnresolved,
	"assigned":                integrations.KindAssigned,
	"unassigned":              integrations.KindAssigned,
}

// HandleActivities queues status deliveries for status-change entries.
func (s *StatusSync) HandleActivities(ctx context.Context, entries []*store.OutboxEntry) error {
	for _, en := range entries {
		if en.Kind != store.ActivityStatus && en.Kind != store.ActivityNewIssue {
			continue
		}
		org, _, err := s.store.ProjectOfIssue(ctx, en.IssueID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		kind := integrations.KindAlert
		var links []*store.IssueLink
		if en.Kind == store.ActivityStatus {
			acts, err := s.store.ActivityList(ctx, en.IssueID, 1)
			if err != nil {
				return err
			}
			if len(acts) == 0 {
				continue
			}
			var ok bool
			if kind, ok = activityKinds[acts[0].Kind]; !ok {
				continue
			}
			if links, err = s.store.IssueLinks(ctx, en.IssueID); err != nil {
				return err
			}
		}
		hooks, err := s.store.IntegrationList(ctx, org.ID, store.Page{Limit: 1000})
		if err != nil {
			return err
		}
		for _, in := range hooks {
			if in.Provider == "webhook" && in.Status != store.IntegrationDisabled {
				links = append(links, &store.IssueLink{IntegrationID: in.ID, IssueID: en.IssueID})
			}
		}
		for _, l := range links {
			in, err := s.store.IntegrationGet(ctx, org.ID, l.IntegrationID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			issueID := en.IssueID
			if err := s.store.DeliveryCreate(ctx, &store.Delivery{OrganizationID: org.ID, IntegrationID: &in.ID,
				Provider: in.Provider, ProjectID: &en.ProjectID, IssueID: &issueID, Kind: kind, Target: l.Target,
				IdempotencyKey: fmt.Sprintf("status:%d:int:%d:%s", en.ID, in.ID, l.Target),
				DateCreated:    en.DateCreated}); err != nil {
				return err
			}
		}
	}
	return nil
}
