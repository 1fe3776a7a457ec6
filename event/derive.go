package event

import (
	"path"
	"strings"
)

// Metadata is what an issue shows of its events, as Sentry's event
// metadata: for errors the exception's type and value and where it was
// raised; for messages the message.
type Metadata struct {
	Type     string `json:"type,omitempty"`
	Value    string `json:"value,omitempty"`
	Filename string `json:"filename,omitempty"`
	Function string `json:"function,omitempty"`
	Title    string `json:"title,omitempty"`
}

// maxTitle bounds titles, as Sentry truncates them.
const maxTitle = 200

// mainException is the exception an issue is named after: the last one of
// the chain (the outermost), skipping synthetic ones when another exists.
func (e *Event) mainException() *Exception {
	for i := len(e.Exceptions) - 1; i >= 0; i-- {
		if m := e.Exceptions[i].Mechanism; m == nil || !m.Synthetic || i == 0 {
			return &e.Exceptions[i]
		}
	}
	return nil
}

// Metadata derives the event's metadata.
func (e *Event) Metadata() Metadata {
	if exc := e.mainException(); exc != nil {
		md := Metadata{Type: exc.Type, Value: truncate(firstLine(exc.Value), maxTitle)}
		if md.Type == "" {
			md.Type = "Error"
		}
		if f := culpritFrame(exc.Stacktrace); f != nil {
			md.Filename, md.Function = f.Filename, f.Function
		}
		return md
	}
	msg := firstLine(e.Message)
	if msg == "" {
		msg = "<unlabeled event>"
	}
	return Metadata{Title: truncate(msg, maxTitle)}
}

// Title is how an issue is named: "Type: value" for errors, the first line
// of the message otherwise.
func (e *Event) Title() string {
	md := e.Metadata()
	switch {
	case md.Title != "":
		return md.Title
	case md.Value != "":
		return truncate(md.Type+": "+md.Value, maxTitle)
	default:
		return md.Type
	}
}

// DerivedCulprit is where the event happened, as Sentry chooses it: the
// client's culprit, else the transaction, else "module in function" of the
// most recent in-app frame (or most recent frame), else the request URL.
func (e *Event) DerivedCulprit() string {
	if e.Culprit != "" {
		return e.Culprit
	}
	if e.Transaction != "" {
		return truncate(e.Transaction, maxCulprit)
	}
	var st *Stacktrace
	if exc := e.mainException(); exc != nil {
		st = exc.Stacktrace
	}
	if st == nil {
		st = e.threadStacktrace()
	}
	if st == nil {
		st = e.Stacktrace
	}
	if f := culpritFrame(st); f != nil {
		loc := f.Module
		if loc == "" {
			loc = f.Filename
		}
		if loc == "" {
			loc = path.Base(f.AbsPath)
		}
		fn := f.Function
		if fn == "" {
			fn = "?"
		}
		if loc != "" {
			return truncate(loc+" in "+fn, maxCulprit)
		}
		return truncate(fn, maxCulprit)
	}
	if e.Request != nil && e.Request.URL != "" {
		u, _, _ := strings.Cut(e.Request.URL, "?")
		return truncate(u, maxCulprit)
	}
	return ""
}

// threadStacktrace is the stack trace of the crashed thread, else the
// current one, else the only one.
func (e *Event) threadStacktrace() *Stacktrace {
	for _, want := range []func(Thread) bool{
		func(t Thread) bool { return t.Crashed }, func(t Thread) bool { return t.Current },
	} {
		for _, t := range e.Threads {
			if want(t) && t.Stacktrace != nil {
				return t.Stacktrace
			}
		}
	}
	if len(e.Threads) == 1 {
		return e.Threads[0].Stacktrace
	}
	return nil
}

// culpritFrame is the most recent in-app frame, or the most recent frame
// when none is in-app.
func culpritFrame(st *Stacktrace) *Frame {
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

// Handled reports whether every exception was handled; nil when the
// client did not say.
func (e *Event) Handled() *bool {
	var out *bool
	for _, exc := range e.Exceptions {
		if exc.Mechanism != nil && exc.Mechanism.Handled != nil {
			h := *exc.Mechanism.Handled
			if out != nil && !*out {
				continue
			}
			out = &h
		}
	}
	return out
}

// IndexTags are the tags an event is searched and counted by: its own tags
// plus those Sentry derives (level, environment, release, transaction,
// server name, logger, url, user, handled, mechanism).
func (e *Event) IndexTags() []Tag {
	out := make([]Tag, 0, len(e.Tags)+10)
	seen := map[string]bool{}
	add := func(k, v string) {
		if v == "" || seen[k] {
			return
		}
		seen[k] = true
		out = append(out, Tag{Key: k, Value: truncate(v, maxTagValue)})
	}
	add("level", e.Level)
	add("environment", e.Environment)
	add("release", e.Release)
	add("transaction", e.Transaction)
	add("server_name", e.ServerName)
	add("logger", e.Logger)
	if e.Request != nil {
		u, _, _ := strings.Cut(e.Request.URL, "?")
		add("url", u)
	}
	add("user", e.User.Identity())
	if h := e.Handled(); h != nil {
		add("handled", map[bool]string{true: "yes", false: "no"}[*h])
	}
	if exc := e.mainException(); exc != nil && exc.Mechanism != nil {
		add("mechanism", exc.Mechanism.Type)
	}
	for _, t := range e.Tags {
		add(t.Key, t.Value)
	}
	return out
}
