package grouping

import (
	"strings"
	"unicode/utf8"

	"github.com/tocsin/tocsin/event"
)

// normalizeMessage is what a message or an exception value contributes to
// the hash: its first two non-blank lines ("..." marks that something was
// cut) with event-specific values replaced by placeholders, so that
// "user 42 not found" and "user 43 not found" group together.
// Followed: normalize_message_for_grouping in
// src/sentry/grouping/strategies/message.py.
func normalizeMessage(msg string) string {
	trimmed := firstLines(msg, 2)
	if trimmed != msg {
		trimmed += "..."
	}
	return parameterize(trimmed)
}

// lineBreaks are the line boundaries of Python's str.splitlines.
const lineBreaks = "\n\r\v\f\x1c\x1d\x1e\u0085\u2028\u2029"

// firstLines joins the first n lines of s that are not blank.
func firstLines(s string, n int) string {
	if !strings.ContainsAny(s, lineBreaks) {
		if strings.TrimSpace(s) == "" {
			return ""
		}
		return s
	}
	var kept []string
	for len(s) > 0 && len(kept) < n {
		line := s
		next := ""
		if i := strings.IndexAny(s, lineBreaks); i >= 0 {
			line = s[:i]
			rest := s[i:]
			if strings.HasPrefix(rest, "\r\n") {
				next = rest[2:]
			} else {
				_, size := utf8.DecodeRuneInString(rest)
				next = rest[size:]
			}
		}
		if strings.TrimSpace(line) != "" {
			kept = append(kept, line)
		}
		s = next
	}
	return strings.Join(kept, "\n")
}

// messageGrouping groups an event without exception or stack trace by its
// message: the unformatted template when the client sent one (so that
// parameters never split an issue), else the formatted message.
// Followed: message_v1 in src/sentry/grouping/strategies/message.py.
func messageGrouping(ev *event.Event) ([]string, bool) {
	msg := ev.MessageTemplate
	if msg == "" {
		msg = ev.Message
	}
	if msg == "" {
		return nil, false
	}
	return []string{normalizeMessage(msg)}, true
}
