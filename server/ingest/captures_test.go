package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// capturesDir holds requests recorded from real SDKs (see its README.md),
// all sent to the DSN http://0123456789abcdef0123456789abcdef@127.0.0.1:PORT/42.
const capturesDir = "../../testdata/sdk-captures"

const (
	capturedKey     = "0123456789abcdef0123456789abcdef"
	capturedProject = "/api/42/"
)

// capture is one recorded request.
type capture struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Headers map[string]string `json:"headers"`
	body    []byte
}

func loadCapture(t *testing.T, name string) *capture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(capturesDir, name+".http.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := &capture{}
	if err := json.Unmarshal(raw, c); err != nil {
		t.Fatalf("%s.http.json: %v", name, err)
	}
	if c.body, err = os.ReadFile(filepath.Join(capturesDir, name+".body")); err != nil {
		t.Fatal(err)
	}
	return c
}

// header returns a captured header, whatever the case of its name.
func (c *capture) header(name string) string {
	for k, v := range c.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// request replays the capture against ts for the key's project: the
// recorded path, headers and body, with the recorded project id and key
// replaced by the test's in the path, the query, the headers and the
// envelope header (its dsn or trace.public_key). The key has the recorded
// key's length, so the body's bytes keep their framing; a compressed body
// is left as it was. A request recorded without Content-Length is sent
// chunked, as it was.
func (c *capture) request(t *testing.T, ts *tocsinServer, k *store.ProjectKey) *http.Request {
	t.Helper()
	if !strings.HasPrefix(c.Path, capturedProject) {
		t.Fatalf("captured path %s is not of project 42", c.Path)
	}
	path := fmt.Sprintf("/api/%d/%s", k.ProjectID, strings.ReplaceAll(c.Path[len(capturedProject):], capturedKey, k.Public))
	body := c.body
	if c.header("Content-Encoding") == "" {
		head, rest, _ := bytes.Cut(body, []byte("\n"))
		head = bytes.ReplaceAll(head, []byte(capturedKey), []byte(k.Public))
		body = append(append(head, '\n'), rest...)
		if len(body) != len(c.body) {
			body = body[:len(c.body)] // a body without a newline gained one
		}
	}
	req, err := http.NewRequest(c.Method, ts.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range c.Headers {
		switch strings.ToLower(name) {
		case "host", "content-length", "transfer-encoding", "connection":
			// Set by the HTTP client from the URL and the body.
		default:
			req.Header.Set(name, strings.ReplaceAll(v, capturedKey, k.Public))
		}
	}
	if c.header("Content-Length") == "" {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), -1
		req.TransferEncoding = []string{"chunked"}
	} else if n := c.header("Content-Length"); n != fmt.Sprint(len(body)) {
		t.Fatalf("captured Content-Length %s, body of %d bytes", n, len(body))
	}
	return req
}

// eventID returns the id of the event the capture carries, "" for none:
// the envelope header's, or the store body's.
func (c *capture) eventID(t *testing.T) string {
	t.Helper()
	raw := c.body
	if c.header("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(c.Path, "/envelope/") {
		raw, _, _ = bytes.Cut(raw, []byte("\n"))
	}
	var v struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("read the captured event id: %v", err)
	}
	return strings.ReplaceAll(v.EventID, "-", "")
}

func TestIngest_SDKCaptures(t *testing.T) {
	t.Parallel()
	events := []struct {
		capture string
		title   string // the issue's
		level   string
	}{
		{"python-sentry-sdk-1.9.10-store-exception", "KeyError: 'missing'", "error"},
		{"python-sentry-sdk-1.9.10-store-message", "payment service answered 503 for order 123", "info"},
		{"node-sdk-11.12.0-envelope-exception", "SyntaxError: Expected property name or '}' in JSON at position 1", "error"},
		// A message with a stack trace: a synthetic exception without a type.
		{"node-sdk-11.12.0-envelope-message", "Error: cache miss storm", "info"},
		{"sentry-cli-2.58.6-send-event", "deploy failed on host web-3", "error"},
	}
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ts := newFixture(t, st).serve(t)
		k := ts.boot.Key
		for _, tc := range events {
			t.Run(tc.capture, func(t *testing.T) {
				t.Parallel()
				c := loadCapture(t, tc.capture)
				id := c.eventID(t)
				if len(id) != 32 {
					t.Fatalf("captured event id %q", id)
				}
				rep := ts.do(t, c.request(t, ts, k))
				if rep.status != http.StatusOK || strings.TrimSpace(string(rep.body)) != `{"id":"`+id+`"}` {
					t.Fatalf("replay answered %d %s, want 200 {\"id\":%q}", rep.status, rep.body, id)
				}
				e := ts.event(t, id)
				is := ts.listedIssue(t, e.GroupID)
				if is.Title != tc.title {
					t.Errorf("issue title = %q, want %q", is.Title, tc.title)
				}
				if is.Level != tc.level || is.Count != "1" {
					t.Errorf("issue = %+v, want level %s, count 1", is, tc.level)
				}
			})
		}

		t.Run("node-sdk-11.12.0-envelope-session", func(t *testing.T) {
			t.Parallel()
			// Sessions are counted in their own project; the events above
			// would not disturb the count, but a shared one would read less clearly.
			ctx := context.Background()
			p, pk, err := st.ProjectCreate(ctx, ts.boot.Organization.ID, ts.boot.Team.ID,
				&store.ProjectCreateParams{Slug: "sessions", Name: "Sessions", Platform: "node"})
			if err != nil {
				t.Fatal(err)
			}
			before, err := st.ProjectAcceptedSince(ctx, p.ID, "session", 0)
			if err != nil {
				t.Fatal(err)
			}
			c := loadCapture(t, "node-sdk-11.12.0-envelope-session")
			rep := ts.do(t, c.request(t, ts, pk))
			if rep.status != http.StatusOK || strings.TrimSpace(string(rep.body)) != "{}" {
				t.Fatalf("session replay answered %d %s, want 200 {}", rep.status, rep.body)
			}
			// No API reads session counts yet; the accepted sessions are
			// counted in the same transaction as the session_counts row.
			after, err := st.ProjectAcceptedSince(ctx, p.ID, "session", 0)
			if err != nil {
				t.Fatal(err)
			}
			if after != before+1 {
				t.Errorf("accepted sessions went from %d to %d, want one more", before, after)
			}
		})
	})
}
