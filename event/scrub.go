package event

import (
	"regexp"
	"strings"
)

// Filtered replaces scrubbed values, as Sentry's data scrubber writes it.
const Filtered = "[Filtered]"

// sensitiveKeys are Sentry's default scrubbed field names
// (relay-pii's default "password|secret|…" key rule and Sentry's
// DEFAULT_SCRUBBED_FIELDS), matched as substrings of lowercased keys.
var sensitiveKeys = []string{
	"password", "passwd", "secret", "api_key", "apikey", "api-key", "auth", "credentials",
	"mysql_pwd", "privatekey", "private_key", "private-key", "token", "session",
	"csrf", "xsrf", "cookie", "bearer", "credit_card", "creditcard", "card_number", "cvv",
}

// notSensitive are keys that contain a sensitive word but hold no secret.
var notSensitive = map[string]bool{"author": true, "authority": true, "tokenizer": true}

func sensitiveKey(k string) bool {
	k = strings.ToLower(k)
	if notSensitive[k] {
		return false
	}
	for _, s := range sensitiveKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

var (
	// creditCardRE finds 13 to 19 digits, optionally grouped by spaces or dashes.
	creditCardRE = regexp.MustCompile(`\b(?:\d[ -]?){12,18}\d\b`)
	// urlPasswordRE finds the password of a URL's userinfo.
	urlPasswordRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\s]*:)([^@/?#\s]+)(@)`)
	// bearerRE finds credentials after an HTTP auth scheme in free text.
	bearerRE = regexp.MustCompile(`(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}`)
)

// luhn reports whether the digits of s pass the Luhn check, which card
// numbers do and most other long numbers (ids, timestamps) don't.
func luhn(s string) bool {
	sum, n, double := 0, 0, false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
		double = !double
	}
	return n >= 13 && sum%10 == 0
}

// scrubString removes secrets from free text: card numbers, URL passwords
// and bearer credentials.
func scrubString(s string) string {
	if len(s) < 8 {
		return s
	}
	// Each pattern runs only when cheap checks say it could match: most
	// strings of an event (frames, breadcrumbs) have none of these, and the
	// regular expressions were an eighth of ingest's CPU.
	if countDigits(s) >= 13 {
		s = creditCardRE.ReplaceAllStringFunc(s, func(m string) string {
			if luhn(m) {
				return Filtered
			}
			return m
		})
	}
	if strings.Contains(s, "://") && strings.Contains(s, "@") {
		s = urlPasswordRE.ReplaceAllString(s, "${1}"+Filtered+"${3}")
	}
	if mayHaveCredential(s) {
		s = bearerRE.ReplaceAllStringFunc(s, func(m string) string {
			scheme, _, _ := strings.Cut(m, " ")
			return scheme + " " + Filtered
		})
	}
	return s
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// mayHaveCredential reports whether s contains bearer, basic or token in
// any case, the words bearerRE starts with.
func mayHaveCredential(s string) bool {
	for i := 0; i+5 <= len(s); i++ {
		switch s[i] | 0x20 {
		case 'b':
			if i+6 <= len(s) && strings.EqualFold(s[i:i+6], "bearer") || strings.EqualFold(s[i:i+5], "basic") {
				return true
			}
		case 't':
			if strings.EqualFold(s[i:i+5], "token") {
				return true
			}
		}
	}
	return false
}

// scrubValue walks a data bag: values under sensitive keys become
// [Filtered]; strings anywhere lose card numbers and credentials.
func scrubValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if sensitiveKey(k) && val != nil && val != "" {
				x[k] = Filtered
				continue
			}
			x[k] = scrubValue(val)
		}
		return x
	case []any:
		// A list of [key, value] pairs (headers, cookies, query) is keyed too.
		for i, item := range x {
			if kv := list(item); len(kv) == 2 {
				if k, ok := kv[0].(string); ok && sensitiveKey(k) {
					kv[1] = Filtered
					continue
				}
			}
			x[i] = scrubValue(item)
		}
		return x
	case string:
		return scrubString(x)
	}
	return v
}

// scrub applies Sentry's default data scrubbing to the parts of an event
// where applications put request data, variables and free text: request,
// extra, contexts, breadcrumbs, frame variables, the message, exception
// values and the user (other than its identifying fields).
func scrub(m map[string]any) {
	if req := obj(m["request"]); req != nil {
		// Cookies are session credentials whatever their names.
		if _, ok := req["cookies"]; ok {
			req["cookies"] = Filtered
		}
		if u, ok := req["url"].(string); ok {
			if base, q, found := strings.Cut(u, "?"); found {
				u = base + "?" + scrubQuery(q)
			}
			req["url"] = scrubString(u)
		}
		if qs, ok := req["query_string"].(string); ok {
			req["query_string"] = scrubQuery(qs)
		}
		for _, k := range []string{"data", "headers", "env", "query_string"} {
			if v, ok := req[k]; ok {
				req[k] = scrubValue(v)
			}
		}
	}
	for _, k := range []string{"extra", "contexts", "modules_data", "sdk_extra"} {
		if v, ok := m[k]; ok {
			m[k] = scrubValue(v)
		}
	}
	if bc := obj(m["breadcrumbs"]); bc != nil {
		for _, c := range list(bc["values"]) {
			if co := obj(c); co != nil {
				if msg, ok := co["message"].(string); ok {
					co["message"] = scrubString(msg)
				}
				if d, ok := co["data"]; ok {
					co["data"] = scrubValue(d)
				}
			}
		}
	}
	if le := obj(m["logentry"]); le != nil {
		for _, k := range []string{"formatted", "message"} {
			if s, ok := le[k].(string); ok {
				le[k] = scrubString(s)
			}
		}
		if p, ok := le["params"]; ok {
			le["params"] = scrubValue(p)
		}
	}
	forEachFrame(m, func(f map[string]any) {
		if v, ok := f["vars"]; ok {
			f["vars"] = scrubValue(v)
		}
	})
	if ex := obj(m["exception"]); ex != nil {
		for _, e := range list(ex["values"]) {
			if eo := obj(e); eo != nil {
				if s, ok := eo["value"].(string); ok {
					eo["value"] = scrubString(s)
				}
			}
		}
	}
	if u := obj(m["user"]); u != nil {
		if d, ok := u["data"]; ok {
			u["data"] = scrubValue(d)
		}
	}
}

// scrubQuery filters sensitive parameters of a raw query string.
func scrubQuery(qs string) string {
	parts := strings.Split(qs, "&")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok && sensitiveKey(k) {
			parts[i] = k + "=" + Filtered
		}
	}
	return scrubString(strings.Join(parts, "&"))
}

// forEachFrame calls fn on every stack frame of the event.
func forEachFrame(m map[string]any, fn func(map[string]any)) {
	visit := func(st any) {
		for _, f := range list(obj(st)["frames"]) {
			if fo := obj(f); fo != nil {
				fn(fo)
			}
		}
	}
	visit(m["stacktrace"])
	for _, e := range list(obj(m["exception"])["values"]) {
		visit(obj(e)["stacktrace"])
	}
	for _, t := range list(obj(m["threads"])["values"]) {
		visit(obj(t)["stacktrace"])
	}
}
