package api_test

import (
	"net/http"
	"testing"
)

func TestHandler_NotificationOptions(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a, b := e.tenant(t, "acme"), e.tenant(t, "globex")
		path := "/api/0/users/me/notification-options/"
		v := e.want(t, http.StatusOK, "PUT", path, a.token,
			map[string]any{"type": "alerts", "scopeType": "project", "scopeIdentifier": id(a.project.ID), "value": "never"})
		if get(v, "value") != "never" || get(v, "scopeType") != "project" {
			t.Errorf("saved %v", v)
		}
		e.want(t, http.StatusOK, "PUT", "/api/0/users/"+id(a.user.ID)+"/notification-options/", a.token,
			map[string]any{"type": "workflow", "scopeType": "user", "scopeIdentifier": id(a.user.ID), "value": "always"})
		list := e.want(t, http.StatusOK, "GET", path, a.token, nil)
		if get(list, 0, "type") != "workflow" || get(list, 1, "type") != "alerts" || get(list, 1, "value") != "never" {
			t.Errorf("options %v", list)
		}
		for _, body := range []map[string]any{
			{"type": "spam", "scopeType": "user", "value": "never"},
			{"type": "alerts", "scopeType": "user", "value": "sometimes"},
			{"type": "alerts", "scopeType": "team", "value": "never"},
			{"type": "alerts", "scopeType": "project", "scopeIdentifier": "x", "value": "never"},
			// Another organization's project.
			{"type": "alerts", "scopeType": "project", "scopeIdentifier": id(b.project.ID), "value": "never"},
		} {
			wantDetail(t, e.want(t, http.StatusBadRequest, "PUT", path, a.token, body))
		}
		// Only one's own options.
		e.want(t, http.StatusNotFound, "GET", "/api/0/users/"+id(b.user.ID)+"/notification-options/", a.token, nil)
		e.want(t, http.StatusUnauthorized, "GET", path, "", nil)
	})
}
