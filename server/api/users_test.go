package api_test

import (
	"net/http"
	"testing"
)

// A user's language and time zone, for the email Tocsin sends them.
func TestHandler_UserOptions(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a, b := e.tenant(t, "acme"), e.tenant(t, "globex")
		v := e.want(t, http.StatusOK, "GET", "/api/0/users/me/", a.token, nil)
		if get(v, "email") != a.user.Email || get(v, "options", "language") != "en" || get(v, "options", "timezone") != "UTC" {
			t.Errorf("details %v, want the user with the default options", v)
		}
		v = e.want(t, http.StatusOK, "PUT", "/api/0/users/"+id(a.user.ID)+"/", a.token,
			map[string]any{"options": map[string]any{"language": "zh-cn", "timezone": "Asia/Shanghai"}})
		if get(v, "options", "language") != "zh-CN" || get(v, "options", "timezone") != "Asia/Shanghai" {
			t.Errorf("saved %v", v)
		}
		// Options left out keep their values.
		v = e.want(t, http.StatusOK, "PUT", "/api/0/users/me/", a.token, map[string]any{"options": map[string]any{"timezone": "UTC"}})
		if get(v, "options", "language") != "zh-CN" || get(v, "options", "timezone") != "UTC" {
			t.Errorf("after changing the zone only: %v", v)
		}
		for _, opts := range []map[string]any{{"language": "fr"}, {"timezone": "Mars/Olympus"}, {"timezone": "Local"}} {
			wantDetail(t, e.want(t, http.StatusBadRequest, "PUT", "/api/0/users/me/", a.token, map[string]any{"options": opts}))
		}
		e.want(t, http.StatusNotFound, "GET", "/api/0/users/"+id(b.user.ID)+"/", a.token, nil)
		e.want(t, http.StatusNotFound, "PUT", "/api/0/users/"+id(b.user.ID)+"/", a.token, map[string]any{"options": map[string]any{"language": "en"}})
		e.want(t, http.StatusUnauthorized, "GET", "/api/0/users/me/", "", nil)
	})
}
