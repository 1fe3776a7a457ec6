package github

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/github/githubtest"
	"github.com/tocsin/tocsin/integrations/notifiertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func notify(t *testing.T, n *Notifier, nt *integrations.Notification) *integrations.Result {
	t.Helper()
	res, err := n.Notify(context.Background(), nt)
	if err != nil {
		t.Fatalf("Notify(%s, handle %q): %v", nt.Kind, nt.Handle, err)
	}
	return res
}

func TestNotifier_Notify_createsIssue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := notify(t, b.notifier, sample())

	want := integrations.Result{Handle: "octo/app#1", URL: "https://github.example.com/octo/app/issues/1", Status: http.StatusCreated}
	if *res != want {
		t.Errorf("result %+v, want %+v", *res, want)
	}
	is := b.fake.Issue("octo/app", 1)
	if is == nil {
		t.Fatal("no issue filed")
	}
	golden(t, "issue.golden", fmt.Sprintf("title: %s\nlabels: %q\nassignees: %q\n\n%s", is.Title, is.Labels, is.Assignees, is.Body))
	if is.Author != githubtest.Login || is.State != "open" {
		t.Errorf("issue by %q in state %q", is.Author, is.State)
	}
}

func TestNotifier_Notify_comments(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{integrations.KindRegression, integrations.KindResolved} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			nt := sample()
			nt.Kind, nt.Handle, nt.Actor = kind, "octo/app#1", "Jane Doe"
			golden(t, "comment_"+kind+".golden", text(commentBody(nt)))
		})
	}
}

// A Tocsin issue gets one GitHub issue: later notifications, which carry
// its handle, comment on it, reopen it or close it, and never create.
func TestNotifier_Notify_followUps(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind        string
		startClosed bool
		wantState   string
		wantReason  string
		wantComment string
	}{
		{kind: integrations.KindAlert, wantState: "open", wantComment: "**Alert:**"},
		{kind: integrations.KindRegression, startClosed: true, wantState: "open", wantReason: "reopened", wantComment: "**Regression:**"},
		{kind: integrations.KindResolved, wantState: "closed", wantReason: "completed", wantComment: "**Resolved:**"},
		{kind: integrations.KindUnresolved, wantState: "open", wantComment: "**Unresolved:**"},
		{kind: integrations.KindIgnored, wantState: "open", wantComment: "**Ignored:**"},
		{kind: integrations.KindAssigned, wantState: "open", wantComment: "**Assigned:**"},
		{kind: integrations.KindTest, wantState: "open", wantComment: "**Test notification**"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			first := notify(t, b.notifier, sample())
			if c.startClosed {
				nt := sample()
				nt.Kind, nt.Handle, nt.IdempotencyKey = integrations.KindResolved, first.Handle, "resolve"
				notify(t, b.notifier, nt)
			}
			before := b.fake.Issue("octo/app", 1)

			nt := sample()
			nt.Kind, nt.Handle, nt.IdempotencyKey = c.kind, first.Handle, "follow-up:"+c.kind
			nt.Issue.Assignee = "jane@example.com"
			res := notify(t, b.notifier, nt)

			if got := b.fake.IssueCount("octo/app"); got != 1 {
				t.Fatalf("%d GitHub issues, want 1", got)
			}
			if got := b.fake.Count(githubtest.RouteCreateIssue); got != 1 {
				t.Errorf("%d issue creations, want 1", got)
			}
			is := b.fake.Issue("octo/app", 1)
			if is.State != c.wantState {
				t.Errorf("state %q, want %q", is.State, c.wantState)
			}
			if c.wantReason != "" && is.StateReason != c.wantReason {
				t.Errorf("state_reason %q, want %q", is.StateReason, c.wantReason)
			}
			if got := len(is.Comments) - len(before.Comments); got != 1 {
				t.Fatalf("%d new comments, want 1", got)
			}
			last := is.Comments[len(is.Comments)-1]
			if !strings.Contains(last.Body, c.wantComment) {
				t.Errorf("comment %q does not say %q", last.Body, c.wantComment)
			}
			if res.Handle != first.Handle || !strings.HasPrefix(res.URL, "https://github.example.com/octo/app/issues/1") {
				t.Errorf("result %+v", res)
			}
		})
	}
}

// The state changes before the comment is posted: it is idempotent, so a
// retry after a failed comment changes nothing twice.
func TestNotifier_Notify_stateBeforeComment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := notify(t, b.notifier, sample())
	nt := sample()
	nt.Kind, nt.Handle = integrations.KindResolved, first.Handle
	notify(t, b.notifier, nt)
	calls := b.fake.Calls()
	edit, comment := slices.Index(calls, githubtest.RouteEditIssue), slices.Index(calls, githubtest.RouteComment)
	if edit < 0 || comment < 0 || edit > comment {
		t.Errorf("calls %q: want the PATCH before the comment", calls)
	}
}

func TestNotifier_Notify_nothingToUpdate(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{integrations.KindResolved, integrations.KindUnresolved, integrations.KindIgnored, integrations.KindAssigned} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			nt := sample()
			nt.Kind = kind
			res := notify(t, b.notifier, nt)
			if *res != (integrations.Result{}) {
				t.Errorf("result %+v, want none", res)
			}
			if calls := b.fake.Calls(); len(calls) != 0 {
				t.Errorf("requests %q, want none", calls)
			}
		})
	}
}

func TestNotifier_Notify_targets(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, target, handle string
		wantHandle           string
		wantRepo             string
		wantErr              string // a permanent config error
	}{
		{name: "default", wantHandle: "octo/app#2", wantRepo: "octo/app"},
		{name: "target", target: "Octo/Other", wantHandle: "octo/other#1", wantRepo: "octo/other"},
		{name: "handle names its repository", target: "octo/other", handle: "octo/app#1", wantHandle: "octo/app#1", wantRepo: "octo/app"},
		{name: "bare number", handle: "1", wantHandle: "octo/app#1", wantRepo: "octo/app"},
		{name: "bad target", target: "not a repo", wantErr: "want owner/repo"},
		{name: "bad handle", handle: "octo/app#x", wantErr: "want owner/repo#number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Seed("octo/app", githubtest.Issue{Title: "filed before", Author: githubtest.Login})
			nt := sample()
			nt.Target, nt.Handle = c.target, c.handle
			res, err := b.notifier.Notify(context.Background(), nt)
			if c.wantErr != "" {
				var pe *integrations.PermanentError
				if !errors.As(err, &pe) || pe.Reason != integrations.ReasonConfig || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want a permanent config error saying %q", err, c.wantErr)
				}
				if calls := b.fake.Calls(); len(calls) != 0 {
					t.Errorf("requests %q, want none", calls)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Handle != c.wantHandle {
				t.Errorf("handle %q, want %q", res.Handle, c.wantHandle)
			}
			if b.fake.Issue(c.wantRepo, 1) == nil {
				t.Errorf("nothing in %s", c.wantRepo)
			}
		})
	}
}

// A crash between GitHub's answer and Tocsin storing the handle must not
// give a Tocsin issue a second GitHub issue: the retry, still without a
// handle, finds the first by its marker.
func TestNotifier_Notify_lostHandle(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		lost   githubtest.Answer
		search bool // bury the issue under newer ones, so that only the Search API finds it
	}{
		{name: "answer lost to a bad gateway", lost: githubtest.Answer{Status: http.StatusBadGateway, Commit: true}},
		{name: "answer lost to a timeout", lost: githubtest.Answer{Hang: true, Commit: true}},
		{name: "found by search", lost: githubtest.Answer{Status: http.StatusBadGateway, Commit: true}, search: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Fail(githubtest.RouteCreateIssue, c.lost)
			if c.lost.Hang {
				b.notifier.Timeout = 500 * time.Millisecond
			}
			_, err := b.notifier.Notify(context.Background(), sample())
			var re *integrations.RetryError
			if !errors.As(err, &re) {
				t.Fatalf("first attempt: %v, want a RetryError", err)
			}
			if c.lost.Hang && !strings.Contains(err.Error(), "no answer within 500ms") {
				t.Errorf("error %q does not give the deadline as its cause", err)
			}
			b.fake.ClearFails()
			b.notifier.Timeout = 0
			if c.search {
				for i := range newestIssues + 5 {
					b.fake.Seed("octo/app", githubtest.Issue{Title: "newer " + strconv.Itoa(i), Author: githubtest.Login})
				}
			}

			res := notify(t, b.notifier, sample())
			if res.Handle != "octo/app#1" {
				t.Errorf("handle %q, want octo/app#1", res.Handle)
			}
			if got := b.fake.Count(githubtest.RouteCreateIssue); got != 1 {
				t.Errorf("%d issue creations, want 1", got)
			}
			if got, want := b.fake.Count(githubtest.RouteSearch), map[bool]int{true: 1, false: 0}[c.search]; got != want {
				t.Errorf("%d searches, want %d", got, want)
			}
		})
	}
}

// The marker is taken only from an issue that the token's user filed for
// the same Tocsin issue of the same Tocsin: anybody can open an issue with
// any body in a public repository.
func TestNotifier_Notify_markerMustBeOurs(t *testing.T) {
	t.Parallel()
	planted := text(issueBody(sample(), testInstallation))
	for _, c := range []struct {
		name  string
		issue githubtest.Issue
	}{
		{name: "filed by someone else", issue: githubtest.Issue{Title: "x", Body: planted, Author: "mallory"}},
		{name: "another Tocsin", issue: githubtest.Issue{Title: "x", Author: githubtest.Login,
			Body: strings.ReplaceAll(planted, issueMarker(testInstallation, 42), issueMarker("0badc0de-0000-4000-8000-000000000000", 42))}},
		{name: "another Tocsin issue", issue: githubtest.Issue{Title: "x", Author: githubtest.Login,
			Body: strings.ReplaceAll(planted, issueMarker(testInstallation, 42), issueMarker(testInstallation, 421))}},
		{name: "a pull request", issue: githubtest.Issue{Title: "x", Body: planted, Author: githubtest.Login, PullRequest: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.Seed("octo/app", c.issue)
			res := notify(t, b.notifier, sample())
			if res.Handle != "octo/app#2" {
				t.Errorf("handle %q, want a new issue, octo/app#2", res.Handle)
			}
		})
	}
}

// A retry finds the issue this Tocsin filed even when base_url changed
// between the lost answer and the retry (the links in the body differ).
func TestNotifier_Notify_markerSurvivesBaseURLChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.Seed("octo/app", githubtest.Issue{Title: "x", Author: githubtest.Login,
		Body: strings.ReplaceAll(text(issueBody(sample(), testInstallation)), "tocsin.example.com", "errors.example.com")})
	res := notify(t, b.notifier, sample())
	if res.Handle != "octo/app#1" {
		t.Errorf("handle %q, want the issue filed before, octo/app#1", res.Handle)
	}
}

// An installation token cannot read GET /user: any author's marker is
// taken then, and filing still works.
func TestNotifier_Notify_installationToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetLogin("")
	if _, err := b.notifier.Login(context.Background()); !integrations.IsPermanent(err) {
		t.Errorf("Login: %v, want a permanent error", err)
	}
	first := notify(t, b.notifier, sample())
	again := notify(t, b.notifier, sample())
	if first.Handle != "octo/app#1" || again.Handle != first.Handle {
		t.Errorf("handles %q and %q, want octo/app#1 twice", first.Handle, again.Handle)
	}
	if got := b.fake.Count(githubtest.RouteUser); got != 1 {
		t.Errorf("GET /user asked %d times, want once", got)
	}
}

// A comment whose answer was lost is not posted again by the retry.
func TestNotifier_Notify_lostComment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := notify(t, b.notifier, sample())
	nt := sample()
	nt.Kind, nt.Handle = integrations.KindRegression, first.Handle
	b.fake.Fail(githubtest.RouteComment, githubtest.Answer{Status: http.StatusBadGateway, Commit: true})
	if _, err := b.notifier.Notify(context.Background(), nt); err == nil {
		t.Fatal("first attempt succeeded")
	}
	b.fake.ClearFails()
	res := notify(t, b.notifier, nt)
	is := b.fake.Issue("octo/app", 1)
	if len(is.Comments) != 1 {
		t.Errorf("%d comments, want 1", len(is.Comments))
	}
	if is.State != "open" || res.Handle != first.Handle {
		t.Errorf("state %q, result %+v", is.State, res)
	}
	// Another firing is another comment.
	nt.IdempotencyKey += "/2"
	notify(t, b.notifier, nt)
	if is := b.fake.Issue("octo/app", 1); len(is.Comments) != 2 {
		t.Errorf("%d comments after another firing, want 2", len(is.Comments))
	}
}

func TestNotifier_Login(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		login, err := b.notifier.Login(context.Background())
		if err != nil || login != githubtest.Login {
			t.Fatalf("Login: %q, %v", login, err)
		}
	}
	if got := b.fake.Count(githubtest.RouteUser); got != 1 {
		t.Errorf("GET /user asked %d times, want once", got)
	}
}

func TestNotifier_Check(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		extra map[string]any
		fail  *githubtest.Answer
		want  notifiertest.Case
	}{
		{name: "ok", want: notifiertest.Case{}},
		{name: "installation token: no permissions in the answer", extra: map[string]any{"permissions": nil}},
		{name: "read only", extra: map[string]any{"permissions": map[string]any{"pull": true, "triage": false, "push": false}},
			want: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{name: "issues disabled", extra: map[string]any{"has_issues": false},
			want: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonConfig}},
		{name: "archived", extra: map[string]any{"archived": true},
			want: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonConfig}},
		{name: "no such repository", fail: &githubtest.Answer{Status: 404}, want: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonNotFound}},
		{name: "bad credentials", fail: &githubtest.Answer{Status: 401}, want: notifiertest.Case{Want: "permanent", Reason: integrations.ReasonAuth}},
		{name: "server error", fail: &githubtest.Answer{Status: 502}, want: notifiertest.Case{Want: "retry", Reason: integrations.ReasonServer}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.fake.SetRepoFields(c.extra)
			if c.fail != nil {
				b.fake.Fail(githubtest.RouteRepo, *c.fail)
			}
			err := b.notifier.Check(context.Background())
			notifiertest.Check(t, c.want, err, []string{githubtest.Token, testWebhookSecret})
			if got := b.fake.Count(githubtest.RouteRepo); got != 1 {
				t.Errorf("GET /repos/octo/app asked %d times", got)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	cfg := Config{Token: githubtest.Token, Owner: "octo", Repo: "app"}
	for _, c := range []struct {
		apiURL, wantBase, wantErr string
	}{
		{apiURL: "", wantBase: DefaultAPIURL},
		{apiURL: "https://ghe.example.com/api/v3/", wantBase: "https://ghe.example.com/api/v3/"},
		{apiURL: "https://ghe.example.com/api/v3", wantBase: "https://ghe.example.com/api/v3/"},
		{apiURL: "http://127.0.0.1:8080/", wantBase: "http://127.0.0.1:8080/"},
		{apiURL: "ftp://ghe.example.com/", wantErr: "http or https"},
		{apiURL: "ghe.example.com/api/v3", wantErr: "http or https"},
		{apiURL: "https://user:hunter2@ghe.example.com/api/v3/", wantErr: "credentials"},
		{apiURL: "https://ghe.example.com/api/v3/?x=1", wantErr: "no query"},
	} {
		t.Run(c.apiURL, func(t *testing.T) {
			t.Parallel()
			n, err := New(cfg, c.apiURL, nil)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := n.client.BaseURL.String(); got != c.wantBase {
				t.Errorf("base %q, want %q", got, c.wantBase)
			}
		})
	}
	if _, err := New(Config{Owner: "octo", Repo: "app"}, "", nil); err == nil {
		t.Error("New without a token succeeded")
	}
}

// text is a rendered message, for tests that expect no error.
func text(s, _ string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
