package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/templates"
)

// DefaultAPIURL is github.com's REST base; TOCSIN_GITHUB_API_URL replaces
// it (https://HOST/api/v3/ for GitHub Enterprise Server).
const DefaultAPIURL = "https://api.github.com/"

// DefaultTimeout bounds one attempt: all the requests of one Notify or
// Check together.
const DefaultTimeout = 30 * time.Second

// Notifier files notifications as GitHub issues and comments.
type Notifier struct {
	// Timeout bounds one attempt; 0 means DefaultTimeout. Set it before
	// the first use.
	Timeout time.Duration
	// NowFunc is the clock for rate-limit waits; nil means time.Now.
	NowFunc func() time.Time

	cfg    Config
	repo   repoRef
	client *gh.Client

	mu       sync.Mutex
	login    string // the token's user, once GET /user answered
	loginErr error  // GET /user's permanent refusal (installation tokens)
}

var _ integrations.Notifier = (*Notifier)(nil)

// New returns a Notifier for cfg that talks to the REST API at apiURL ("" for
// github.com) through httpClient (nil for a plain one; attempts are bounded
// by their context).
func New(cfg Config, apiURL string, httpClient *http.Client) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	repo, _ := parseRepo(cfg.Owner + "/" + cfg.Repo)
	client := gh.NewClient(httpClient).WithAuthToken(cfg.Token)
	client.UserAgent = "tocsin (go-github/" + gh.Version + ")"
	if apiURL != "" && apiURL != DefaultAPIURL {
		base, err := parseAPIURL(apiURL)
		if err != nil {
			return nil, err
		}
		// Set rather than WithEnterpriseURLs, which would append api/v3/
		// to a base that already is the REST root (a proxy, a test).
		client.BaseURL, client.UploadURL = base, base
	}
	return &Notifier{cfg: cfg, repo: repo, client: client}, nil
}

// parseAPIURL checks TOCSIN_GITHUB_API_URL: an absolute http(s) URL without
// credentials (the token is the only credential sent), ending in a slash.
func parseAPIURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, errors.New("github: api url: cannot parse")
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return nil, fmt.Errorf("github: api url %q: want an http or https URL", u.Redacted())
	case u.User != nil:
		return nil, fmt.Errorf("github: api url %q: must not carry credentials", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("github: api url %q: must have no query or fragment", u.Redacted())
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

func (n *Notifier) now() time.Time {
	if n.NowFunc != nil {
		return n.NowFunc()
	}
	return time.Now()
}

// attempt gives one attempt its own deadline, whose cause says so.
func (n *Notifier) attempt(ctx context.Context) (context.Context, context.CancelFunc) {
	d := n.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("github: no answer within %s", d))
}

// Notify files n on GitHub. With no Handle, an alert, a regression or a
// test creates one GitHub issue in the target repository (Target, or the
// configured one) and answers its handle, "owner/repo#123"; other kinds
// have nothing to update and do nothing. With a Handle, nothing is ever
// created: a regression reopens the issue, a resolution closes it
// (completed), and every kind adds a comment.
//
// An issue is created at most once per Tocsin issue even when Tocsin loses
// the handle (a crash between GitHub's answer and the store): its body
// carries the hidden marker <!-- tocsin:issue:ID -->, which is looked for
// first among the repository's newest issues, then with the Search API.
// Likewise a comment carries its notification's idempotency key, hashed,
// and is not posted again when a retry finds it.
func (n *Notifier) Notify(ctx context.Context, nt *integrations.Notification) (*integrations.Result, error) {
	repo := n.repo
	if nt.Target != "" {
		var err error
		if repo, err = parseRepo(nt.Target); err != nil {
			return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
		}
	}
	ctx, cancel := n.attempt(ctx)
	defer cancel()
	if nt.Handle != "" {
		h, err := parseHandle(nt.Handle, repo)
		if err != nil {
			return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
		}
		return n.followUp(ctx, h, nt)
	}
	switch nt.Kind {
	case integrations.KindAlert, integrations.KindRegression, integrations.KindTest:
		return n.create(ctx, repo, nt)
	}
	return &integrations.Result{}, nil
}

// create files a new GitHub issue for nt, unless one was filed already.
func (n *Notifier) create(ctx context.Context, repo repoRef, nt *integrations.Notification) (*integrations.Result, error) {
	req, warning, err := n.issueRequest(nt)
	if err != nil {
		return nil, err
	}
	author, err := n.author(ctx)
	if err != nil {
		return nil, err
	}
	if nt.Issue.ID != 0 {
		iss, status, err := n.findFiled(ctx, repo, nt, author)
		if err != nil {
			return nil, err
		}
		if iss != nil {
			return &integrations.Result{Handle: handle{repo, iss.GetNumber()}.String(), URL: iss.GetHTMLURL(), Status: status, Warning: warning}, nil
		}
	}
	iss, resp, err := n.client.Issues.Create(ctx, repo.owner, repo.name, req)
	if err != nil {
		return nil, n.fail(ctx, "create issue in "+repo.String(), resp, err)
	}
	return &integrations.Result{Handle: handle{repo, iss.GetNumber()}.String(), URL: iss.GetHTMLURL(), Status: resp.StatusCode, Warning: warning}, nil
}

// issueRequest builds the new issue: title, body, labels (the config's,
// then the rule action's "labels") and the rule action's "assignee";
// warning says why an override of their templates was set aside.
func (n *Notifier) issueRequest(nt *integrations.Notification) (*gh.IssueRequest, string, error) {
	title, warnTitle, err := issueTitle(nt)
	if err != nil {
		return nil, "", fmt.Errorf("github: render the issue title: %w", err)
	}
	body, warnBody, err := issueBody(nt, n.cfg.Installation)
	if err != nil {
		return nil, "", fmt.Errorf("github: render the issue body: %w", err)
	}
	req := &gh.IssueRequest{Title: &title, Body: &body}
	labels, err := mergeLabels(n.cfg.Labels, nt.Options["labels"])
	if err != nil {
		return nil, "", &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
	}
	if len(labels) > 0 {
		req.Labels = &labels
	}
	if a, ok := nt.Options["assignee"]; ok && a != nil && a != "" {
		login, _ := a.(string)
		login = strings.TrimPrefix(strings.TrimSpace(login), "@")
		if !ownerRE.MatchString(login) {
			return nil, "", &integrations.PermanentError{Reason: integrations.ReasonConfig,
				Err: fmt.Errorf("github: assignee %q is not a GitHub login", a)}
		}
		req.Assignees = &[]string{login}
	}
	return req, templates.Warnings(warnTitle, warnBody), nil
}

// mergeLabels joins the configured labels and a rule action's ("a, b", a
// list of strings, or JSON's list of any), without duplicates.
func mergeLabels(base []string, extra any) ([]string, error) {
	labels := append([]string(nil), base...)
	switch x := extra.(type) {
	case nil:
	case string:
		labels = append(labels, strings.Split(x, ",")...)
	case []string:
		labels = append(labels, x...)
	case []any:
		for _, v := range x {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("github: labels: %v is not a string", v)
			}
			labels = append(labels, s)
		}
	default:
		return nil, fmt.Errorf("github: labels: want a list of strings, got %T", extra)
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range labels {
		l = strings.TrimSpace(l)
		if l == "" || seen[strings.ToLower(l)] {
			continue
		}
		seen[strings.ToLower(l)] = true
		out = append(out, l)
	}
	return out, validLabels(out)
}

// newestIssues is how many of a repository's newest issues are read
// before falling back on the Search API, whose index lags by seconds to
// minutes: the issue a crashed attempt filed is among them.
const newestIssues = 100

// findFiled looks for the issue filed for nt.Issue by an earlier attempt:
// one whose body has the marker of this Tocsin and issue, opened by the
// token's user (author, "" when it is unknown). Without an installation
// to tell deployments apart, the body must also link back to the same
// Tocsin issue.
func (n *Notifier) findFiled(ctx context.Context, repo repoRef, nt *integrations.Notification, author string) (*gh.Issue, int, error) {
	term := issueMarker(n.cfg.Installation, nt.Issue.ID)
	marker := "<!-- " + term + " -->"
	back := ""
	if n.cfg.Installation == "" {
		back = linkURL(nt.Issue.URL)
	}
	ours := func(iss *gh.Issue) bool {
		return !iss.IsPullRequest() &&
			strings.Contains(iss.GetBody(), marker) &&
			(back == "" || strings.Contains(iss.GetBody(), "("+back+")")) &&
			(author == "" || strings.EqualFold(iss.GetUser().GetLogin(), author))
	}
	list, resp, err := n.client.Issues.ListByRepo(ctx, repo.owner, repo.name, &gh.IssueListByRepoOptions{
		State: "all", Creator: author, Sort: "created", Direction: "desc",
		ListOptions: gh.ListOptions{PerPage: newestIssues},
	})
	if err != nil {
		return nil, 0, n.fail(ctx, "look for the issue filed in "+repo.String(), resp, err)
	}
	for _, iss := range list {
		if ours(iss) {
			return iss, resp.StatusCode, nil
		}
	}
	if resp.NextPage == 0 {
		return nil, 0, nil // that was every issue
	}
	q := fmt.Sprintf(`repo:%s is:issue in:body "%s"`, repo, term)
	if author != "" {
		q += " author:" + author
	}
	found, resp, err := n.client.Search.Issues(ctx, q, &gh.SearchOptions{ListOptions: gh.ListOptions{PerPage: 20}})
	if err != nil {
		return nil, 0, n.fail(ctx, "search for the issue filed in "+repo.String(), resp, err)
	}
	for _, iss := range found.Issues {
		if ours(iss) {
			return iss, resp.StatusCode, nil
		}
	}
	return nil, 0, nil
}

// followUp updates the GitHub issue h: a regression reopens it, a
// resolution closes it, and each kind adds a comment. The state changes
// first because it is idempotent; the comment is posted last, once.
func (n *Notifier) followUp(ctx context.Context, h handle, nt *integrations.Notification) (*integrations.Result, error) {
	res := &integrations.Result{Handle: h.String()}
	var state, reason, verb string
	switch nt.Kind {
	case integrations.KindRegression:
		state, reason, verb = "open", "reopened", "reopen "
	case integrations.KindResolved:
		state, reason, verb = "closed", "completed", "close "
	}
	if state != "" {
		iss, resp, err := n.client.Issues.Edit(ctx, h.repo.owner, h.repo.name, h.number,
			&gh.IssueRequest{State: &state, StateReason: &reason})
		if err != nil {
			return nil, n.fail(ctx, verb+h.String(), resp, err)
		}
		res.URL, res.Status = iss.GetHTMLURL(), resp.StatusCode
	}
	if nt.IdempotencyKey != "" {
		c, status, err := n.findComment(ctx, h, nt)
		if err != nil {
			return nil, err
		}
		if c != nil {
			res.URL, res.Status = cmpOr(res.URL, c.GetHTMLURL()), status
			return res, nil
		}
	}
	body, warning, err := commentBody(nt)
	if err != nil {
		return nil, fmt.Errorf("github: render the comment: %w", err)
	}
	res.Warning = warning
	c, resp, err := n.client.Issues.CreateComment(ctx, h.repo.owner, h.repo.name, h.number, &gh.IssueComment{Body: &body})
	if err != nil {
		return nil, n.fail(ctx, "comment on "+h.String(), resp, err)
	}
	res.URL, res.Status = cmpOr(res.URL, c.GetHTMLURL()), resp.StatusCode
	return res, nil
}

// commentWindow is how far back a retry looks for the comment an earlier
// attempt posted; retries back off for at most a day.
const commentWindow = 48 * time.Hour

// findComment looks for the comment an earlier attempt of nt posted.
func (n *Notifier) findComment(ctx context.Context, h handle, nt *integrations.Notification) (*gh.IssueComment, int, error) {
	author, err := n.author(ctx)
	if err != nil {
		return nil, 0, err
	}
	marker := "<!-- " + deliveryMarker(nt.IdempotencyKey) + " -->"
	since := n.now().Add(-commentWindow)
	opts := &gh.IssueListCommentsOptions{Since: &since, ListOptions: gh.ListOptions{PerPage: 100}}
	for page := 0; page < 3; page++ {
		list, resp, err := n.client.Issues.ListComments(ctx, h.repo.owner, h.repo.name, h.number, opts)
		if err != nil {
			return nil, 0, n.fail(ctx, "read the comments of "+h.String(), resp, err)
		}
		for _, c := range list {
			if strings.Contains(c.GetBody(), marker) && (author == "" || strings.EqualFold(c.GetUser().GetLogin(), author)) {
				return c, resp.StatusCode, nil
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return nil, 0, nil
}

// Login returns the login of the token's user (GET /user), asked once and
// then remembered. The webhook handler compares it with a webhook's sender
// to ignore the changes Tocsin made itself (see IssueEvent). GitHub refuses
// GET /user to app installation tokens: then Login fails with a
// *integrations.PermanentError.
func (n *Notifier) Login(ctx context.Context) (string, error) {
	n.mu.Lock()
	login, err := n.login, n.loginErr
	n.mu.Unlock()
	if login != "" || err != nil {
		return login, err
	}
	ctx, cancel := n.attempt(ctx)
	defer cancel()
	u, resp, err := n.client.Users.Get(ctx, "")
	if err != nil {
		err = n.fail(ctx, "read the token's user", resp, err)
		if integrations.IsPermanent(err) && resp != nil && resp.StatusCode != http.StatusUnauthorized {
			n.mu.Lock()
			n.loginErr = err
			n.mu.Unlock()
		}
		return "", err
	}
	if u.GetLogin() == "" {
		return "", &integrations.RetryError{Reason: integrations.ReasonServer, Status: resp.StatusCode,
			Err: errors.New("github: GET /user answered no login")}
	}
	n.mu.Lock()
	n.login = u.GetLogin()
	n.mu.Unlock()
	return u.GetLogin(), nil
}

// author is the login whose issues and comments are Tocsin's, "" when
// GitHub does not say (installation tokens): then any author is taken.
func (n *Notifier) author(ctx context.Context) (string, error) {
	login, err := n.Login(ctx)
	var pe *integrations.PermanentError
	if errors.As(err, &pe) && (pe.Status == http.StatusForbidden || pe.Status == http.StatusNotFound) {
		return "", nil
	}
	return login, err
}
