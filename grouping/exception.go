package grouping

import "github.com/tocsin/tocsin/event"

// exceptionGrouping hashes an error: every exception of the chain, in the
// payload's order (causes first), contributes its type, then its stack
// trace, or its value when its stack trace contributes nothing. The value
// is a message for people and often carries ids, so a stack trace wins;
// without one it is all there is, normalized like a message.
// hasStack reports whether a stack trace contributed.
// Followed: single_exception and chained_exception in
// src/sentry/grouping/strategies/newstyle.py.
func exceptionGrouping(ev *event.Event) (values []string, hasStack, ok bool) {
	var app, system []string
	appStack, systemStack := false, false
	for i := range ev.Exceptions {
		exc := &ev.Exceptions[i]
		st := exc.Stacktrace
		if len(ev.Exceptions) == 1 && ev.Stacktrace != nil {
			// Relay moves a top-level stack trace into a lone exception.
			st = ev.Stacktrace
		}
		sv := groupStacktrace(st, ev.Platform)

		var typ, value string
		// A synthetic exception's type is made up by the SDK (a signal, a
		// captured message) and varies by platform; it is not the error.
		if exc.Type != "" && (exc.Mechanism == nil || !exc.Mechanism.Synthetic) {
			typ = exc.Type
		}
		if exc.Value != "" && !(sv.appOK && sv.systemOK) {
			value = normalizeMessage(exc.Value) // not needed when stack traces contribute
		}
		app = appendException(app, typ, value, sv.app, sv.appOK)
		system = appendException(system, typ, value, sv.system, sv.systemOK)
		appStack = appStack || sv.appOK
		systemStack = systemStack || sv.systemOK
	}
	switch {
	case appStack:
		return app, true, true
	case systemStack:
		return system, true, true
	}
	// Without any stack trace both variants are type and value.
	return app, false, len(app) > 0
}

func appendException(out []string, typ, value string, stack []string, stackOK bool) []string {
	if typ != "" {
		out = append(out, typ)
	}
	if stackOK {
		return append(out, stack...)
	}
	if value != "" {
		out = append(out, value)
	}
	return out
}
