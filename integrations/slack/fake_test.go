package slack

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

const (
	testToken       = "xoxb-1111-2222-SECRETbottoken"
	testWebhookPath = "/services/T0001/B0002/SECRETwebhookpath"
	testSigning     = "8f742231b10e8888abcd99yyyzzz85a5"
)

// answer is what the fake answers to one method.
type answer struct {
	Status     int    // HTTP status, 0 for 200
	RetryAfter string // the Retry-After header
	Error      string // {"ok": false, "error": Error} (Web API) or the body (webhook)
	Hang       bool   // no answer until the request's context ends
	Body       string // a raw body instead of the usual one
}

// request is one call the fake received.
type request struct {
	Method string     // chat.postMessage, chat.update, auth.test, webhook
	Form   url.Values // Web API calls (form or JSON bodies, as strings)
	JSON   map[string]any
}

// fakeSlack speaks enough of Slack's Web API and incoming webhooks for
// slack-go to work unmodified: it checks the token, records requests and
// answers from its table (ok by default).
type fakeSlack struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]answer
	reqs    []request
	seq     int
}

func newFake(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{answers: map[string]answer{}}
	mux := http.NewServeMux()
	for _, m := range []string{"chat.postMessage", "chat.update", "auth.test"} {
		mux.HandleFunc("POST /api/"+m, func(w http.ResponseWriter, r *http.Request) { f.api(t, m, w, r) })
	}
	mux.HandleFunc("POST "+testWebhookPath, f.webhook)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.CloseClientConnections()
		f.Close()
	})
	return f
}

// set makes method answer a.
func (f *fakeSlack) set(method string, a answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[method] = a
}

func (f *fakeSlack) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

func (f *fakeSlack) record(method string, form url.Values, js map[string]any) (answer, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, request{Method: method, Form: form, JSON: js})
	f.seq++
	return f.answers[method], f.seq
}

// wait answers a's status, or hangs.
func wait(w http.ResponseWriter, r *http.Request, a answer) bool {
	if a.Hang {
		<-r.Context().Done()
		return true
	}
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

func (f *fakeSlack) api(t *testing.T, method string, w http.ResponseWriter, r *http.Request) {
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
	if wait(w, r, a) {
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case a.Body != "":
		io.WriteString(w, a.Body)
		return
	case token == "":
		a.Error = "not_authed"
	case token != testToken:
		a.Error = "invalid_auth"
	}
	if a.Error != "" {
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": a.Error})
		return
	}
	channel := form.Get("channel")
	if strings.HasPrefix(channel, "#") {
		channel = "C0" + strings.ToUpper(strings.TrimPrefix(channel, "#"))
	}
	ts := fmt.Sprintf("1700000000.%06d", seq)
	switch method {
	case "chat.postMessage":
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": channel, "ts": ts,
			"message": map[string]any{"type": "message", "text": form.Get("text"), "ts": ts, "thread_ts": form.Get("thread_ts")}})
	case "chat.update":
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": channel, "ts": form.Get("ts"), "text": form.Get("text")})
	case "auth.test":
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "https://tocsin.slack.com/", "team": "Tocsin",
			"user": "tocsin", "team_id": "T0001", "user_id": "U0BOT", "bot_id": "B0BOT"})
	default:
		t.Errorf("fake: unexpected method %s", method)
	}
}

// webhook is an incoming webhook: JSON in, "ok" or an error code out.
func (f *fakeSlack) webhook(w http.ResponseWriter, r *http.Request) {
	var js map[string]any
	if err := json.NewDecoder(r.Body).Decode(&js); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	a, _ := f.record("webhook", nil, js)
	if wait(w, r, a) {
		return
	}
	w.Header().Set("Content-Type", "text/html")
	io.WriteString(w, "ok")
}
