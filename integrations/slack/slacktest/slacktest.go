// Package slacktest is a fake of Slack's Web API and incoming webhooks for
// tests, in the manner of net/http/httptest: it speaks enough of the API
// for slack-go to work unmodified against it (point a client at
// URL()+"/api/"), keeps the messages posted per channel with their
// metadata, and answers errors, rate limits and hangs on demand.
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Answer is what the fake answers to one method.
type Answer struct {
	Status     int    // HTTP status, 0 for 200
	RetryAfter string // the Retry-After header
	Error      string // {"ok": false, "error": Error} (Web API) or the body (webhook)
	// Hang gives no answer until the request's context ends (or the
	// client goes away). A hanging chat.postMessage still posts, as Slack
	// does with a request it received.
	Hang bool
	Body string // a raw body instead of the usual one
	// Times limits the answer to the next Times calls (0: every call);
	// then the method answers normally again.
	Times int
}

// Request is one call the fake received.
type Request struct {
	Method string     // chat.postMessage, chat.update, auth.test, conversations.history, webhook…
	Form   url.Values // Web API calls (form or JSON bodies, as strings)
	JSON   map[string]any
}

// Message is a message the fake holds in a channel.
type Message struct {
	TS       string
	ThreadTS string
	Text     string
	// Metadata is the message's metadata as posted ({"event_type": …,
	// "event_payload": {…}}), nil when none.
	Metadata map[string]any
}

// Server is the fake. Channels named in posts as "#name" get the id
// "C0"+NAME in upper case.
type Server struct {
	*httptest.Server
	t           *testing.T
	token       string
	webhookPath string

	mu       sync.Mutex
	answers  map[string]Answer
	reqs     []Request
	seq      int
	channels map[string][]Message // by channel id
}

// NewServer starts a fake that accepts the bot token token and an
// incoming webhook at webhookPath ("" for none). It is closed when the
// test ends.
func NewServer(t *testing.T, token, webhookPath string) *Server {
	t.Helper()
	f := &Server{t: t, token: token, webhookPath: webhookPath, answers: map[string]Answer{}, channels: map[string][]Message{}}
	mux := http.NewServeMux()
	for _, m := range []string{"chat.postMessage", "chat.update", "auth.test", "conversations.history", "conversations.list"} {
		mux.HandleFunc("POST /api/"+m, func(w http.ResponseWriter, r *http.Request) { f.api(m, w, r) })
	}
	if webhookPath != "" {
		mux.HandleFunc("POST "+webhookPath, f.webhook)
	}
	f.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.CloseClientConnections()
		f.Close()
	})
	return f
}

// APIURL is the Web API base to configure a client with.
func (f *Server) APIURL() string { return f.URL + "/api/" }

// Set makes method answer a.
func (f *Server) Set(method string, a Answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[method] = a
}

// Requests returns the calls received so far.
func (f *Server) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// Calls counts the calls of method received so far.
func (f *Server) Calls(method string) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// Messages returns the messages posted to a channel (by id), oldest first.
func (f *Server) Messages(channel string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.channels[channel]...)
}

// ChannelID is the id the fake gives the channel #name.
func ChannelID(name string) string {
	return "C0" + strings.ToUpper(strings.TrimPrefix(name, "#"))
}

func (f *Server) record(method string, form url.Values, js map[string]any) (Answer, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, Request{Method: method, Form: form, JSON: js})
	f.seq++
	a := f.answers[method]
	if a.Times > 0 {
		if a.Times == 1 {
			delete(f.answers, method)
		} else {
			f.answers[method] = Answer{Status: a.Status, RetryAfter: a.RetryAfter, Error: a.Error, Hang: a.Hang,
				Body: a.Body, Times: a.Times - 1}
		}
	}
	return a, f.seq
}

// status answers a's HTTP status and reports whether it did.
func status(w http.ResponseWriter, a Answer) bool {
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	if a.Status != 0 && a.Status != http.StatusOK {
		w.WriteHeader(a.Status)
		io.WriteString(w, a.Error)
		return true
	}
	return false
}

func (f *Server) api(method string, w http.ResponseWriter, r *http.Request) {
	form := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var js map[string]any
		if err := json.NewDecoder(r.Body).Decode(&js); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		for k, v := range js {
			if s, ok := v.(string); ok {
				form.Set(k, s)
			} else {
				b, _ := json.Marshal(v)
				form.Set(k, string(b))
			}
		}
	} else if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	} else {
		form = r.PostForm
	}
	// Slack takes the token as a bearer header or a form field; slack-go
	// sends the field.
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = form.Get("token")
	}
	form.Del("token")
	a, seq := f.record(method, form, nil)
	if !a.Hang && status(w, a) {
		return
	}
	switch {
	case a.Body != "":
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, a.Body)
		return
	case token == "":
		a.Error = "not_authed"
	case token != f.token:
		a.Error = "invalid_auth"
	}
	if a.Error != "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": a.Error})
		return
	}
	channel := form.Get("channel")
	if strings.HasPrefix(channel, "#") {
		channel = ChannelID(channel)
	}
	ts := fmt.Sprintf("1700000000.%06d", seq)
	var out map[string]any
	switch method {
	case "chat.postMessage":
		m := Message{TS: ts, ThreadTS: form.Get("thread_ts"), Text: form.Get("text")}
		if raw := form.Get("metadata"); raw != "" {
			_ = json.Unmarshal([]byte(raw), &m.Metadata)
		}
		f.mu.Lock()
		f.channels[channel] = append(f.channels[channel], m)
		f.mu.Unlock()
		out = map[string]any{"ok": true, "channel": channel, "ts": ts,
			"message": map[string]any{"type": "message", "text": m.Text, "ts": ts, "thread_ts": m.ThreadTS}}
	case "chat.update":
		out = map[string]any{"ok": true, "channel": channel, "ts": form.Get("ts"), "text": form.Get("text")}
	case "auth.test":
		out = map[string]any{"ok": true, "url": "https://tocsin.slack.com/", "team": "Tocsin",
			"user": "tocsin", "team_id": "T0001", "user_id": "U0BOT", "bot_id": "B0BOT"}
	case "conversations.list":
		f.mu.Lock()
		var list []map[string]any
		for id := range f.channels {
			list = append(list, map[string]any{"id": id, "name": strings.ToLower(strings.TrimPrefix(id, "C0")), "is_channel": true})
		}
		f.mu.Unlock()
		out = map[string]any{"ok": true, "channels": list, "response_metadata": map[string]any{"next_cursor": ""}}
	case "conversations.history":
		// Newest first, as Slack answers; metadata only when asked for.
		msgs := f.Messages(channel)
		withMeta := form.Get("include_all_metadata") == "1" || form.Get("include_all_metadata") == "true"
		var list []map[string]any
		for i := len(msgs) - 1; i >= 0; i-- {
			m := msgs[i]
			if m.ThreadTS != "" {
				continue // replies live in their thread
			}
			js := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
			if withMeta && m.Metadata != nil {
				js["metadata"] = m.Metadata
			}
			list = append(list, js)
		}
		out = map[string]any{"ok": true, "messages": list, "has_more": false}
	default:
		f.t.Errorf("slacktest: unexpected method %s", method)
		return
	}
	if a.Hang {
		// The call took effect; the answer never comes.
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(out)
}

// webhook is an incoming webhook: JSON in, "ok" or an error code out.
func (f *Server) webhook(w http.ResponseWriter, r *http.Request) {
	var js map[string]any
	if err := json.NewDecoder(r.Body).Decode(&js); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	a, _ := f.record("webhook", nil, js)
	if a.Hang {
		<-r.Context().Done()
		return
	}
	if status(w, a) {
		return
	}
	w.Header().Set("Content-Type", "text/html")
	io.WriteString(w, "ok")
}
