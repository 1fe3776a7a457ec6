// Package delivery turns fired rules into delivered notifications: it fans
// each notification request out into durable delivery jobs (one per
// integration target, with an idempotency key), and works the jobs —
// claiming them, calling the integration's Notifier, and recording every
// attempt with retries that back off and honour each destination's
// Retry-After without holding up any other.
package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/store"
)

// ProviderEmail is the built-in email route of sentry.mail.actions.NotifyEmailAction,
// sent through TOCSIN_SMTP_URL without an integration row.
const ProviderEmail = "email"

// action is a rule action read for fan-out.
type action struct {
	rules.Node
}

func (a action) field(key string) string {
	switch v := a.Fields[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// DefaultDigestPolicy is Sentry's: a digest goes out 5 minutes after its
// first notification, each later one putting it off by 30 seconds, and 30
// minutes after the first at the latest.
var DefaultDigestPolicy = store.DigestPolicy{MinDelay: 5 * time.Minute, Increment: 30 * time.Second, MaxDelay: 30 * time.Minute}

// flag reads a boolean field of the action: "digest" (collect its
// notifications into digests) or "page" (go through quiet hours).
func (a action) flag(name string) bool {
	switch v := a.Fields[name].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// planner maps notification requests to deliveries.
type planner struct {
	store *store.Store
	// digests reports whether a provider's notifier renders digests.
	digests func(provider string) bool
}

// plan is the fan-out of one request: the integration and target(s) its
// action names. A request whose integration is gone plans nothing and
// says why on the rule.
func (p *planner) plan(ctx context.Context, pn *store.PendingNotification) ([]*store.Delivery, error) {
	var a action
	if err := json.Unmarshal([]byte(pn.Action), &a.Node); err != nil {
		return nil, nil // stored by the engine from a validated rule; nothing to deliver
	}
	base := store.Delivery{OrganizationID: pn.OrganizationID, NotificationID: &pn.ID, ProjectID: &pn.ProjectID,
		IssueID: pn.IssueID, RuleID: pn.RuleID, Kind: pn.Reason, Options: pn.Action, EventID: pn.EventID,
		DateCreated: pn.DateCreated}
	var out []*store.Delivery
	var planErr error
	add := func(in *store.Integration, provider, target string) {
		d := base
		var integrationID *int64
		if in != nil {
			integrationID = &in.ID
		}
		d.IntegrationID, d.Provider, d.Target = integrationID, provider, target
		if pn.IssueID != nil && p.digests != nil && p.digests(provider) {
			policy, err := p.digestPolicy(ctx, pn, a, in)
			if err != nil {
				planErr = err
				return
			}
			d.Digest = policy
		}
		id := int64(0)
		if integrationID != nil {
			id = *integrationID
		}
		// Rule, issue and firing are the fire id; with the integration and
		// target it names this delivery across repeated fan-outs.
		d.IdempotencyKey = fmt.Sprintf("fire:%d:int:%d:%s", pn.FireID, id, target)
		out = append(out, &d)
	}
	integration := func(ref string) (*store.Integration, error) {
		id, err := strconv.ParseInt(ref, 10, 64)
		if err != nil {
			return nil, nil
		}
		in, err := p.store.IntegrationGet(ctx, pn.OrganizationID, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // deleted since the rule was saved: nothing to deliver
		}
		if err != nil {
			return nil, err
		}
		if in.Status == store.IntegrationDisabled {
			return nil, nil
		}
		return in, nil
	}
	switch a.ID {
	case rules.NotifyIntegration, rules.SlackNotify, rules.ServiceNotify, rules.GitHubTicket:
		ref, target := a.field("integration"), a.field("target")
		switch a.ID {
		case rules.SlackNotify:
			ref, target = a.field("workspace"), firstNonEmpty(a.field("channel_id"), a.field("channel"))
		case rules.ServiceNotify:
			ref = a.field("service")
		case rules.GitHubTicket:
			target = a.field("repo")
		}
		in, err := integration(ref)
		if err != nil || in == nil {
			return nil, err
		}
		add(in, in.Provider, target)
	case rules.LegacyNotify:
		ins, err := p.store.IntegrationList(ctx, pn.OrganizationID, store.Page{Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, in := range ins {
			if in.Provider == "webhook" && in.Status != store.IntegrationDisabled {
				add(in, in.Provider, "")
			}
		}
	case rules.EmailNotify:
		to, err := p.emailTargets(ctx, pn, a)
		if err != nil {
			return nil, err
		}
		// One message per language and time zone of its readers (their
		// user options); addresses of no user get the defaults.
		opts, err := p.store.UserOptionsByEmail(ctx, to)
		if err != nil {
			return nil, err
		}
		groups := map[store.UserOptions][]string{}
		var order []store.UserOptions
		for _, addr := range to {
			o := opts[strings.ToLower(strings.TrimSpace(addr))]
			if _, ok := groups[o]; !ok {
				order = append(order, o)
			}
			groups[o] = append(groups[o], addr)
		}
		for _, o := range order {
			add(nil, ProviderEmail, strings.Join(groups[o], ","))
			if o != (store.UserOptions{}) {
				d := out[len(out)-1]
				d.Options = withReaderOptions(d.Options, o)
			}
		}
	}
	if planErr != nil {
		return nil, planErr
	}
	return out, nil
}

// digestPolicy says whether a notification to an integration that renders
// digests waits in one, and how long: during the integration's quiet
// time until it ends, unless it is urgent (then it goes out now); else
// when the action asks for digests, by the integration's delays. nil
// means it goes out now.
func (p *planner) digestPolicy(ctx context.Context, pn *store.PendingNotification, a action, in *store.Integration) (*store.DigestPolicy, error) {
	config := integrationConfig(in)
	if end, ok := quietEnd(config, pn.DateCreated); ok {
		level := ""
		if !a.flag("page") {
			is, err := p.store.IssueByID(ctx, *pn.IssueID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if is != nil {
				level = is.Level
			}
		}
		if urgent(level, a) {
			return nil, nil
		}
		wait := end.Sub(pn.DateCreated)
		return &store.DigestPolicy{MinDelay: wait, MaxDelay: wait}, nil
	}
	if !a.flag("digest") {
		return nil, nil
	}
	d := DefaultDigestPolicy
	delays, err := integrations.DigestDelays(config, [3]time.Duration{d.MinDelay, d.Increment, d.MaxDelay})
	if err == nil {
		d = store.DigestPolicy{MinDelay: delays[0], Increment: delays[1], MaxDelay: delays[2]}
	}
	return &d, nil
}

// integrationConfig is an integration's settings; empty for the built-in
// email.
func integrationConfig(in *store.Integration) map[string]any {
	config := map[string]any{}
	if in != nil {
		_ = json.Unmarshal([]byte(in.Config), &config) // validated when saved
	}
	return config
}

// emailTargets resolves an email action to addresses: a member, a team's
// members, or the issue's owners (its assignee) falling through to the
// project's members; users who snoozed the rule for themselves are left out.
func (p *planner) emailTargets(ctx context.Context, pn *store.PendingNotification, a action) ([]string, error) {
	muted := strings.Fields(pn.MutedUsers)
	var users []*store.MemberUser
	var err error
	switch a.field("targetType") {
	case "Member":
		id, perr := strconv.ParseInt(a.field("targetIdentifier"), 10, 64)
		if perr != nil {
			return nil, nil
		}
		users, err = p.store.MemberUsers(ctx, pn.OrganizationID, []int64{id}, 0)
	case "Team":
		id, perr := strconv.ParseInt(a.field("targetIdentifier"), 10, 64)
		if perr != nil {
			return nil, nil
		}
		users, err = p.store.MemberUsers(ctx, pn.OrganizationID, nil, id)
	default: // IssueOwners
		if pn.IssueID != nil {
			var is *store.Issue
			if is, err = p.store.IssueByID(ctx, *pn.IssueID); err == nil {
				switch {
				case is.AssigneeUserID != nil:
					users, err = p.store.MemberUsers(ctx, pn.OrganizationID, []int64{*is.AssigneeUserID}, 0)
				case is.AssigneeTeamID != nil:
					users, err = p.store.MemberUsers(ctx, pn.OrganizationID, nil, *is.AssigneeTeamID)
				}
			}
		}
		if err == nil && len(users) == 0 {
			switch a.field("fallthroughType") {
			case "NoOne":
			default: // ActiveMembers, AllMembers
				users, err = p.store.MemberUsers(ctx, pn.OrganizationID, nil, 0)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	// People who turned alert email off for the project (or everywhere).
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	optedOut, err := p.store.NotificationsMuted(ctx, pn.ProjectID, store.NotifyAlerts, ids)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range users {
		if u.IsActive && !optedOut[u.ID] && !slices.Contains(muted, strconv.FormatInt(u.ID, 10)) && !slices.Contains(out, u.Email) {
			out = append(out, u.Email)
		}
	}
	slices.Sort(out)
	return out, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// withReaderOptions adds the readers' language and time zone to a
// delivery's action JSON, for the built-in email, which has no
// integration settings to take them from.
func withReaderOptions(action string, o store.UserOptions) string {
	m := map[string]any{}
	_ = json.Unmarshal([]byte(action), &m)
	if o.Language != "" {
		m["language"] = o.Language
	}
	if o.Timezone != "" {
		m["timezone"] = o.Timezone
	}
	b, err := json.Marshal(m)
	if err != nil {
		return action
	}
	return string(b)
}
