package github

import (
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

	"github.com/tocsin/tocsin/integrations"
)

// A fake of the parts of GitHub's REST API that the notifier uses, close
// enough for the real go-github to work against it unmodified. It is
// mounted under /api/v3/, as GitHub Enterprise Server's API is.

const (
	testToken         = "ghp_t0ps3cretT0kenForTests1234567890ab"
	testWebhookSecret = "whsec-n0t-for-your-eyes"
	testLogin         = "tocsin-bot"
	apiPrefix         = "/api/v3"
)

// Routes of the fake, as ServeMux patterns; failures are keyed by them.
const (
	routeUser         = "GET /user"
	routeRepo         = "GET /repos/{owner}/{repo}"
	routeListIssues   = "GET /repos/{owner}/{repo}/issues"
	routeCreateIssue  = "POST /repos/{owner}/{repo}/issues"
	routeEditIssue    = "PATCH /repos/{owner}/{repo}/issues/{number}"
	routeListComments = "GET /repos/{owner}/{repo}/issues/{number}/comments"
	routeComment      = "POST /repos/{owner}/{repo}/issues/{number}/comments"
	routeSearch       = "GET /search/issues"
	anyRoute          = "*"
)

// answer is a failure the fake gives instead of the real answer.
type answer struct {
	Status int
	Header map[string]string
	Body   string // JSON; "" for GitHub's {"message", "documentation_url"}
	Hang   bool   // never answer
	// Commit does what was asked before failing, as when GitHub acted but
	// its answer was lost on the way.
	Commit bool
}

type fakeIssue struct {
	Number      int
	Title       string
	Body        string
	State       string
	StateReason string
	Labels      []string
	Assignees   []string
	Author      string
	PullRequest bool
	Comments    []*fakeComment
}

type fakeComment struct {
	ID     int64
	Body   string
	Author string
}

type fakeGitHub struct {
	t     *testing.T
	srv   *httptest.Server
	hang  chan struct{}
	login string // who the token is; "" makes GET /user refuse, as for installation tokens

	mu        sync.Mutex
	repos     map[string][]*fakeIssue // by lower-case "owner/repo"; issue n at n-1
	fails     map[string]answer
	calls     []string
	nextID    int64
	repoExtra map[string]any // fields merged into GET /repos/{owner}/{repo}
}

func newFake(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{
		t:      t,
		hang:   make(chan struct{}),
		login:  testLogin,
		repos:  map[string][]*fakeIssue{},
		fails:  map[string]answer{},
		nextID: 9000,
	}
	mux := http.NewServeMux()
	for pattern, h := range map[string]func(w http.ResponseWriter, r *http.Request) any{
		routeUser:         f.user,
		routeRepo:         f.repo,
		routeListIssues:   f.listIssues,
		routeCreateIssue:  f.createIssue,
		routeEditIssue:    f.editIssue,
		routeListComments: f.listComments,
		routeComment:      f.comment,
		routeSearch:       f.search,
	} {
		mux.HandleFunc(pattern, f.wrap(pattern, h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake github: unexpected %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	f.srv = httptest.NewServer(http.StripPrefix(apiPrefix, mux))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.hang) }) // runs first: frees hanging handlers
	return f
}

// apiURL is the REST base the notifier is given.
func (f *fakeGitHub) apiURL() string { return f.srv.URL + apiPrefix + "/" }

func (f *fakeGitHub) fail(route string, a answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[route] = a
}

func (f *fakeGitHub) clearFails() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.fails)
}

// count is how many requests went to route.
func (f *fakeGitHub) count(route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == route {
			n++
		}
	}
	return n
}

func (f *fakeGitHub) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// seed adds an issue directly, as if someone had filed it.
func (f *fakeGitHub) seed(repo string, is fakeIssue) *fakeIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := strings.ToLower(repo)
	is.Number = len(f.repos[key]) + 1
	if is.State == "" {
		is.State = "open"
	}
	f.repos[key] = append(f.repos[key], &is)
	return &is
}

// issue returns a copy of an issue, or nil.
func (f *fakeGitHub) issue(repo string, number int) *fakeIssue {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := f.repos[strings.ToLower(repo)]
	if number < 1 || number > len(list) {
		return nil
	}
	c := *list[number-1]
	c.Comments = slices.Clone(c.Comments)
	return &c
}

func (f *fakeGitHub) issueCount(repo string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.repos[strings.ToLower(repo)])
}

// wrap checks what every request to GitHub must carry, records the call,
// and gives the failure set for the route, if any; h answers otherwise
// with the value it returns, as JSON (an *answer for its own failures).
func (f *fakeGitHub) wrap(route string, h func(w http.ResponseWriter, r *http.Request) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, route)
		a, failing := f.fails[route]
		if !failing {
			a, failing = f.fails[anyRoute]
		}
		f.mu.Unlock()

		if auth := r.Header.Get("Authorization"); auth != "Bearer "+testToken && auth != "token "+testToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		if !strings.HasPrefix(r.Header.Get("Accept"), "application/vnd.github") {
			f.t.Errorf("fake github: %s: Accept %q", route, r.Header.Get("Accept"))
		}
		if r.Header.Get("X-GitHub-Api-Version") == "" {
			f.t.Errorf("fake github: %s: no X-GitHub-Api-Version", route)
		}
		if failing && !a.Commit {
			f.answer(w, r, a)
			return
		}
		v := h(w, r)
		if failing {
			f.answer(w, r, a)
			return
		}
		switch v := v.(type) {
		case nil: // h answered
		case *answer:
			f.answer(w, r, *v)
		default:
			status := http.StatusOK
			if r.Method == http.MethodPost {
				status = http.StatusCreated
			}
			writeJSON(w, status, v)
		}
	}
}

func (f *fakeGitHub) answer(w http.ResponseWriter, r *http.Request, a answer) {
	if a.Hang {
		select {
		case <-r.Context().Done():
		case <-f.hang:
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

func notFound() *answer {
	return &answer{Status: http.StatusNotFound, Body: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`}
}

func validationFailed(field, code string) *answer {
	return &answer{Status: http.StatusUnprocessableEntity, Body: fmt.Sprintf(
		`{"message":"Validation Failed","errors":[{"resource":"Issue","field":%q,"code":%q}],"documentation_url":"https://docs.github.com/rest"}`, field, code)}
}

// decode reads a JSON body strictly: go-github sends no unknown fields.
func (f *fakeGitHub) decode(r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("fake github: %s %s: Content-Type %q", r.Method, r.URL.Path, ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		f.t.Errorf("fake github: %s %s: body: %v", r.Method, r.URL.Path, err)
		return false
	}
	return true
}

func (f *fakeGitHub) issueJSON(repo string, is *fakeIssue) map[string]any {
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
		"url":            f.srv.URL + apiPrefix + "/repos/" + repo + "/issues/" + strconv.Itoa(is.Number),
		"repository_url": f.srv.URL + apiPrefix + "/repos/" + repo,
		"html_url":       "https://github.example.com/" + repo + "/issues/" + strconv.Itoa(is.Number),
		"user":           map[string]any{"login": is.Author, "type": "User"},
		"labels":         labels,
		"assignees":      assignees,
		"comments":       len(is.Comments),
		"created_at":     "2026-03-01T12:00:00Z",
	}
	if is.PullRequest {
		v["pull_request"] = map[string]any{"url": f.srv.URL + apiPrefix + "/repos/" + repo + "/pulls/" + strconv.Itoa(is.Number)}
	}
	return v
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (f *fakeGitHub) user(w http.ResponseWriter, r *http.Request) any {
	if f.login == "" {
		return &answer{Status: http.StatusForbidden, Body: `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/users/users#get-the-authenticated-user"}`}
	}
	return map[string]any{"login": f.login, "id": 4242, "type": "User"}
}

func (f *fakeGitHub) repo(w http.ResponseWriter, r *http.Request) any {
	full := r.PathValue("owner") + "/" + r.PathValue("repo")
	v := map[string]any{
		"id": 77, "name": r.PathValue("repo"), "full_name": full,
		"owner":    map[string]any{"login": r.PathValue("owner")},
		"html_url": "https://github.example.com/" + full, "private": true,
		"has_issues": true, "archived": false,
		"permissions": map[string]any{"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
	}
	f.mu.Lock()
	for k, x := range f.repoExtra {
		if x == nil {
			delete(v, k)
		} else {
			v[k] = x
		}
	}
	f.mu.Unlock()
	return v
}

// listIssues answers newest first, paginated with a Link header.
func (f *fakeGitHub) listIssues(w http.ResponseWriter, r *http.Request) any {
	q := r.URL.Query()
	if q.Get("state") != "all" || q.Get("sort") != "created" || q.Get("direction") != "desc" {
		f.t.Errorf("fake github: list issues: query %q", r.URL.RawQuery)
	}
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	page, _ := strconv.Atoi(q.Get("page"))
	perPage, page = cmp0(perPage, 30), cmp0(page, 1)
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")

	f.mu.Lock()
	defer f.mu.Unlock()
	var all []map[string]any
	list := f.repos[strings.ToLower(repo)]
	for i := len(list) - 1; i >= 0; i-- {
		if c := q.Get("creator"); c == "" || strings.EqualFold(c, list[i].Author) {
			all = append(all, f.issueJSON(repo, list[i]))
		}
	}
	from, to := min((page-1)*perPage, len(all)), min(page*perPage, len(all))
	if to < len(all) {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s%s%s>; rel="next"`, f.srv.URL, apiPrefix, next.String()))
	}
	return append([]map[string]any{}, all[from:to]...)
}

func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

func (f *fakeGitHub) createIssue(w http.ResponseWriter, r *http.Request) any {
	var req struct {
		Title     *string   `json:"title"`
		Body      *string   `json:"body"`
		Labels    *[]string `json:"labels"`
		Assignees *[]string `json:"assignees"`
	}
	if !f.decode(r, &req) {
		return &answer{Status: http.StatusBadRequest}
	}
	if req.Title == nil || *req.Title == "" {
		return validationFailed("title", "missing_field")
	}
	if len([]rune(*req.Title)) > 256 || req.Body != nil && len([]rune(*req.Body)) > 65536 {
		return validationFailed("title", "custom")
	}
	is := fakeIssue{Title: *req.Title, State: "open", Author: cmpOr(f.login, "tocsin[bot]")}
	if req.Body != nil {
		is.Body = *req.Body
	}
	if req.Labels != nil {
		is.Labels = *req.Labels
	}
	if req.Assignees != nil {
		is.Assignees = *req.Assignees
	}
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	if strings.EqualFold(repo, "octo/missing") {
		return notFound()
	}
	created := f.seed(repo, is)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issueJSON(repo, created)
}

func (f *fakeGitHub) lookup(r *http.Request) (string, *fakeIssue) {
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	n, err := strconv.Atoi(r.PathValue("number"))
	list := f.repos[strings.ToLower(repo)]
	if err != nil || n < 1 || n > len(list) {
		return repo, nil
	}
	return repo, list[n-1]
}

func (f *fakeGitHub) editIssue(w http.ResponseWriter, r *http.Request) any {
	var req struct {
		State       *string `json:"state"`
		StateReason *string `json:"state_reason"`
	}
	if !f.decode(r, &req) {
		return &answer{Status: http.StatusBadRequest}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	repo, is := f.lookup(r)
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
	return f.issueJSON(repo, is)
}

func (f *fakeGitHub) commentJSON(repo string, is *fakeIssue, c *fakeComment) map[string]any {
	return map[string]any{
		"id":         c.ID,
		"body":       c.Body,
		"user":       map[string]any{"login": c.Author, "type": "User"},
		"html_url":   fmt.Sprintf("https://github.example.com/%s/issues/%d#issuecomment-%d", repo, is.Number, c.ID),
		"issue_url":  fmt.Sprintf("%s%s/repos/%s/issues/%d", f.srv.URL, apiPrefix, repo, is.Number),
		"created_at": "2026-03-01T12:00:00Z",
		"updated_at": "2026-03-01T12:00:00Z",
	}
}

func (f *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) any {
	if _, err := time.Parse(time.RFC3339, r.URL.Query().Get("since")); err != nil {
		f.t.Errorf("fake github: list comments: since %q", r.URL.Query().Get("since"))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	repo, is := f.lookup(r)
	if is == nil {
		return notFound()
	}
	out := []map[string]any{}
	for _, c := range is.Comments {
		out = append(out, f.commentJSON(repo, is, c))
	}
	return out
}

func (f *fakeGitHub) comment(w http.ResponseWriter, r *http.Request) any {
	var req struct {
		Body *string `json:"body"`
	}
	if !f.decode(r, &req) {
		return &answer{Status: http.StatusBadRequest}
	}
	if req.Body == nil || *req.Body == "" {
		return validationFailed("body", "missing_field")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	repo, is := f.lookup(r)
	if is == nil {
		return notFound()
	}
	f.nextID++
	c := &fakeComment{ID: f.nextID, Body: *req.Body, Author: cmpOr(f.login, "tocsin[bot]")}
	is.Comments = append(is.Comments, c)
	return f.commentJSON(repo, is, c)
}

var (
	searchRepoRE   = regexp.MustCompile(`(?:^|\s)repo:(\S+)`)
	searchAuthorRE = regexp.MustCompile(`(?:^|\s)author:(\S+)`)
	searchPhraseRE = regexp.MustCompile(`"([^"]+)"`)
)

// search understands the qualifiers the notifier uses: repo:, author:,
// is:issue, in:body and one quoted phrase.
func (f *fakeGitHub) search(w http.ResponseWriter, r *http.Request) any {
	q := r.URL.Query().Get("q")
	repo, phrase := searchRepoRE.FindStringSubmatch(q), searchPhraseRE.FindStringSubmatch(q)
	if repo == nil || phrase == nil || !strings.Contains(q, "in:body") || !strings.Contains(q, "is:issue") {
		f.t.Errorf("fake github: search: query %q", q)
		return validationFailed("q", "invalid")
	}
	author := searchAuthorRE.FindStringSubmatch(q)
	f.mu.Lock()
	defer f.mu.Unlock()
	items := []map[string]any{}
	for _, is := range f.repos[strings.ToLower(repo[1])] {
		if !is.PullRequest && strings.Contains(is.Body, phrase[1]) && (author == nil || strings.EqualFold(author[1], is.Author)) {
			items = append(items, f.issueJSON(repo[1], is))
		}
	}
	return map[string]any{"total_count": len(items), "incomplete_results": false, "items": items}
}

// bundle is what a test works with.
type bundle struct {
	fake     *fakeGitHub
	notifier *Notifier
	cfg      Config
}

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *bundle {
	t.Helper()
	f := newFake(t)
	cfg := Config{Token: testToken, Owner: "octo", Repo: "app", Labels: []string{"tocsin"}, WebhookSecret: testWebhookSecret}
	n, err := New(cfg, f.apiURL(), f.srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	n.NowFunc = func() time.Time { return testNow }
	return &bundle{fake: f, notifier: n, cfg: cfg}
}

// sample is a notification as the rules and templates hand it over.
func sample() *integrations.Notification {
	return &integrations.Notification{
		Kind:           integrations.KindAlert,
		IdempotencyKey: "rule:7/issue:42/target:octo/app/firing:1",
		Issue: integrations.Issue{
			ID: 42, ShortID: "BACKEND-1A", Title: "ZeroDivisionError: division by zero",
			Culprit: "app.billing in compute_invoice", Level: "error", Status: "unresolved", Platform: "python",
			Count: 1234, UserCount: 56,
			FirstSeen: time.Date(2026, 2, 27, 9, 30, 0, 0, time.UTC), LastSeen: time.Date(2026, 3, 1, 11, 58, 12, 0, time.UTC),
			FirstRelease: "backend@1.4.0", LastRelease: "backend@1.4.2",
			Project:      integrations.Project{ID: 3, Slug: "backend", Name: "Backend"},
			Organization: "acme", URL: "https://tocsin.example.com/organizations/acme/issues/42/",
		},
		Event: &integrations.Event{
			ID: "9fa2b1c0d4e54f7a8b6c5d4e3f2a1b0c", Message: "ZeroDivisionError: division by zero",
			Environment: "production", Release: "backend@1.4.2", Timestamp: time.Date(2026, 3, 1, 11, 58, 12, 0, time.UTC),
			Tags: [][2]string{{"browser", "Chrome 120"}, {"server_name", "web-3"}},
			Stacktrace: []string{
				"django.core.handlers.base in _get_response at line 197",
				"app.views in invoice at line 31",
				"app.billing in compute_invoice at line 88",
			},
			URL: "https://tocsin.example.com/organizations/acme/issues/42/events/9fa2b1c0d4e54f7a8b6c5d4e3f2a1b0c/",
		},
		Rule:    &integrations.Rule{ID: 7, Name: "Notify on new issues", URL: "https://tocsin.example.com/organizations/acme/alerts/rules/backend/7/details/"},
		Options: map[string]any{"labels": []any{"bug", "Tocsin"}, "assignee": "octocat"},
		At:      testNow,
	}
}
