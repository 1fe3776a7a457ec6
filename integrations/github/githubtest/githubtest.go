// Package githubtest is a fake of GitHub for tests, as net/http/httptest
// is of an HTTP server: an in-process REST API holding repositories'
// issues and comments in memory, speaking the parts of the API that
// Tocsin's GitHub integration uses closely enough for the real
// google/go-github to work against it unmodified, and making the "issues"
// webhooks GitHub would send when someone closes or reopens an issue.
//
// The API is mounted under /api/v3/, as GitHub Enterprise Server's is;
// APIURL is the base to give a client. Every request must carry Token.
package githubtest

import (
	"bytes"
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// Token is the only token the fake takes.
	Token = "ghp_t0ps3cretT0kenForTests1234567890ab"
	// Login is the token's user, the author of what the token files.
	Login = "tocsin-bot"
	// APIPrefix is where the REST API is mounted.
	APIPrefix = "/api/v3"
)

// Routes of the fake, as ServeMux patterns; Fail and Count take them.
const (
	RouteUser         = "GET /user"
	RouteRepo         = "GET /repos/{owner}/{repo}"
	RouteListIssues   = "GET /repos/{owner}/{repo}/issues"
	RouteCreateIssue  = "POST /repos/{owner}/{repo}/issues"
	RouteEditIssue    = "PATCH /repos/{owner}/{repo}/issues/{number}"
	RouteListComments = "GET /repos/{owner}/{repo}/issues/{number}/comments"
	RouteComment      = "POST /repos/{owner}/{repo}/issues/{number}/comments"
	RouteSearch       = "GET /search/issues"
	// AnyRoute makes a failure apply to every route without its own.
	AnyRoute = "*"
)

// Answer is a failure the fake gives instead of the real answer.
type Answer struct {
	Status int
	Header map[string]string
	Body   string // JSON; "" for GitHub's {"message", "documentation_url"}
	Hang   bool   // never answer
	// Commit does what was asked before failing, as when GitHub acted but
	// its answer was lost on the way.
	Commit bool
}

// Issue is a GitHub issue as the fake keeps it.
type Issue struct {
	Number      int
	Title       string
	Body        string
	State       string // "open" or "closed"
	StateReason string
	Labels      []string
	Assignees   []string
	Author      string
	PullRequest bool
	Comments    []*Comment
}

// Comment is a comment on an Issue.
type Comment struct {
	ID     int64
	Body   string
	Author string
}

// Server is the fake GitHub. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	t    testing.TB
	hang chan struct{}

	mu        sync.Mutex
	login     string              // who the token is; "" makes GET /user refuse, as for installation tokens
	repos     map[string][]*Issue // by lower-case "owner/repo"; issue n at n-1
	fails     map[string]Answer
	calls     []string
	nextID    int64
	repoExtra map[string]any // fields merged into GET /repos/{owner}/{repo}
}

// NewServer starts a fake GitHub with no issues, whose token is Login's;
// it stops when the test ends. Requests the fake does not know fail t.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:      t,
		hang:   make(chan struct{}),
		login:  Login,
		repos:  map[string][]*Issue{},
		fails:  map[string]Answer{},
		nextID: 9000,
	}
	mux := http.NewServeMux()
	for pattern, h := range map[string]func(w http.ResponseWriter, r *http.Request) any{
		RouteUser:         s.user,
		RouteRepo:         s.repo,
		RouteListIssues:   s.listIssues,
		RouteCreateIssue:  s.createIssue,
		RouteEditIssue:    s.editIssue,
		RouteListComments: s.listComments,
		RouteComment:      s.comment,
		RouteSearch:       s.search,
	} {
		mux.HandleFunc(pattern, s.wrap(pattern, h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake github: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	s.Server = httptest.NewServer(http.StripPrefix(APIPrefix, mux))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.hang) }) // runs first: frees hanging handlers
	return s
}

// APIURL is the REST base to give a client.
func (s *Server) APIURL() string { return s.URL + APIPrefix + "/" }

// SetLogin changes who the token is; "" makes GET /user refuse, as GitHub
// does for app installation tokens.
func (s *Server) SetLogin(login string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.login = login
}

// SetRepoFields merges fields into every GET /repos/{owner}/{repo}
// answer; a nil value removes the field.
func (s *Server) SetRepoFields(extra map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repoExtra = extra
}

// Fail makes route (or AnyRoute) answer a instead, until ClearFails.
func (s *Server) Fail(route string, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails[route] = a
}

// ClearFails makes every route answer for real again.
func (s *Server) ClearFails() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.fails)
}

// Count is how many requests went to route.
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c == route {
			n++
		}
	}
	return n
}

// Calls are the routes requested, in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Seed adds an issue to repo ("owner/repo") directly, as if someone had
// filed it, and returns its number.
func (s *Server) Seed(repo string, is Issue) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.add(repo, &is).Number
}

// add files is in repo; s.mu is held.
func (s *Server) add(repo string, is *Issue) *Issue {
	key := strings.ToLower(repo)
	is.Number = len(s.repos[key]) + 1
	if is.State == "" {
		is.State = "open"
	}
	s.repos[key] = append(s.repos[key], is)
	return is
}

// Issue returns a copy of an issue of repo, or nil.
func (s *Server) Issue(repo string, number int) *Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.repos[strings.ToLower(repo)]
	if number < 1 || number > len(list) {
		return nil
	}
	c := *list[number-1]
	c.Comments = slices.Clone(c.Comments)
	return &c
}

// IssueCount is how many issues repo has.
func (s *Server) IssueCount(repo string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.repos[strings.ToLower(repo)])
}

// CloseIssue closes an issue of repo as the user sender does on GitHub
// (completed), and returns the body of the "issues" webhook, action
// "closed", that GitHub then delivers.
func (s *Server) CloseIssue(repo string, number int, sender string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.repos[strings.ToLower(repo)]
	if number < 1 || number > len(list) {
		return nil, fmt.Errorf("fake github: close %s#%d: no such issue", repo, number)
	}
	is := list[number-1]
	is.State, is.StateReason = "closed", "completed"
	owner, name, _ := strings.Cut(repo, "/")
	body, err := json.Marshal(map[string]any{
		"action": "closed",
		"issue":  s.issueJSON(repo, is),
		"repository": map[string]any{"id": 77, "name": name, "full_name": repo, "private": true,
			"owner":    map[string]any{"login": owner, "type": "Organization"},
			"html_url": "https://github.example.com/" + repo},
		"sender": map[string]any{"login": sender, "id": 583231, "type": "User"},
	})
	if err != nil {
		return nil, fmt.Errorf("fake github: close %s#%d: webhook body: %w", repo, number, err)
	}
	return body, nil
}

// Sign is the X-Hub-Signature-256 GitHub puts on a webhook body signed
// with secret.
func Sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// NewWebhookRequest is a webhook delivery of event with body to target,
// carrying the headers GitHub sends, signed with secret.
func NewWebhookRequest(target, event string, body []byte, secret string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("fake github: webhook request: %w", err)
	}
	sum := sha256.Sum256(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/044aadd")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", hex.EncodeToString(sum[:16]))
	req.Header.Set("X-GitHub-Hook-ID", "30")
	req.Header.Set("X-Hub-Signature-256", Sign(body, secret))
	return req, nil
}

// wrap checks what every request to GitHub must carry, records the call,
// and gives the failure set for the route, if any; h answers otherwise
// with the value it returns, as JSON (an *Answer for its own failures).
func (s *Server) wrap(route string, h func(w http.ResponseWriter, r *http.Request) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls = append(s.calls, route)
		a, failing := s.fails[route]
		if !failing {
			a, failing = s.fails[AnyRoute]
		}
		s.mu.Unlock()

		if auth := r.Header.Get("Authorization"); auth != "Bearer "+Token && auth != "token "+Token {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		if !strings.HasPrefix(r.Header.Get("Accept"), "application/vnd.github") {
			s.t.Errorf("fake github: %s: Accept %q", route, r.Header.Get("Accept"))
		}
		if r.Header.Get("X-GitHub-Api-Version") == "" {
			s.t.Errorf("fake github: %s: no X-GitHub-Api-Version", route)
		}
		if failing && !a.Commit {
			s.answer(w, r, a)
			return
		}
		v := h(w, r)
		if failing {
			s.answer(w, r, a)
			return
		}
		switch v := v.(type) {
		case nil: // h answered
		case *Answer:
			s.answer(w, r, *v)
		default:
			status := http.StatusOK
			if r.Method == http.MethodPost {
				status = http.StatusCreated
			}
			writeJSON(w, status, v)
		}
	}
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, a Answer) {
	if a.Hang {
		select {
		case <-r.Context().Done():
		case <-s.hang:
		}
		return
	}
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	body := a.Body
	if body == "" {
		b, _ := json.Marshal(map[string]any{"message": http.StatusText(a.Status), "documentation_url": "https://docs.github.com/rest"})
		body = string(b)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(a.Status)
	fmt.Fprint(w, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound() *Answer {
	return &Answer{Status: http.StatusNotFound, Body: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`}
}

func validationFailed(field, code string) *Answer {
	return &Answer{Status: http.StatusUnprocessableEntity, Body: fmt.Sprintf(
		`{"message":"Validation Failed","errors":[{"resource":"Issue","field":%q,"code":%q}],"documentation_url":"https://docs.github.com/rest"}`, field, code)}
}

// decode reads a JSON body strictly: go-github sends no unknown fields.
func (s *Server) decode(r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.t.Errorf("fake github: %s %s: Content-Type %q", r.Method, r.URL.Path, ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.t.Errorf("fake github: %s %s: body: %v", r.Method, r.URL.Path, err)
		return false
	}
	return true
}

func (s *Server) issueJSON(repo string, is *Issue) map[string]any {
	labels := []map[string]any{}
	for _, l := range is.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	assignees := []map[string]any{}
	for _, a := range is.Assignees {
		assignees = append(assignees, map[string]any{"login": a, "type": "User"})
	}
	v := map[string]any{
		"id":             100000 + is.Number,
		"node_id":        "I_kwDOfake" + strconv.Itoa(is.Number),
		"number":         is.Number,
		"title":          is.Title,
		"body":           is.Body,
		"state":          is.State,
		"state_reason":   nilIfEmpty(is.StateReason),
		"url":            s.URL + APIPrefix + "/repos/" + repo + "/issues/" + strconv.Itoa(is.Number),
		"repository_url": s.URL + APIPrefix + "/repos/" + repo,
		"html_url":       "https://github.example.com/" + repo + "/issues/" + strconv.Itoa(is.Number),
		"user":           map[string]any{"login": is.Author, "type": "User"},
		"labels":         labels,
		"assignees":      assignees,
		"comments":       len(is.Comments),
		"created_at":     "2026-03-01T12:00:00Z",
	}
	if is.PullRequest {
		v["pull_request"] = map[string]any{"url": s.URL + APIPrefix + "/repos/" + repo + "/pulls/" + strconv.Itoa(is.Number)}
	}
	return v
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) user(w http.ResponseWriter, r *http.Request) any {
	s.mu.Lock()
	login := s.login
	s.mu.Unlock()
	if login == "" {
		return &Answer{Status: http.StatusForbidden, Body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user"}`}
	}
	return map[string]any{"login": login, "id": 4242, "type": "User"}
}

func (s *Server) repo(w http.ResponseWriter, r *http.Request) any {
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	v := map[string]any{
		"id": 77, "name": r.PathValue("repo"), "full_name": full,
		"owner":    map[string]any{"login": r.PathValue("owner")},
		"html_url": "https://github.example.com/" + full, "private": true,
		"has_issues": true, "archived": false,
		"permissions": map[string]any{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
	}
	s.mu.Lock()
	for k, x := range s.repoExtra {
		if x == nil {
			delete(v, k)
		} else {
			v[k] = x
		}
	}
	s.mu.Unlock()
	return v
}

// listIssues answers newest first, paginated with a Link header.
func (s *Server) listIssues(w http.ResponseWriter, r *http.Request) any {
	q := r.URL.Query()
	if q.Get("state") != "all" || q.Get("sort") != "created" || q.Get("direction") != "desc" {
		s.t.Errorf("fake github: list issues: query %q", r.URL.RawQuery)
	}
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	page, _ := strconv.Atoi(q.Get("page"))
	perPage, page = positiveOr(perPage, 30), positiveOr(page, 1)
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")

	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	list := s.repos[strings.ToLower(repo)]
	for i := len(list) - 1; i >= 0; i-- {
		if c := q.Get("creator"); c == "" || strings.EqualFold(c, list[i].Author) {
			all = append(all, s.issueJSON(repo, list[i]))
		}
	}
	from, to := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	if to < len(all) {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s%s>; rel="next"`, s.URL, APIPrefix, next.String()))
	}
	return append([]map[string]any{}, all[from:to]...)
}

func positiveOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request) any {
	var req struct {
		Title     *string   `json:"title"`
		Body      *string   `json:"body"`
		Labels    *[]string `json:"labels"`
		Assignees *[]string `json:"assignees"`
	}
	if !s.decode(r, &req) {
		return &Answer{Status: http.StatusBadRequest}
	}
	if req.Title == nil || *req.Title == "" {
		return validationFailed("title", "missing_field")
	}
	if len([]rune(*req.Title)) > 256 || req.Body != nil && len([]rune(*req.Body)) > 65536 {
		return validationFailed("title", "custom")
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	if strings.EqualFold(repo, "octo/missing") {
		return notFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := &Issue{Title: *req.Title, State: "open", Author: cmp.Or(s.login, "tocsin[bot]")}
	if req.Body != nil {
		is.Body = *req.Body
	}
	if req.Labels != nil {
		is.Labels = *req.Labels
	}
	if req.Assignees != nil {
		is.Assignees = *req.Assignees
	}
	return s.issueJSON(repo, s.add(repo, is))
}

// lookup finds the issue a request names; s.mu is held.
func (s *Server) lookup(r *http.Request) (string, *Issue) {
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	n, err := strconv.Atoi(r.PathValue("number"))
	list := s.repos[strings.ToLower(repo)]
	if err != nil || n < 1 || n > len(list) {
		return repo, nil
	}
	return repo, list[n-1]
}

func (s *Server) editIssue(w http.ResponseWriter, r *http.Request) any {
	var req struct {
		State       *string `json:"state"`
		StateReason *string `json:"state_reason"`
	}
	if !s.decode(r, &req) {
		return &Answer{Status: http.StatusBadRequest}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, is := s.lookup(r)
	if is == nil {
		return notFound()
	}
	if req.State != nil {
		if *req.State != "open" && *req.State != "closed" {
			return validationFailed("state", "invalid")
		}
		is.State = *req.State
	}
	if req.StateReason != nil {
		ok := map[string][]string{"closed": {"completed", "not_planned"}, "open": {"reopened"}}[is.State]
		if !slices.Contains(ok, *req.StateReason) {
			return validationFailed("state_reason", "invalid")
		}
		is.StateReason = *req.StateReason
	}
	return s.issueJSON(repo, is)
}

func (s *Server) commentJSON(repo string, is *Issue, c *Comment) map[string]any {
	return map[string]any{
		"id":         c.ID,
		"body":       c.Body,
		"user":       map[string]any{"login": c.Author, "type": "User"},
		"html_url":   fmt.Sprintf("https://github.example.com/%s/issues/%d#issuecomment-%d", repo, is.Number, c.ID),
		"issue_url":  fmt.Sprintf("%s%s/repos/%s/issues/%d", s.URL, APIPrefix, repo, is.Number),
		"created_at": "2026-03-01T12:00:00Z",
		"updated_at": "2026-03-01T12:00:00Z",
	}
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) any {
	if _, err := time.Parse(time.RFC3339, r.URL.Query().Get("since")); err != nil {
		s.t.Errorf("fake github: list comments: since %q", r.URL.Query().Get("since"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, is := s.lookup(r)
	if is == nil {
		return notFound()
	}
	out := []map[string]any{}
	for _, c := range is.Comments {
		out = append(out, s.commentJSON(repo, is, c))
	}
	return out
}

func (s *Server) comment(w http.ResponseWriter, r *http.Request) any {
	var req struct {
		Body *string `json:"body"`
	}
	if !s.decode(r, &req) {
		return &Answer{Status: http.StatusBadRequest}
	}
	if req.Body == nil || *req.Body == "" {
		return validationFailed("body", "missing_field")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, is := s.lookup(r)
	if is == nil {
		return notFound()
	}
	s.nextID++
	c := &Comment{ID: s.nextID, Body: *req.Body, Author: cmp.Or(s.login, "tocsin[bot]")}
	is.Comments = append(is.Comments, c)
	return s.commentJSON(repo, is, c)
}

var (
	searchRepoRE   = regexp.MustCompile(`(?:^|\s)repo:(\S+)`)
	searchAuthorRE = regexp.MustCompile(`(?:^|\s)author:(\S+)`)
	searchPhraseRE = regexp.MustCompile(`"([^"]+)"`)
)

// search understands the qualifiers the notifier uses: repo:, author:,
// is:issue, in:body and one quoted phrase.
func (s *Server) search(w http.ResponseWriter, r *http.Request) any {
	q := r.URL.Query().Get("q")
	repo, phrase := searchRepoRE.FindStringSubmatch(q), searchPhraseRE.FindStringSubmatch(q)
	if repo == nil || phrase == nil || !strings.Contains(q, "in:body") || !strings.Contains(q, "is:issue") {
		s.t.Errorf("fake github: search: query %q", q)
		return validationFailed("q", "invalid")
	}
	author := searchAuthorRE.FindStringSubmatch(q)
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []map[string]any{}
	for _, is := range s.repos[strings.ToLower(repo[1])] {
		if !is.PullRequest && strings.Contains(is.Body, phrase[1]) && (author == nil || strings.EqualFold(author[1], is.Author)) {
			items = append(items, s.issueJSON(repo[1], is))
		}
	}
	return map[string]any{"total_count": len(items), "incomplete_results": false, "items": items}
}
