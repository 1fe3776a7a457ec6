package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/tocsin/tocsin/store"
)

func TestHandler_IssueLinks(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, b := e.tenant(t, "acme"), e.tenant(t, "globex")
		res := e.ingestEvents(t, a.project, time.Now().UTC(), `{"message": "link me", "level": "error"}`)
		issue := "/api/0/issues/" + id(res[0].IssueID) + "/links/"
		gh := e.integration(t, a.org, "github")
		slack := e.integration(t, a.org, "slack")
		theirs := e.integration(t, b.org, "github")

		// Link an existing GitHub issue by its address.
		v := e.want(t, http.StatusCreated, "POST", issue, a.token,
			map[string]any{"integration": gh, "handle": "https://github.com/Octo/App/issues/17"})
		if get(v, "handle") != "octo/app#17" || get(v, "target") != "octo/app" || get(v, "provider") != "github" {
			t.Errorf("link %v", v)
		}
		links := e.want(t, http.StatusOK, "GET", issue, a.token, nil)
		if get(links, 0, "handle") != "octo/app#17" {
			t.Errorf("links %v", links)
		}
		// The link is what the GitHub webhook finds.
		ghID := mustInt(t, gh)
		if l, err := e.st.IssueLinkByHandle(ctx, ghID, "octo/app#17"); err != nil || l == nil || l.IssueID != res[0].IssueID {
			t.Errorf("stored link %+v, %v", l, err)
		}
		// Create one now: a delivery is queued.
		e.want(t, http.StatusAccepted, "POST", issue, a.token, map[string]any{"integration": gh, "create": true, "target": "octo/other"})
		ds, err := e.st.DeliveryList(ctx, a.org.ID, &store.DeliveryFilter{IssueID: res[0].IssueID, Page: store.Page{Limit: 10}})
		if err != nil || len(ds) != 1 || ds[0].Target != "octo/other" || ds[0].Kind != "alert" {
			t.Errorf("queued deliveries %+v, %v", ds, err)
		}

		for _, body := range []map[string]any{
			{"handle": "octo/app#1"}, // no integration
			{"integration": slack, "handle": "octo/app#1"},
			{"integration": theirs, "handle": "octo/app#1"},
			{"integration": gh, "handle": "not a handle"},
			{"integration": gh},
			{"integration": gh, "handle": "octo/app#1", "create": true},
			{"integration": gh, "create": true, "target": "no-slash"},
		} {
			wantDetail(t, e.want(t, http.StatusBadRequest, "POST", issue, a.token, body))
		}
		// Another organization's token sees nothing of the issue.
		e.want(t, http.StatusNotFound, "GET", issue, b.token, nil)
		e.want(t, http.StatusNotFound, "POST", issue, b.token, map[string]any{"integration": theirs, "handle": "octo/app#2"})
	})
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
