package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/store"
)

// urgent says whether a notification goes through quiet time: its issue
// is fatal, or its action says "page": true.
func urgent(level string, a action) bool {
	return level == "fatal" || a.flag("page")
}

// quietEnd returns when the quiet time of an integration's settings that
// t is in ends, and false when t is not in one.
func quietEnd(config map[string]any, t time.Time) (time.Time, bool) {
	quiet, err := integrations.ParseQuiet(config)
	if err != nil || quiet == nil {
		return time.Time{}, false
	}
	return quiet.End(t)
}

// quietHold is asked, as a digest comes due, what of it waits: during
// its integration's quiet time (which may have begun after the digest
// opened, or after it took records of an earlier one), every issue but
// the urgent ones stays in the digest until the quiet time ends, to go
// out then with what else is held. Urgent ones go out now.
func quietHold(ctx context.Context, st *store.Store, now time.Time) func(*store.DigestTimeline) (*store.DigestHold, error) {
	configs := map[int64]map[string]any{}
	return func(t *store.DigestTimeline) (*store.DigestHold, error) {
		if t.IntegrationID == nil {
			return nil, nil // the built-in email has no quiet time
		}
		config, ok := configs[*t.IntegrationID]
		if !ok {
			in, err := st.IntegrationGet(ctx, t.OrganizationID, *t.IntegrationID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			config = integrationConfig(in)
			configs[*t.IntegrationID] = config
		}
		end, quiet := quietEnd(config, now)
		if !quiet {
			return nil, nil
		}
		h := &store.DigestHold{Until: end}
		for _, e := range t.Entries {
			var a action
			_ = json.Unmarshal([]byte(e.Options), &a.Node)
			if !urgent(e.Level, a) {
				h.Issues = append(h.Issues, e.IssueID)
			}
		}
		return h, nil
	}
}
