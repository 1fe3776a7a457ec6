package bench

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The slots of an event template, filled per event. Each marker appears in
// the template as a JSON string's content and is replaced verbatim, so the
// values put there must need no JSON escaping.
const (
	slotEventID = iota
	slotTimestamp
	slotUser
	slotTraceID
	numSlots
)

var slotMarkers = [numSlots]string{"@@EVENT_ID@@", "@@TIMESTAMP@@", "@@USER@@", "@@TRACE_ID@@"}

// template is one group's event JSON cut at its slots: text[0], slot[0],
// text[1], slot[1], …, text[len(slot)].
type template struct {
	text [][]byte
	slot []int
}

// Events builds realistic Python error events, about 10 KB of JSON each,
// in a fixed number of groups: every group has its own in-app call chain,
// so that Tocsin's grouping puts each in its own issue. The JSON of each
// group is rendered once; an event only fills in its id, timestamp, user
// and trace, so that generating load costs little CPU beside the server.
type Events struct {
	groups []template
}

// Users is the number of distinct users events are attributed to.
const Users = 5000

// NewEvents prepares the events of n groups (n ≥ 1).
func NewEvents(n int) (*Events, error) {
	if n < 1 {
		return nil, fmt.Errorf("bench: %d groups; want at least 1", n)
	}
	e := &Events{}
	for g := range n {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // as the SDKs write it
		if err := enc.Encode(pythonEvent(g)); err != nil {
			return nil, fmt.Errorf("bench: render event of group %d: %w", g, err)
		}
		e.groups = append(e.groups, cut(bytes.TrimSpace(buf.Bytes())))
	}
	return e, nil
}

// Groups is the number of groups.
func (e *Events) Groups() int { return len(e.groups) }

// Append appends the JSON of an event of group g (0 ≤ g < Groups) to dst:
// id is its event id (32 hex digits), ts its timestamp, user picks one of
// Users users and trace is its trace id.
func (e *Events) Append(dst []byte, g int, id string, ts time.Time, user int, trace string) []byte {
	t := &e.groups[g]
	for i, s := range t.slot {
		dst = append(dst, t.text[i]...)
		switch s {
		case slotEventID:
			dst = append(dst, id...)
		case slotTimestamp:
			dst = ts.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z")
		case slotUser:
			dst = strconv.AppendInt(dst, int64(user%Users), 10)
		case slotTraceID:
			dst = append(dst, trace...)
		}
	}
	return append(dst, t.text[len(t.slot)]...)
}

// cut splits rendered JSON at the slot markers.
func cut(data []byte) template {
	var t template
	for {
		at, which := -1, -1
		for s, m := range slotMarkers {
			if i := bytes.Index(data, []byte(m)); i >= 0 && (at < 0 || i < at) {
				at, which = i, s
			}
		}
		if at < 0 {
			t.text = append(t.text, data)
			return t
		}
		t.text = append(t.text, data[:at])
		t.slot = append(t.slot, which)
		data = data[at+len(slotMarkers[which]):]
	}
}

// hexID renders 16 bytes as an event or trace id.
func hexID(hi, lo uint64) string {
	var b [16]byte
	for i := range 8 {
		b[i] = byte(hi >> (56 - 8*i))
		b[8+i] = byte(lo >> (56 - 8*i))
	}
	return hex.EncodeToString(b[:])
}

// Words from which each group's in-app function names are made.
var (
	verbs = []string{"load", "save", "validate", "render", "apply", "compute", "fetch", "sync",
		"charge", "refund", "ship", "notify"}
	nouns = []string{"order", "cart", "invoice", "customer", "coupon", "shipment", "payment", "stock",
		"price", "address", "review", "wishlist", "session", "token", "report", "export", "import",
		"webhook", "plan", "subscription", "receipt", "ledger", "tax", "discount", "catalog", "variant",
		"warehouse", "carrier", "label", "return"}
	errorTypes = []struct{ module, typ, value string }{
		{"builtins", "KeyError", "'%s_id'"},
		{"builtins", "ValueError", "invalid literal for int() with base 10: '%s'"},
		{"builtins", "TypeError", "'NoneType' object is not subscriptable (%s)"},
		{"builtins", "AttributeError", "'NoneType' object has no attribute '%s'"},
		{"django.db.utils", "IntegrityError", "duplicate key value violates unique constraint \"shop_%s_pkey\""},
		{"requests.exceptions", "ConnectionError", "HTTPSConnectionPool(host='%s.internal', port=443): Max retries exceeded"},
		{"builtins", "ZeroDivisionError", "division by zero in %s"},
		{"decimal", "InvalidOperation", "[<class 'decimal.ConversionSyntax'>] %s"},
	}
)

// Library frames every event starts with: Django's request handling.
var libraryFrames = []struct{ module, function, line string }{
	{"django.core.handlers.wsgi", "__call__", "response = self.get_response(request)"},
	{"django.core.handlers.base", "get_response", "response = self._middleware_chain(request)"},
	{"django.core.handlers.exception", "inner", "response = get_response(request)"},
	{"django.utils.deprecation", "__call__", "response = response or self.get_response(request)"},
	{"django.core.handlers.exception", "inner", "response = get_response(request)"},
	{"django.contrib.sessions.middleware", "process_request", "request.session = self.SessionStore(session_key)"},
	{"django.core.handlers.exception", "inner", "response = get_response(request)"},
	{"django.core.handlers.base", "_get_response", "response = wrapped_callback(request, *callback_args, **callback_kwargs)"},
	{"django.views.decorators.csrf", "wrapper_view", "return view_func(request, *args, **kwargs)"},
	{"django.views.generic.base", "view", "return self.dispatch(request, *args, **kwargs)"},
	{"rest_framework.views", "dispatch", "response = handler(request, *args, **kwargs)"},
	{"rest_framework.mixins", "create", "self.perform_create(serializer)"},
}

const inAppFrames = 8 // 12 library frames + 8 in-app frames = 20

// groupNames returns the in-app function names of group g, outermost
// first; the innermost is unique to the group.
func groupNames(g int) (module string, functions []string) {
	noun := nouns[g%len(nouns)]
	module = "shop." + noun + "s"
	for j := range inAppFrames {
		v := verbs[(g/len(nouns)+j)%len(verbs)]
		n := nouns[(g+3*j)%len(nouns)]
		functions = append(functions, v+"_"+n)
	}
	// g/len(nouns) and g%len(nouns) together name the group: with the
	// suffix, a group's chain is unique however many groups there are.
	functions[inAppFrames-1] = fmt.Sprintf("%s_%s_%d", verbs[(g/len(nouns))%len(verbs)], noun, g/(len(nouns)*len(verbs)))
	return module, functions
}

type obj = map[string]any

// pythonEvent is the event of group g as the Python SDK (Django
// integration) sends it, with markers where per-event values go.
func pythonEvent(g int) obj {
	module, fns := groupNames(g)
	et := errorTypes[g%len(errorTypes)]
	var frames []obj
	for i, lf := range libraryFrames {
		path := "/opt/venv/lib/python3.12/site-packages/" + modulePath(lf.module)
		frames = append(frames, frame(lf.module, lf.function, path, 40+i*17, lf.line, false, nil))
	}
	for j, fn := range fns {
		next := "raise_for_state"
		if j+1 < len(fns) {
			next = fns[j+1]
		}
		vars := obj{"obj_id": strconv.Itoa(1000 + g*13 + j), "sku": fmt.Sprintf("'SKU-%05d'", g*31+j)}
		if j == 2 {
			vars["api_token"] = "'tok_live_3f9a0c2d7e'" // scrubbed by the server
		}
		frames = append(frames, frame(module, fn, "/app/"+modulePath(module), 20+j*11,
			fmt.Sprintf("result = %s(request, obj_id)", next), true, vars))
	}
	var crumbs []obj
	for i := range 30 {
		ts := 1767225600 + float64(i)*0.25
		noun := nouns[i%len(nouns)]
		switch i % 3 {
		case 0:
			crumbs = append(crumbs, obj{"category": "query", "timestamp": ts,
				"message": fmt.Sprintf(`SELECT id, state FROM shop_%s WHERE id = %%s`, noun)})
		case 1:
			crumbs = append(crumbs, obj{"type": "http", "category": "httplib", "timestamp": ts,
				"data": obj{"method": "GET", "url": fmt.Sprintf("http://stock/%s/%d", noun, i), "status_code": 200}})
		default:
			crumbs = append(crumbs, obj{"category": "shop", "timestamp": ts,
				"message": fmt.Sprintf("%s %s in %d ms", verbs[i%len(verbs)], noun, 3+i)})
		}
	}
	return obj{
		"event_id":    slotMarkers[slotEventID],
		"timestamp":   slotMarkers[slotTimestamp],
		"platform":    "python",
		"level":       "error",
		"logger":      "django.request",
		"server_name": fmt.Sprintf("web-%d", g%4+1),
		"release":     "shop@2.14.1",
		"environment": "production",
		"transaction": "/api/" + nouns[g%len(nouns)] + "s/{id}/",
		"sdk": obj{"name": "sentry.python.django", "version": "2.18.0",
			"integrations": []string{"django", "logging", "redis", "stdlib", "threading"},
			"packages":     []obj{{"name": "pypi:sentry-sdk", "version": "2.18.0"}}},
		"exception": obj{"values": []obj{{
			"type": et.typ, "module": et.module, "value": fmt.Sprintf(et.value, nouns[g%len(nouns)]),
			"mechanism":  obj{"type": "django", "handled": false},
			"stacktrace": obj{"frames": frames},
		}}},
		"breadcrumbs": obj{"values": crumbs},
		"request": obj{
			"url":          "https://shop.example.com/api/" + nouns[g%len(nouns)] + "s/",
			"method":       "POST",
			"query_string": "expand=items&page=2",
			"headers": obj{
				"Host": "shop.example.com", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
				"Accept": "application/json", "Accept-Language": "en-GB,en;q=0.9", "Content-Type": "application/json",
				"Content-Length": "87", "X-Forwarded-For": "203.0.113.7", "X-Request-Id": "a4c1f0e2-77b3-4a51-9d2e-0b6c1f3d8e90",
				"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.c2hvcA.5c3k", "Cookie": "sessionid=k2j3h4g5; csrftoken=Zx9Yw8",
			},
			"env":  obj{"SERVER_NAME": "shop.example.com", "SERVER_PORT": "443", "REMOTE_ADDR": "10.0.3.17"},
			"data": obj{"sku": "SKU-00042", "quantity": 2, "coupon": "WINTER24", "password": "hunter2"},
		},
		"tags": obj{"customer_tier": []string{"free", "pro", "enterprise"}[g%3], "region": "eu-west-1",
			"browser": "Chrome 131", "url": "/api/" + nouns[g%len(nouns)] + "s/"},
		"user": obj{"id": slotMarkers[slotUser], "email": "user" + slotMarkers[slotUser] + "@example.com",
			"ip_address": "10.1.0.1"},
		"contexts": obj{
			"runtime": obj{"name": "CPython", "version": "3.12.7"},
			"os":      obj{"name": "Linux", "version": "6.1.0"},
			"trace":   obj{"trace_id": slotMarkers[slotTraceID], "span_id": "8a1e2f3c4b5d6e7f", "op": "http.server"},
		},
		"extra": obj{"sys.argv": []string{"/usr/local/bin/gunicorn", "shop.wsgi", "--workers", "4"}},
	}
}

func frame(module, function, absPath string, lineno int, line string, inApp bool, vars obj) obj {
	f := obj{
		"filename":     modulePath(module),
		"abs_path":     absPath,
		"module":       module,
		"function":     function,
		"lineno":       lineno,
		"context_line": "        " + line,
		"pre_context":  []string{"    try:"},
		"post_context": []string{"    except LookupError:"},
		"in_app":       inApp,
	}
	if vars != nil {
		f["vars"] = vars
	}
	return f
}

// modulePath is a Python module's file: shop.orders → shop/orders.py.
func modulePath(module string) string {
	return strings.ReplaceAll(module, ".", "/") + ".py"
}
