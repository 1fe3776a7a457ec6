// Package event is Tocsin's model of a Sentry event: the fields grouping,
// rules and notifications read, decoded from the protocol's many accepted
// shapes (https://develop.sentry.dev/sdk/data-model/event-payloads/), next
// to the whole normalized JSON that is stored and served back.
package event

import "time"

// Levels, as Sentry names them.
const (
	LevelFatal   = "fatal"
	LevelError   = "error"
	LevelWarning = "warning"
	LevelInfo    = "info"
	LevelDebug   = "debug"
)

// Event is one normalized event.
type Event struct {
	// ID is 32 lowercase hex characters (a UUID without dashes).
	ID          string
	Type        string // "error", "default" (messages), "transaction", "csp"…
	Timestamp   time.Time
	Received    time.Time
	Platform    string
	Level       string
	Logger      string
	Transaction string
	ServerName  string
	Release     string
	Dist        string
	Environment string
	// Message is the formatted log message (logentry.formatted, or
	// logentry.message, or the legacy message string).
	Message string
	// MessageTemplate is logentry.message when params were given: the
	// unformatted message, which groups better than the formatted one.
	MessageTemplate string
	// Culprit is the client-sent culprit; Tocsin derives one when empty.
	Culprit string
	// Exceptions in the order of the payload: the last is the outermost
	// (the one raised last), as Sentry's exception interface defines it.
	Exceptions []Exception
	// Threads carries a stack trace when there is no exception (e.g. a
	// message captured with attach_stacktrace).
	Threads []Thread
	// Stacktrace is the legacy top-level stack trace interface.
	Stacktrace  *Stacktrace
	Fingerprint []string
	Tags        []Tag
	User        *User
	Request     *Request
	SDK         SDK
	// Data is the whole normalized event JSON: what is stored and what the
	// API returns. Typed fields above are read from it.
	Data map[string]any
}

// Exception is one exception of a (possibly chained) error.
type Exception struct {
	Type       string
	Value      string
	Module     string
	Mechanism  *Mechanism
	Stacktrace *Stacktrace
}

// Mechanism says how an exception was caught.
type Mechanism struct {
	Type    string
	Handled *bool
	// Synthetic exceptions (e.g. a signal) have no meaningful type to group by.
	Synthetic bool
}

// Thread is a thread of a crashed or captured process.
type Thread struct {
	ID         string
	Name       string
	Crashed    bool
	Current    bool
	Stacktrace *Stacktrace
}

// Stacktrace holds frames oldest first: the last frame is where the error was raised.
type Stacktrace struct {
	Frames []Frame
}

// Frame is one stack frame.
type Frame struct {
	Filename    string
	AbsPath     string
	Module      string
	Package     string
	Function    string
	RawFunction string
	Platform    string
	ContextLine string
	Lineno      int
	Colno       int
	// InApp is nil when the client did not say.
	InApp *bool
}

// IsInApp reports whether the frame is marked in-app.
func (f *Frame) IsInApp() bool { return f.InApp != nil && *f.InApp }

// Tag is one key/value tag; order is kept as sent.
type Tag struct {
	Key   string
	Value string
}

// User is the user the event happened to.
type User struct {
	ID        string
	Email     string
	Username  string
	IPAddress string
}

// Identity is what counts a distinct user: the first of id, email,
// username, ip address, prefixed with its kind, as Sentry's user tag does
// ("id:42", "email:a@b.c", "ip:10.0.0.1"). Empty when nothing identifies the user.
func (u *User) Identity() string {
	switch {
	case u == nil:
		return ""
	case u.ID != "":
		return "id:" + u.ID
	case u.Email != "":
		return "email:" + u.Email
	case u.Username != "":
		return "username:" + u.Username
	case u.IPAddress != "":
		return "ip:" + u.IPAddress
	}
	return ""
}

// Request is the HTTP request the event happened in.
type Request struct {
	URL    string
	Method string
}

// SDK names the client that sent the event.
type SDK struct {
	Name    string
	Version string
}

// Tag returns the value of the tag with that key, and whether it is there.
func (e *Event) Tag(key string) (string, bool) {
	for _, t := range e.Tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}
