package event

import (
	"regexp"
	"strings"
	"time"
)

// Field limits, as Relay's normalization (relay-event-schema max_chars).
const (
	maxTagKey      = 200
	maxTagValue    = 200
	maxRelease     = 200
	maxEnvironment = 64
	maxDist        = 64
	maxTransaction = 200
	maxLogger      = 64
	maxServerName  = 256
	maxCulprit     = 200
	maxMessage     = 8192
	maxExcValue    = 8192
	maxBreadcrumbs = 100
)

var (
	platformRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	tagKeyRE   = regexp.MustCompile(`^[a-zA-Z0-9_.:-]+$`)
)

// Legacy interface names that old clients send for today's keys.
var aliases = map[string]string{
	"sentry.interfaces.Exception":   "exception",
	"sentry.interfaces.Message":     "logentry",
	"sentry.interfaces.Stacktrace":  "stacktrace",
	"sentry.interfaces.User":        "user",
	"sentry.interfaces.Http":        "request",
	"sentry.interfaces.Template":    "template",
	"sentry.interfaces.Breadcrumbs": "breadcrumbs",
	"sentry.interfaces.Contexts":    "contexts",
	"sentry.interfaces.Threads":     "threads",
	"sentry.interfaces.DebugMeta":   "debug_meta",
}

var levelAliases = map[string]string{
	"fatal": LevelFatal, "critical": LevelFatal,
	"error": LevelError, "err": LevelError,
	"warning": LevelWarning, "warn": LevelWarning,
	"info": LevelInfo, "log": LevelInfo,
	"debug": LevelDebug, "trace": LevelDebug,
	// Python logging's numeric levels, which raven clients sent.
	"50": LevelFatal, "40": LevelError, "30": LevelWarning, "20": LevelInfo, "10": LevelDebug,
}

func normalize(ev *Event, opts ParseOptions) error {
	m := ev.Data
	for old, cur := range aliases {
		if v, ok := m[old]; ok {
			if _, has := m[cur]; !has {
				m[cur] = v
			}
			delete(m, old)
		}
	}

	id := NormalizeID(str(m["event_id"]))
	if id == "" {
		id = NormalizeID(opts.EventID)
	}
	if id == "" {
		id = NewID()
	}
	m["event_id"] = id

	received := opts.Received.UTC().Truncate(time.Microsecond)
	ts, ok := parseTimestamp(m["timestamp"])
	if !ok || ts.After(received.Add(maxFutureSkew)) {
		ts = received
	}
	m["timestamp"] = epochSeconds(ts)
	m["received"] = epochSeconds(received)
	if t, ok := parseTimestamp(m["start_timestamp"]); ok {
		m["start_timestamp"] = epochSeconds(t)
	}

	if p := strings.ToLower(str(m["platform"])); platformRE.MatchString(p) {
		m["platform"] = p
	} else {
		m["platform"] = "other"
	}
	if lv, ok := levelAliases[strings.ToLower(str(m["level"]))]; ok {
		m["level"] = lv
	} else {
		m["level"] = LevelError
	}

	for key, limit := range map[string]int{
		"logger": maxLogger, "transaction": maxTransaction, "server_name": maxServerName,
		"release": maxRelease, "dist": maxDist, "culprit": maxCulprit,
	} {
		normalizeString(m, key, limit)
	}
	normalizeEnvironment(m)
	normalizeMessage(m)
	normalizeExceptions(m)
	if th := values(m["threads"]); th != nil {
		for _, t := range th {
			if to := obj(t); to != nil {
				normalizeStacktrace(to, "stacktrace")
			}
		}
		m["threads"] = map[string]any{"values": th}
	} else {
		delete(m, "threads")
	}
	normalizeStacktrace(m, "stacktrace")
	normalizeBreadcrumbs(m)
	normalizeTags(m)
	normalizeUser(m, opts.ClientIP)
	normalizeFingerprint(m)

	switch t := str(m["type"]); {
	case t == "transaction":
	case len(values(obj(m["exception"])["values"])) > 0:
		m["type"] = "error"
	case t == "csp" || t == "hpkp" || t == "expectct" || t == "expectstaple" || t == "nel":
	default:
		m["type"] = "default"
	}
	return nil
}

// normalizeString makes m[key] a trimmed string of at most limit runes, or
// removes it when empty.
func normalizeString(m map[string]any, key string, limit int) {
	v, ok := m[key]
	if !ok {
		return
	}
	s := strings.TrimSpace(anyString(v))
	if s == "" {
		delete(m, key)
		return
	}
	m[key] = truncate(s, limit)
}

// normalizeEnvironment drops environment names Sentry refuses: too long,
// or with a slash or a line break.
func normalizeEnvironment(m map[string]any) {
	normalizeString(m, "environment", 1<<10)
	if env, ok := m["environment"].(string); ok {
		if len([]rune(env)) > maxEnvironment || strings.ContainsAny(env, "/\r\n\t") || env == "." || env == ".." {
			delete(m, "environment")
		}
	}
}

// normalizeMessage folds the legacy "message" (a string or an object) into
// "logentry" {formatted, message, params}, as Relay does.
func normalizeMessage(m map[string]any) {
	le := obj(m["logentry"])
	if le == nil {
		le = map[string]any{}
	}
	switch msg := m["message"].(type) {
	case string:
		if str(le["formatted"]) == "" && str(le["message"]) == "" {
			le["formatted"] = msg
		}
	case map[string]any:
		for k, v := range msg {
			if _, ok := le[k]; !ok {
				le[k] = v
			}
		}
	}
	delete(m, "message")
	formatted, template := anyString(le["formatted"]), anyString(le["message"])
	if formatted == "" && template != "" {
		formatted = formatParams(template, le["params"])
	}
	if formatted == "" {
		delete(m, "logentry")
		return
	}
	out := map[string]any{"formatted": truncate(formatted, maxMessage)}
	if template != "" && template != formatted {
		out["message"] = truncate(template, maxMessage)
	}
	if p, ok := le["params"]; ok {
		out["params"] = p
	}
	m["logentry"] = out
}

// formatParams fills %s-style (or %d, %r, {}) placeholders with params,
// the way Sentry renders a logentry that came without "formatted".
func formatParams(template string, params any) string {
	ps := list(params)
	named := obj(params)
	if len(ps) == 0 && len(named) == 0 {
		return template
	}
	var b strings.Builder
	i := 0
	for j := 0; j < len(template); j++ {
		c := template[j]
		switch {
		case c == '%' && j+1 < len(template) && template[j+1] == '%':
			b.WriteByte('%')
			j++
		case c == '%' && j+1 < len(template) && strings.IndexByte("sdrifg", template[j+1]) >= 0 && i < len(ps):
			b.WriteString(anyString(ps[i]))
			i++
			j++
		case c == '{' && j+1 < len(template) && template[j+1] == '}' && i < len(ps):
			b.WriteString(anyString(ps[i]))
			i++
			j++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func normalizeExceptions(m map[string]any) {
	vals := values(m["exception"])
	if len(vals) == 0 {
		delete(m, "exception")
		return
	}
	out := make([]any, 0, len(vals))
	for _, v := range vals {
		e := obj(v)
		if e == nil {
			continue
		}
		if s, ok := e["value"]; ok {
			if v := truncate(anyString(s), maxExcValue); v != "" {
				e["value"] = v
			} else {
				delete(e, "value")
			}
		}
		if t, ok := e["type"]; ok {
			e["type"] = truncate(anyString(t), 256)
		}
		normalizeStacktrace(e, "stacktrace")
		delete(e, "raw_stacktrace")
		if str(e["type"]) == "" && str(e["value"]) == "" && e["stacktrace"] == nil {
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		delete(m, "exception")
		return
	}
	m["exception"] = map[string]any{"values": out}
}

// maxFrames bounds a stack trace; longer ones keep their first and last
// halves, as Relay trims the middle of deep recursions.
const maxFrames = 250

func normalizeStacktrace(parent map[string]any, key string) {
	st := obj(parent[key])
	if st == nil {
		delete(parent, key)
		return
	}
	frames := list(st["frames"])
	kept := make([]any, 0, len(frames))
	for _, f := range frames {
		if fo := obj(f); fo != nil {
			kept = append(kept, fo)
		}
	}
	if len(kept) > maxFrames {
		kept = append(kept[:maxFrames/2:maxFrames/2], kept[len(kept)-maxFrames/2:]...)
	}
	if len(kept) == 0 {
		delete(parent, key)
		return
	}
	st["frames"] = kept
	parent[key] = st
}

func normalizeBreadcrumbs(m map[string]any) {
	crumbs := values(m["breadcrumbs"])
	if crumbs == nil {
		delete(m, "breadcrumbs")
		return
	}
	if len(crumbs) > maxBreadcrumbs {
		crumbs = crumbs[len(crumbs)-maxBreadcrumbs:]
	}
	for _, c := range crumbs {
		if co := obj(c); co != nil {
			if t, ok := parseTimestamp(co["timestamp"]); ok {
				co["timestamp"] = epochSeconds(t)
			}
		}
	}
	m["breadcrumbs"] = map[string]any{"values": crumbs}
}

// normalizeTags turns tags (an object or a list of pairs) into a list of
// [key, value] pairs with valid keys and single-line values.
func normalizeTags(m map[string]any) {
	var pairs [][2]string
	switch t := m["tags"].(type) {
	case map[string]any:
		for k, v := range t {
			pairs = append(pairs, [2]string{k, anyString(v)})
		}
	case []any:
		for _, p := range t {
			if kv := list(p); len(kv) == 2 {
				pairs = append(pairs, [2]string{anyString(kv[0]), anyString(kv[1])})
			}
		}
	}
	out := make([]any, 0, len(pairs))
	seen := map[string]bool{}
	for _, p := range pairs {
		k, v := strings.TrimSpace(p[0]), strings.TrimSpace(p[1])
		if k == "" || len(k) > maxTagKey || !tagKeyRE.MatchString(k) || v == "" || strings.ContainsAny(v, "\r\n") || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, []any{k, truncate(v, maxTagValue)})
	}
	if len(out) == 0 {
		delete(m, "tags")
		return
	}
	sortPairs(out)
	m["tags"] = out
}

func sortPairs(pairs []any) {
	// Insertion sort: tag lists are short, and this keeps the output stable.
	for i := 1; i < len(pairs); i++ {
		for j := i; j > 0 && list(pairs[j])[0].(string) < list(pairs[j-1])[0].(string); j-- {
			pairs[j], pairs[j-1] = pairs[j-1], pairs[j]
		}
	}
}

func normalizeUser(m map[string]any, clientIP string) {
	u := obj(m["user"])
	if u == nil {
		delete(m, "user")
		return
	}
	for _, k := range []string{"id", "email", "username", "ip_address", "name"} {
		if v, ok := u[k]; ok {
			if s := truncate(strings.TrimSpace(anyString(v)), 128); s != "" {
				u[k] = s
			} else {
				delete(u, k)
			}
		}
	}
	if u["ip_address"] == "{{auto}}" {
		if clientIP != "" {
			u["ip_address"] = clientIP
		} else {
			delete(u, "ip_address")
		}
	}
	if len(u) == 0 {
		delete(m, "user")
	}
}

func normalizeFingerprint(m map[string]any) {
	fp := list(m["fingerprint"])
	if fp == nil {
		delete(m, "fingerprint")
		return
	}
	out := make([]any, 0, len(fp))
	for _, v := range fp {
		if s := anyString(v); s != "" {
			out = append(out, truncate(s, 512))
		}
	}
	if len(out) == 0 {
		delete(m, "fingerprint")
		return
	}
	m["fingerprint"] = out
}
