package trello

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tocsin/tocsin/integrations/notifiertest"
)

// The fake Trello REST API: what adlio/trello v1.12.0 calls for this
// package, with the key and token in the query string as adlio sends them
// (POST and PUT parameters too, with an empty body).

const (
	testKey   = "0123456789abcdef0123456789abcdef"
	testToken = "ATTAtoken7f3e9c1d2b4a6f8e0c1d3b5a7f9e2c4d6b8a0f1e3c5d7b9a2f4e6c8d0b1a3c5"
	testList  = "5f0000000000000000000001"
	testDone  = "5f0000000000000000000002"
	testOther = "5f0000000000000000000003"
	testLabel = "60000000000000000000000a"
)

// fakeCard is a card as the fake keeps it.
type fakeCard struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Desc     string   `json:"desc"`
	IDList   string   `json:"idList"`
	IDLabels []string `json:"idLabels"`
	Due      string   `json:"due,omitempty"`
	Pos      string   `json:"-"`
	Closed   bool     `json:"closed"`
	URL      string   `json:"url"`
	ShortURL string   `json:"shortUrl"`
	Comments []string `json:"-"`
}

// fake is a Trello with some lists, answering from its state or, where
// answer says so, with a canned failure.
type fake struct {
	srv  *httptest.Server
	done chan struct{}

	mu       sync.Mutex
	lists    map[string]bool
	cards    map[string]*fakeCard
	order    []string // card ids in creation order
	requests []string // "METHOD /path"
	// answer, when it returns non-nil for a request, is answered instead
	// (after the key and token are checked).
	answer func(r *http.Request) *notifiertest.Answer
	// body, when set, is the body of canned failures.
	body string
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{
		done:  make(chan struct{}),
		lists: map[string]bool{testList: true, testDone: true, testOther: true},
		cards: map[string]*fakeCard{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /1/cards", f.createCard)
	mux.HandleFunc("PUT /1/cards/{id}", f.updateCard)
	mux.HandleFunc("POST /1/cards/{id}/actions/comments", f.addComment)
	mux.HandleFunc("GET /1/lists/{id}/cards", f.listCards)
	mux.HandleFunc("GET /1/members/me", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]string{"id": "5a0000000000000000000001", "username": "oncall"})
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Method+" "+r.URL.Path)
		answer := f.answer
		body := f.body
		f.mu.Unlock()
		q := r.URL.Query()
		switch {
		case q.Get("key") != testKey:
			http.Error(w, "invalid key", http.StatusUnauthorized)
			return
		case q.Get("token") != testToken:
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		if answer != nil {
			if a := answer(r); a != nil {
				fail(w, r, *a, body, f.done)
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.done) }) // runs first: lets hung handlers go
	return f
}

// fail answers a canned failure as Trello words them.
func fail(w http.ResponseWriter, r *http.Request, a notifiertest.Answer, body string, done chan struct{}) {
	if a.Hang {
		select {
		case <-r.Context().Done():
		case <-done:
		}
		return
	}
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	if body == "" {
		body = map[int]string{
			400: "invalid value for idList",
			401: "unauthorized permission requested",
			403: "unauthorized card permission requested",
			404: "The requested resource was not found.",
			429: `{"error":"API_TOKEN_LIMIT_EXCEEDED","message":"Rate limit exceeded"}`,
		}[a.Status]
	}
	if body == "" {
		body = http.StatusText(a.Status)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(a.Status)
	fmt.Fprint(w, body)
}

// failAll answers every request with a.
func failAll(a notifiertest.Answer) func(*http.Request) *notifiertest.Answer {
	return func(*http.Request) *notifiertest.Answer { return &a }
}

// failOn answers requests whose "METHOD /path" starts with prefix with a.
func failOn(prefix string, a notifiertest.Answer) func(*http.Request) *notifiertest.Answer {
	return func(r *http.Request) *notifiertest.Answer {
		if strings.HasPrefix(r.Method+" "+r.URL.Path, prefix) {
			return &a
		}
		return nil
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (f *fake) createCard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	list := q.Get("idList")
	if !idRE.MatchString(list) {
		http.Error(w, "invalid value for idList", http.StatusBadRequest)
		return
	}
	if !f.lists[list] {
		http.Error(w, "The requested resource was not found.", http.StatusNotFound)
		return
	}
	id := fmt.Sprintf("%024x", 0xc0ffee000+len(f.order)+1)
	short := fmt.Sprintf("Sh%06d", len(f.order)+1)
	c := &fakeCard{
		ID: id, Name: q.Get("name"), Desc: q.Get("desc"), IDList: list,
		Due: q.Get("due"), Pos: q.Get("pos"),
		URL:      "https://trello.example/c/" + short + "/card",
		ShortURL: "https://trello.example/c/" + short,
	}
	if l := q.Get("idLabels"); l != "" {
		c.IDLabels = strings.Split(l, ",")
	}
	f.cards[id] = c
	f.order = append(f.order, id)
	reply(w, c)
}

func (f *fake) updateCard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cards[r.PathValue("id")]
	if c == nil {
		http.Error(w, "The requested resource was not found.", http.StatusNotFound)
		return
	}
	if l := q.Get("idList"); l != "" {
		if !f.lists[l] {
			http.Error(w, "invalid value for idList", http.StatusBadRequest)
			return
		}
		c.IDList = l
	}
	if q.Has("closed") {
		c.Closed = q.Get("closed") == "true"
	}
	reply(w, c)
}

func (f *fake) addComment(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cards[r.PathValue("id")]
	if c == nil {
		http.Error(w, "The requested resource was not found.", http.StatusNotFound)
		return
	}
	text := r.URL.Query().Get("text")
	if text == "" {
		http.Error(w, "invalid value for text", http.StatusBadRequest)
		return
	}
	c.Comments = append(c.Comments, text)
	reply(w, map[string]any{"id": fmt.Sprintf("%024x", 0xac7000+len(c.Comments)), "type": "commentCard",
		"data": map[string]any{"text": text, "card": map[string]string{"id": c.ID}}})
}

func (f *fake) listCards(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := r.PathValue("id")
	if !f.lists[list] {
		http.Error(w, "The requested resource was not found.", http.StatusNotFound)
		return
	}
	cards := []*fakeCard{}
	for _, id := range f.order {
		if c := f.cards[id]; c.IDList == list && !c.Closed {
			cards = append(cards, c)
		}
	}
	reply(w, cards)
}

// card returns a copy of card id.
func (f *fake) card(id string) fakeCard {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.cards[id]; c != nil {
		cc := *c
		cc.Comments = append([]string(nil), c.Comments...)
		return cc
	}
	return fakeCard{}
}

// put adds a card, as someone using Trello would.
func (f *fake) put(c fakeCard) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cc := c
	f.cards[c.ID] = &cc
	f.order = append(f.order, c.ID)
}

func (f *fake) cardCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.order)
}

func (f *fake) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fake) setAnswer(answer func(*http.Request) *notifiertest.Answer, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer, f.body = answer, body
}
