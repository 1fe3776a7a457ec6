package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tocsin/tocsin/store"
)

// maxBodyBytes bounds API request bodies; no API object comes near it.
const maxBodyBytes = 1 << 20

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers Sentry's error shape, {"detail": "…"}.
func writeError(w http.ResponseWriter, code int, detail string) {
	writeJSON(w, code, map[string]string{"detail": detail})
}

// fail maps a store error to its status code; unexpected errors are logged
// and answered 500 without their text, which may name internals.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, what string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "The requested resource does not exist")
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, what+" with this slug already exists.")
	default:
		h.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "Internal error")
	}
}

// badRequest is a client error in a request body, answered 400 with its text.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func invalidField(field, format string, args ...any) error {
	return &badRequest{field + ": " + fmt.Sprintf(format, args...)}
}

// decodeOptional is decode for bodies that may be left out entirely.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	err := decode(w, r, v)
	var br *badRequest
	if errors.As(err, &br) && br.msg == emptyBody {
		return nil
	}
	return err
}

const emptyBody = "request body is empty; expected a JSON object"

// decode reads a JSON object body into v. Unknown fields are ignored, as
// Sentry does; a field of the wrong type is an error naming the field.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var (
			typeErr   *json.UnmarshalTypeError
			syntaxErr *json.SyntaxError
			maxErr    *http.MaxBytesError
		)
		switch {
		case errors.As(err, &maxErr):
			return &badRequest{fmt.Sprintf("request body larger than %d bytes", maxBodyBytes)}
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return invalidField(typeErr.Field, "expected %s, got %s", typeName(typeErr), typeErr.Value)
		case errors.As(err, &typeErr):
			return &badRequest{"request body must be a JSON object"}
		case errors.As(err, &syntaxErr):
			return &badRequest{fmt.Sprintf("invalid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)}
		case errors.Is(err, io.EOF):
			return &badRequest{emptyBody}
		case errors.Is(err, io.ErrUnexpectedEOF):
			return &badRequest{"invalid JSON: unexpected end of body"}
		default:
			return &badRequest{"invalid JSON: " + err.Error()}
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &badRequest{"invalid JSON: data after the object"}
	}
	return nil
}

func typeName(e *json.UnmarshalTypeError) string {
	switch k := e.Type.Kind().String(); {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "bool":
		return "a boolean"
	case k == "string":
		return "a string"
	case k == "struct", k == "map":
		return "an object"
	case k == "slice":
		return "a list"
	default:
		return k
	}
}

// replyBadRequest answers a decode or validation error; it reports whether
// err was one (false means err is nil).
func replyBadRequest(w http.ResponseWriter, err error) bool {
	if err == nil {
		return false
	}
	var br *badRequest
	if errors.As(err, &br) {
		writeError(w, http.StatusBadRequest, br.msg)
		return true
	}
	writeError(w, http.StatusBadRequest, err.Error())
	return true
}
