// Package trellotest is a fake of Trello for tests, as net/http/httptest
// is of an HTTP server: an in-process REST API with a board's lists and
// cards in memory, answering what adlio/trello v1.12.0 calls for Tocsin's
// Trello integration, with the key and token in the query string as adlio
// sends them (POST and PUT parameters too, with an empty body), so that the
// real client works against it unmodified.
//
// The API is at APIURL, the base ending in /1. Every request must carry
// Key and Token; the board has the lists ListID, ResolvedListID and
// OtherListID.
package trellotest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tocsin/tocsin/integrations/notifiertest"
)

const (
	// Key and Token are the only credentials the fake takes.
	Key   = "0123456789abcdef0123456789abcdef"
	Token = "ATTAtoken7f3e9c1d2b4a6f8e0c1d3b5a7f9e2c4d6b8a0f1e3c5d7b9a2f4e6c8d0b1a3c5"
	// Lists of the board.
	ListID         = "5f0000000000000000000001"
	ResolvedListID = "5f0000000000000000000002"
	OtherListID    = "5f0000000000000000000003"
)

// idRE is a Trello object id: 24 lowercase hex digits.
var idRE = regexp.MustCompile(`^[0-9a-f]{24}$`)

// Card is a card as the fake keeps it.
type Card struct {
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

// Server is the fake Trello, answering from its state or, where
// SetAnswer says so, with a canned failure. Its methods are safe for
// concurrent use.
type Server struct {
	*httptest.Server
	done chan struct{}

	mu       sync.Mutex
	lists    map[string]bool
	cards    map[string]*Card
	order    []string // card ids in creation order
	requests []string // "METHOD /path"
	// answer, when it returns non-nil for a request, is answered instead
	// (after the key and token are checked).
	answer func(r *http.Request) *notifiertest.Answer
	// body, when set, is the body of canned failures.
	body string
}

// NewServer starts a fake Trello with empty lists; it stops when the
// test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		done:  make(chan struct{}),
		lists: map[string]bool{ListID: true, ResolvedListID: true, OtherListID: true},
		cards: map[string]*Card{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /1/cards", s.createCard)
	mux.HandleFunc("PUT /1/cards/{id}", s.updateCard)
	mux.HandleFunc("POST /1/cards/{id}/actions/comments", s.addComment)
	mux.HandleFunc("GET /1/lists/{id}/cards", s.listCards)
	mux.HandleFunc("GET /1/members/me", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]string{"id": "5a0000000000000000000001", "username": "oncall"})
	})
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.Path)
		answer := s.answer
		body := s.body
		s.mu.Unlock()
		q := r.URL.Query()
		switch {
		case q.Get("key") != Key:
			http.Error(w, "invalid key", http.StatusUnauthorized)
			return
		case q.Get("token") != Token:
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		if answer != nil {
			if a := answer(r); a != nil {
				fail(w, r, *a, body, s.done)
				return
			}
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.done) }) // runs first: lets hung handlers go
	return s
}

// APIURL is the REST base to give a client, ending in /1.
func (s *Server) APIURL() string { return s.URL + "/1" }

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

// FailAll answers every request with a.
func FailAll(a notifiertest.Answer) func(*http.Request) *notifiertest.Answer {
	return func(*http.Request) *notifiertest.Answer { return &a }
}

// FailOn answers requests whose "METHOD /path" starts with prefix with a.
func FailOn(prefix string, a notifiertest.Answer) func(*http.Request) *notifiertest.Answer {
	return func(r *http.Request) *notifiertest.Answer {
		if strings.HasPrefix(r.Method+" "+r.URL.Path, prefix) {
			return &a
		}
		return nil
	}
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) createCard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	list := q.Get("idList")
	if !idRE.MatchString(list) {
		http.Error(w, "invalid value for idList", http.StatusBadRequest)
		return
	}
	if !s.lists[list] {
		http.Error(w, "The requested resource was not found.", http.StatusNotFound)
		return
	}
	id := fmt.Sprintf("%024x", 0xc0ffee000+len(s.order)+1)
	short := fmt.Sprintf("Sh%06d", len(s.order)+1)
	c := &Card{
		ID: id, Name: q.Get("name"), Desc: q.Get("desc"), IDList: list,
		Due: q.Get("due"), Pos: q.Get("pos"),
		URL:      "https://trello.example/c/" + short + "/card",
		ShortURL: "https://trello.example/c/" + short,
	}
	if l := q.Get("idLabels"); l != "" {
		c.IDLabels = strings.Split(l, ",")
	}
	s.cards[id] = c
	s.order = append(s.order, id)
	reply(w, c)
}

func (s *Server) updateCard(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cards[r.PathValue("id")]
	if c == nil {
		http.Error(w, "The requested resource was not found.", http.StatusNotFound)
		return
	}
	if l := q.Get("idList"); l != "" {
		if !s.lists[l] {
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

func (s *Server) addComment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cards[r.PathValue("id")]
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

func (s *Server) listCards(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := r.PathValue("id")
	if !s.lists[list] {
		http.Error(w, "The requested resource was not found.", http.StatusNotFound)
		return
	}
	cards := []*Card{}
	for _, id := range s.order {
		if c := s.cards[id]; c.IDList == list && !c.Closed {
			cards = append(cards, c)
		}
	}
	reply(w, cards)
}

// copyCard is c with its own comments; s.mu is held.
func copyCard(c *Card) Card {
	cc := *c
	cc.Comments = append([]string(nil), c.Comments...)
	return cc
}

// Card returns a copy of card id, the zero Card when there is none.
func (s *Server) Card(id string) Card {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cards[id]; c != nil {
		return copyCard(c)
	}
	return Card{}
}

// Cards returns copies of every card, in creation order.
func (s *Server) Cards() []Card {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Card, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, copyCard(s.cards[id]))
	}
	return out
}

// Put adds a card, as someone using Trello would.
func (s *Server) Put(c Card) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cc := c
	s.cards[c.ID] = &cc
	s.order = append(s.order, c.ID)
}

// CardCount is how many cards there are, archived ones included.
func (s *Server) CardCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.order)
}

// Requests are the requests received, as "METHOD /path", in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// SetAnswer makes the fake answer answer(r) instead of serving r when it
// is not nil, with body as the failure's text ("" for Trello's usual
// wording); SetAnswer(nil, "") serves everything again.
func (s *Server) SetAnswer(answer func(*http.Request) *notifiertest.Answer, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer, s.body = answer, body
}
