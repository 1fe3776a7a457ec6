// Package eventtest builds event payloads for tests, shaped the way the
// Python SDK sends them, so the store, rules and API tests share one
// fixture instead of drifting copies.
package eventtest

import (
	"encoding/json"
	"fmt"
	"time"
)

// ID is the 32-hex event id of fixture n.
func ID(n int) string { return fmt.Sprintf("%032x", n) }

// PythonError renders a Python error event as the SDK sends it: an
// unhandled ValueError raised in an in-app Django view frame with source
// context, under a library frame. fields are added to (or replace) the
// payload's top-level keys; a nil value removes the key. A "fingerprint"
// is the easy way to choose the issue.
func PythonError(id int, ts time.Time, fields map[string]any) string {
	m := map[string]any{
		"event_id":  ID(id),
		"timestamp": ts.Format(time.RFC3339Nano),
		"platform":  "python",
		"level":     "error",
		"exception": map[string]any{"values": []any{map[string]any{
			"type": "ValueError", "value": "bad value", "module": "builtins",
			"mechanism": map[string]any{"type": "django", "handled": false},
			"stacktrace": map[string]any{"frames": []any{
				map[string]any{"filename": "django/core/handlers/base.py", "module": "django.core.handlers.base",
					"function": "get_response", "lineno": 181, "in_app": false},
				map[string]any{"filename": "app/views.py", "abs_path": "/srv/app/views.py", "module": "app.views",
					"function": "checkout", "lineno": 42, "colno": 5, "in_app": true,
					"pre_context":  []any{"def checkout(request):", "    cart = request.cart"},
					"context_line": "    raise ValueError('bad value')",
					"post_context": []any{"", "def refund(request):"}},
			}},
		}}},
	}
	for k, v := range fields {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("eventtest: marshal fixture: %v", err))
	}
	return string(b)
}
