package envelope

import (
	"fmt"
	"net/http"
)

// Error is why Parse refused an envelope, with the HTTP status ingest should
// answer: 400 for malformed input, 413 for input past a limit. The reason is
// safe to send back to the client.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return "envelope: " + e.Reason }

// malformed returns a 400 *Error.
func malformed(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Reason: fmt.Sprintf(format, args...)}
}

// tooLarge returns a 413 *Error.
func tooLarge(format string, args ...any) *Error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Reason: fmt.Sprintf(format, args...)}
}
