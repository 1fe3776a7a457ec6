package api

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin/tocsin/store"
)

// parseSearch reads Sentry's issue search syntax
// (https://docs.sentry.io/concepts/search/) into a filter: is:unresolved,
// is:resolved, is:ignored (or is:archived), is:assigned, is:unassigned,
// assigned:me / assigned:EMAIL / assigned:#team, level:, release:,
// environment:, key:value tags, !key:value negations, "quoted values",
// and free text matched against title and culprit.
func (h *Handler) parseSearch(ctx context.Context, or *orgRequest, query string, f *store.IssueFilter) error {
	var text []string
	for _, tok := range tokenize(query) {
		key, value, isTerm := strings.Cut(tok, ":")
		if !isTerm || key == "" || value == "" || strings.ContainsAny(key, " \"") {
			text = append(text, strings.Trim(tok, `"`))
			continue
		}
		neg := strings.HasPrefix(key, "!")
		key = strings.TrimPrefix(key, "!")
		value = strings.Trim(value, `"`)
		switch key {
		case "is":
			switch value {
			case "unresolved", "resolved", "ignored":
				f.Statuses = append(f.Statuses, value)
			case "archived":
				f.Statuses = append(f.Statuses, store.StatusIgnored)
			case "assigned", "unassigned":
				f.Assignment = value
			default:
				return fmt.Errorf("invalid search: is:%s is not one of unresolved, resolved, ignored, archived, assigned, unassigned", value)
			}
		case "level":
			f.Levels = append(f.Levels, value)
		case "assigned", "assigned_to":
			if err := h.assignedFilter(ctx, or, value, f); err != nil {
				return err
			}
		default:
			f.Tags = append(f.Tags, store.TagMatch{Key: key, Value: value, Negate: neg})
		}
	}
	f.Text = strings.Join(text, " ")
	return nil
}

func (h *Handler) assignedFilter(ctx context.Context, or *orgRequest, value string, f *store.IssueFilter) error {
	switch {
	case value == "me":
		f.AssigneeUserID = or.user.ID
		teams, err := h.store.TeamList(ctx, or.org.ID, or.member.ID, store.Page{Limit: 1000})
		if err != nil {
			return err
		}
		for _, t := range teams {
			if t.IsMember {
				f.AssigneeTeamIDs = append(f.AssigneeTeamIDs, t.ID)
			}
		}
	case strings.HasPrefix(value, "#"):
		t, err := h.store.TeamGet(ctx, or.org.ID, or.member.ID, value[1:])
		if err != nil {
			f.AssigneeTeamIDs = []int64{-1} // no such team: match nothing
			return nil
		}
		f.AssigneeTeamIDs = append(f.AssigneeTeamIDs, t.ID)
	default:
		u, err := h.store.UserGetByEmail(ctx, value)
		if err != nil {
			f.AssigneeUserID = -1
			return nil
		}
		f.AssigneeUserID = u.ID
	}
	return nil
}

// tokenize splits a query on spaces outside double quotes.
func tokenize(q string) []string {
	var (
		out   []string
		cur   strings.Builder
		quote bool
	)
	for _, r := range q {
		switch {
		case r == '"':
			quote = !quote
			cur.WriteRune(r)
		case r == ' ' && !quote:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// statsPeriods are the periods Sentry's issue list takes, with the bucket
// of their stats series.
var statsPeriods = map[string]struct {
	span, bucket time.Duration
}{
	"24h": {24 * time.Hour, time.Hour},
	"14d": {14 * 24 * time.Hour, 24 * time.Hour},
}

// parsePeriod reads statsPeriod: "24h", "14d" and other Ns/Nm/Nh/Nd/Nw
// values; "" (the default) is 24h for stats, and "0" or "auto" means no stats.
func parsePeriod(s string) (span, bucket time.Duration, err error) {
	if s == "" {
		s = "24h"
	}
	if p, ok := statsPeriods[s]; ok {
		return p.span, p.bucket, nil
	}
	if len(s) < 2 {
		return 0, 0, fmt.Errorf("invalid statsPeriod %q", s)
	}
	var n int
	if _, err := fmt.Sscanf(s[:len(s)-1], "%d", &n); err != nil || n <= 0 || n > 90*24*60 {
		return 0, 0, fmt.Errorf("invalid statsPeriod %q", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, 0, fmt.Errorf("invalid statsPeriod %q", s)
	}
	span = time.Duration(n) * unit
	if span > 90*24*time.Hour {
		return 0, 0, fmt.Errorf("invalid statsPeriod %q: at most 90d", s)
	}
	bucket = time.Hour
	if span > 3*24*time.Hour {
		bucket = 24 * time.Hour
	}
	return span, bucket, nil
}
