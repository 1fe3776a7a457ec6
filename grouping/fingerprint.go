package grouping

import (
	"regexp"
	"strings"

	"github.com/tocsin/tocsin/event"
)

// A client fingerprint (scope.fingerprint in the SDKs) replaces the
// default grouping. Its entries may be variables: {{ default }} stands for
// the default grouping's values, the others for a value of the event.
// Followed: src/sentry/grouping/fingerprinting/utils.py
// (resolve_fingerprint_values, resolve_fingerprint_variable) and
// SaltedComponentVariant in src/sentry/grouping/variants.py.
// https://docs.sentry.io/concepts/data-management/event-grouping/fingerprint-rules/

var fingerprintVarRe = regexp.MustCompile(`^\{\{\s*(\S+)\s*\}\}$`)

// fingerprintVar returns the variable an entry names, if it is one.
func fingerprintVar(entry string) (string, bool) {
	if !strings.HasPrefix(entry, "{{") {
		return "", false
	}
	m := fingerprintVarRe.FindStringSubmatch(entry)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func isDefaultVar(entry string) bool {
	v, ok := fingerprintVar(entry)
	return ok && v == "default"
}

// customFingerprint returns the fingerprint that replaces the default
// grouping, or nil: the client's, unless it is just {{ default }}; else
// one of Sentry's built-in rules.
func customFingerprint(ev *event.Event) []string {
	fp := ev.Fingerprint
	if len(fp) == 1 && isDefaultVar(fp[0]) {
		fp = nil
	}
	if len(fp) > 0 {
		return fp
	}
	return builtinFingerprint(ev)
}

// resolveFingerprint turns a fingerprint into hash values: variables are
// replaced by the event's values, {{ default }} by the default grouping's.
func resolveFingerprint(fp []string, ev *event.Event) []string {
	out := make([]string, 0, len(fp))
	for _, entry := range fp {
		name, ok := fingerprintVar(entry)
		switch {
		case !ok:
			out = append(out, entry)
		case name == "default":
			out = append(out, defaultGrouping(ev).values...)
		default:
			out = append(out, resolveVariable(name, ev))
		}
	}
	return out
}

// resolveVariable is the value of one fingerprint variable, or a
// placeholder saying it is missing, so that events lacking it still group.
func resolveVariable(name string, ev *event.Event) string {
	or := func(v, missing string) string {
		if v == "" {
			return missing
		}
		return v
	}
	var last *event.Exception
	if n := len(ev.Exceptions); n > 0 {
		last = &ev.Exceptions[n-1]
	}
	lastType, lastValue := "", ""
	if last != nil {
		lastType, lastValue = last.Type, last.Value
	}
	switch name {
	case "transaction":
		return or(ev.Transaction, "<no-transaction>")
	case "message":
		msg := ev.Message
		if msg == "" {
			msg = ev.MessageTemplate
		}
		if msg == "" {
			msg = lastValue
		}
		return or(msg, "<no-message>")
	case "type", "error.type":
		return or(lastType, "<no-type>")
	case "value", "error.value":
		return or(lastValue, "<no-value>")
	case "level":
		return or(ev.Level, "<no-level>")
	case "logger":
		return or(ev.Logger, "<no-logger>")
	}
	if tag, ok := strings.CutPrefix(name, "tags."); ok {
		if v, ok := tagValue(ev, tag); ok {
			return v
		}
		return "<no-value-for-tag-" + tag + ">"
	}
	f := crashFrame(ev)
	if f == nil {
		f = &event.Frame{}
	}
	switch name {
	case "function", "stack.function":
		return or(f.Function, "<no-function>")
	case "path", "stack.abs_path":
		return or(firstOf(f.AbsPath, f.Filename), "<no-abs-path>")
	case "stack.filename":
		return or(firstOf(f.Filename, f.AbsPath), "<no-filename>")
	case "module", "stack.module":
		return or(f.Module, "<no-module>")
	case "package", "stack.package":
		return or(basename(f.Package), "<no-package>")
	}
	return "<unrecognized-variable-" + name + ">"
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// crashFrame is the frame nearest the crash in the main stack trace: the
// newest in-app one, else the newest.
// Followed: get_crash_frame_from_event_data in src/sentry/stacktraces/processing.py.
func crashFrame(ev *event.Event) *event.Frame {
	var st *event.Stacktrace
	if n := len(ev.Exceptions); n > 0 {
		st = ev.Exceptions[n-1].Stacktrace
	}
	if st == nil || len(st.Frames) == 0 {
		st = ev.Stacktrace
	}
	if (st == nil || len(st.Frames) == 0) && len(ev.Threads) == 1 {
		st = ev.Threads[0].Stacktrace
	}
	if st == nil || len(st.Frames) == 0 {
		return nil
	}
	for i := len(st.Frames) - 1; i >= 0; i-- {
		if st.Frames[i].IsInApp() {
			return &st.Frames[i]
		}
	}
	return &st.Frames[len(st.Frames)-1]
}

// hydrationMessages are React's hydration errors, which Sentry groups per
// transaction whatever their stack trace.
var hydrationMessages = []string{
	"Hydration failed because the initial UI does not match what was rendered on the server.",
	"The server could not finish this Suspense boundary, likely due to an error during server rendering. Switched to client rendering.",
	"There was an error while hydrating this Suspense boundary. Switched to client rendering.",
	"There was an error while hydrating. Because the error happened outside of a Suspense boundary, the entire root will switch to client rendering.",
	"Text content does not match server-rendered HTML.",
}

// builtinFingerprint applies Sentry's built-in server-side fingerprinting
// rules for JavaScript: chunk load errors are one issue (they come from
// deploys and flaky networks, from anywhere in the code), hydration errors
// one per page. A custom client fingerprint takes precedence over them.
// Followed: src/sentry/grouping/fingerprinting/configs/javascript@2024-02-02/.
func builtinFingerprint(ev *event.Event) []string {
	if familyOf(ev.Platform) != familyJavaScript {
		return nil
	}
	for _, e := range ev.Exceptions {
		if e.Type == "ChunkLoadError" {
			return []string{"chunkloaderror"}
		}
	}
	for _, e := range ev.Exceptions {
		if v := strings.TrimSpace(e.Value); len(v) >= len("ChunkLoadError") && strings.EqualFold(v[:len("ChunkLoadError")], "ChunkLoadError") {
			return []string{"chunkloaderror"}
		}
	}
	texts := []string{strings.TrimSpace(ev.Message)}
	for _, e := range ev.Exceptions {
		texts = append(texts, strings.TrimSpace(e.Value))
	}
	for _, msg := range hydrationMessages {
		for _, t := range texts {
			if strings.EqualFold(t, msg) {
				if _, ok := tagValue(ev, "transaction"); !ok {
					return nil
				}
				return []string{"hydrationerror", "{{tags.transaction}}"}
			}
		}
	}
	return nil
}

// tagValue reads a tag as Sentry has it when it groups: the client's tags
// plus those it derives (level, transaction, release…), derived first.
func tagValue(ev *event.Event, key string) (string, bool) {
	for _, t := range ev.IndexTags() {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}
