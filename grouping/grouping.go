// Package grouping decides which issue an event belongs to: it computes
// the event's grouping hash the way Sentry does, so that the errors the
// official SDKs send group into the issues their users expect.
//
// Precedence, highest first:
//
//  1. a fingerprint: the client's (with {{ default }} and the other
//     variables expanded), else a built-in rule (JavaScript chunk load and
//     hydration errors);
//  2. the exceptions: type and in-app stack trace of each exception of the
//     chain (all frames when none is in-app), or type and value when no
//     stack trace contributes;
//  3. the stack trace of the crashed, current or only thread, or the
//     legacy top-level stack trace;
//  4. the message, its template when there is one, with numbers, ids,
//     addresses, dates… replaced by placeholders;
//  5. a constant per platform.
//
// The hash is the MD5 of the contributing values, concatenated, as
// Sentry's hash_from_values: a fingerprint ["foo"] or a message-only event
// gets the hash Sentry would give it.
//
// Where Tocsin goes beyond Sentry, so that deploys do not split issues:
// build hashes are dropped anywhere in JavaScript file and module names
// (Sentry: only at the end), Java anonymous class numbers (Foo$1) and JDK
// 21 lambda classes are normalized, and Go closure numbers (.func1,
// .gowrap2) are dropped. Sentry's fallback hashes nothing; Tocsin's
// includes the platform.
//
// Left out: project stack trace and fingerprint rules (only the built-in
// ones, as code), Sentry's category rules that look at neighbouring native
// frames, the exception group tree (mechanism exception_id/parent_id are
// not in event.Exception), NSError domain and code, source map hints, and
// the security (CSP) strategies.
//
// Followed: src/sentry/grouping/ of https://github.com/getsentry/sentry
// (api.py, variants.py, strategies/newstyle.py, strategies/message.py,
// parameterization.py, enhancer/ and fingerprinting/ defaults) and
// https://docs.sentry.io/concepts/data-management/event-grouping/.
package grouping

import (
	"crypto/md5"
	"encoding/hex"

	"github.com/tocsin/tocsin/event"
)

// Version identifies the algorithm; stored with each issue so it can change
// later without splitting existing issues. "tocsin:2026-11" is Tocsin's
// first: Sentry's newstyle strategies and the built-in stack trace rules of
// all-platforms@2026-01-20, with the additions in the package comment.
// Any change to the hash Group returns for some event needs a new Version
// (testdata/golden.json refuses to be rewritten otherwise).
const Version = "tocsin:2026-11"

// Grouping methods: what the hash was computed from.
const (
	MethodFingerprint = "fingerprint"
	MethodStacktrace  = "stacktrace"
	MethodException   = "exception"
	MethodMessage     = "message"
	MethodFallback    = "fallback"
)

// Result is the grouping of one event.
type Result struct {
	Hash    string // 32 lowercase hex chars (md5 of the components, as Sentry)
	Method  string // "fingerprint", "stacktrace", "exception", "message", "fallback"
	Version string
}

// Group computes the grouping of ev.
func Group(ev *event.Event) Result {
	if ev == nil {
		ev = &event.Event{}
	}
	if fp := customFingerprint(ev); fp != nil {
		return result(resolveFingerprint(fp, ev), MethodFingerprint)
	}
	g := defaultGrouping(ev)
	return result(g.values, g.method)
}

// grouping is what a strategy contributes: the values to hash and how.
type grouping struct {
	values []string
	method string
}

// defaultGrouping runs the strategies in Sentry's order of precedence
// (chained-exception, threads, stacktrace, message) and takes the first
// that contributes.
func defaultGrouping(ev *event.Event) grouping {
	if vals, hasStack, ok := exceptionGrouping(ev); ok {
		if hasStack {
			return grouping{vals, MethodStacktrace}
		}
		return grouping{vals, MethodException}
	}
	if st, ok := threadStacktrace(ev.Threads); ok {
		if vals, ok := groupStacktrace(st, ev.Platform).best(); ok {
			return grouping{vals, MethodStacktrace}
		}
	}
	if len(ev.Exceptions) != 1 { // else it was the exception's
		if vals, ok := groupStacktrace(ev.Stacktrace, ev.Platform).best(); ok {
			return grouping{vals, MethodStacktrace}
		}
	}
	if vals, ok := messageGrouping(ev); ok {
		return grouping{vals, MethodMessage}
	}
	// Sentry's fallback hashes nothing, the same for every event; the
	// platform at least keeps a Python and a browser project's empty
	// events apart.
	return grouping{[]string{"<fallback>", ev.Platform}, MethodFallback}
}

// result hashes values as Sentry's hash_from_values: MD5 of their UTF-8
// bytes, one after the other.
func result(values []string, method string) Result {
	n := 0
	for _, v := range values {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	for _, v := range values {
		buf = append(buf, v...)
	}
	sum := md5.Sum(buf)
	return Result{Hash: hex.EncodeToString(sum[:]), Method: method, Version: Version}
}
