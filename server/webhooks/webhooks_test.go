package webhooks_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// fixture is what one case works on: an issue of organization a linked to
// a service handle, and an issue of organization b.
type fixture struct {
	issue  int64
	handle string // of a's issue at the service
	other  int64  // b's issue
	n      int    // the case's number, for handles of its own
}

// outcome is what a case expects of a request.
type outcome struct {
	code int
	// status is a's issue's status afterwards; "" wants the issue, its
	// activities and its deliveries unchanged.
	status string
	acts   []string // activities added, oldest first
	// otherStatus is b's issue's status afterwards; "" wants it unchanged.
	otherStatus string
}

// check sends a request and compares the issues of both organizations
// with what they were before. With repeat the request is sent once before,
// and the second sending must change nothing.
func (w *world) check(t *testing.T, f *fixture, method, path string, header http.Header, body []byte, want outcome, repeat bool) (before, after *state) {
	t.Helper()
	if repeat {
		if code, resp := w.send(t, method, path, header, body); code != want.code {
			t.Fatalf("first %s %s: %d %s, want %d", method, path, code, resp, want.code)
		}
		want.status, want.acts, want.otherStatus = "", nil, ""
	}
	before = w.state(t, w.a.org.ID, f.issue)
	otherBefore := w.state(t, w.b.org.ID, f.other)
	code, resp := w.send(t, method, path, header, body)
	if code != want.code {
		t.Errorf("%s %s: %d %s, want %d", method, path, code, resp, want.code)
	}
	after = w.state(t, w.a.org.ID, f.issue)
	if want.status == "" {
		w.unchanged(t, "the issue", w.a.org.ID, f.issue, before)
	} else {
		if after.Issue.Status != want.status {
			t.Errorf("status %q, want %q", after.Issue.Status, want.status)
		}
		if got := newActivities(before, after); !slices.Equal(got, want.acts) {
			t.Errorf("new activities %q, want %q", got, want.acts)
		}
	}
	if want.otherStatus == "" {
		w.unchanged(t, "the other organization's issue", w.b.org.ID, f.other, otherBefore)
	} else if st := w.state(t, w.b.org.ID, f.other); st.Issue.Status != want.otherStatus {
		t.Errorf("other organization's issue %q, want %q", st.Issue.Status, want.otherStatus)
	}
	return before, after
}

func TestHandler_GitHub(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		w := setup(t, s)
		cases := []struct {
			name  string
			prior string // a's issue's status before
			// otherLinked links b's issue to the same GitHub issue
			// through b's integration.
			otherLinked bool
			request     func(f *fixture) (http.Header, []byte)
			repeat      bool
			want        outcome
		}{
			{
				name: "closed resolves",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent, status: store.StatusResolved, acts: []string{"set_resolved"}},
			},
			{
				name:  "reopened unresolves",
				prior: store.StatusResolved,
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("reopened", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent, status: store.StatusUnresolved, acts: []string{"set_unresolved"}},
			},
			{
				name:  "closed resolves an ignored issue",
				prior: store.StatusIgnored,
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent, status: store.StatusResolved, acts: []string{"set_resolved"}},
			},
			{
				name: "closed again changes nothing",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				repeat: true,
				want:   outcome{code: http.StatusNoContent},
			},
			{
				name:  "closed when already resolved changes nothing",
				prior: store.StatusResolved,
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent},
			},
			{
				name: "reopened when unresolved changes nothing",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("reopened", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent},
			},
			{
				name: "an unlinked GitHub issue",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, 100000+f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent},
			},
			{
				name: "the same number in another repository",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", "Octo/Other", f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent},
			},
			{
				name: "ping",
				request: func(*fixture) (http.Header, []byte) {
					b := githubPing()
					return githubHeader("ping", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent},
			},
			{
				name: "labeled",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("labeled", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent},
			},
			{
				name: "closed event of another kind",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issue_comment", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusNoContent},
			},
			{
				name: "bad signature",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, "not-the-secret")), b
				},
				want: outcome{code: http.StatusUnauthorized},
			},
			{
				name: "signature of a sha1 digest",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", "sha1="+signGitHub(b, githubSecretA)[len("sha256="):]), b
				},
				want: outcome{code: http.StatusUnauthorized},
			},
			{
				name: "missing signature",
				request: func(f *fixture) (http.Header, []byte) {
					return githubHeader("issues", ""), githubIssues("closed", githubRepo, f.n)
				},
				want: outcome{code: http.StatusUnauthorized},
			},
			{
				name: "signed with the other organization's secret",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretB)), b
				},
				want: outcome{code: http.StatusNoContent},
			},
			{
				name:        "signed with the other organization's secret, which links the same GitHub issue",
				otherLinked: true,
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretB)), b
				},
				want: outcome{code: http.StatusNoContent, otherStatus: store.StatusResolved},
			},
			{
				name: "body truncated after signing",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b[:len(b)/2]
				},
				want: outcome{code: http.StatusUnauthorized},
			},
			{
				name: "truncated body, signed",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					b = b[:len(b)/2]
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusBadRequest},
			},
			{
				name: "no event header",
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("", signGitHub(b, githubSecretA)), b
				},
				want: outcome{code: http.StatusBadRequest},
			},
		}
		for _, c := range cases {
			f := &fixture{n: w.next()}
			f.handle = fmt.Sprintf("octo/app#%d", f.n)
			f.issue = w.issue(t, w.a)
			w.link(t, w.a.github, f.issue, githubRepo, f.handle)
			w.setStatus(t, w.a, f.issue, c.prior)
			f.other = w.issue(t, w.b)
			if c.otherLinked {
				w.link(t, w.b.github, f.other, githubRepo, f.handle)
			}
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				header, body := c.request(f)
				before, after := w.check(t, f, http.MethodPost, "/webhooks/github", header, body, c.want, c.repeat)
				if d := newDeliveries(before, after); len(d) != 0 {
					t.Errorf("deliveries queued: %s", dump(d))
				}
			})
		}
	})
}

func TestHandler_Slack(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		w := setup(t, s)
		ts := func(f *fixture) string { return fmt.Sprintf("1700000000.%06d", f.n) }
		press := func(action string, secret string, at time.Time) func(f *fixture) (http.Header, []byte) {
			return func(f *fixture) (http.Header, []byte) {
				b := slackPress(action, f.issue, slackChannel, ts(f), "")
				return signSlack(b, secret, at), b
			}
		}
		cases := []struct {
			name    string
			prior   string
			request func(f *fixture) (http.Header, []byte)
			want    outcome
			// delivery is the kind of the message update queued for the
			// link; "" wants none.
			delivery string
		}{
			{
				name:     "resolve",
				request:  press("resolve", slackSecretA, t0),
				want:     outcome{code: http.StatusOK, status: store.StatusResolved, acts: []string{"set_resolved"}},
				delivery: integrations.KindResolved,
			},
			{
				name:     "ignore",
				request:  press("ignore", slackSecretA, t0),
				want:     outcome{code: http.StatusOK, status: store.StatusIgnored, acts: []string{"set_ignored"}},
				delivery: integrations.KindIgnored,
			},
			{
				name:     "resolve, signed 4 minutes ago",
				request:  press("resolve", slackSecretA, t0.Add(-4*time.Minute)),
				want:     outcome{code: http.StatusOK, status: store.StatusResolved, acts: []string{"set_resolved"}},
				delivery: integrations.KindResolved,
			},
			{
				name: "resolve in a reply of the thread",
				request: func(f *fixture) (http.Header, []byte) {
					b := slackPress("resolve", f.issue, slackChannel, fmt.Sprintf("1700000999.%06d", f.n), ts(f))
					return signSlack(b, slackSecretA, t0), b
				},
				want:     outcome{code: http.StatusOK, status: store.StatusResolved, acts: []string{"set_resolved"}},
				delivery: integrations.KindResolved,
			},
			{
				name: "resolve on a message Tocsin has no link for",
				request: func(f *fixture) (http.Header, []byte) {
					b := slackPress("resolve", f.issue, "C0ELSEWHERE", ts(f), "")
					return signSlack(b, slackSecretA, t0), b
				},
				want: outcome{code: http.StatusOK, status: store.StatusResolved, acts: []string{"set_resolved"}},
			},
			{
				name:    "assign to me is acknowledged only",
				request: press("assign_me", slackSecretA, t0),
				want:    outcome{code: http.StatusOK},
			},
			{
				name:    "stale timestamp",
				request: press("resolve", slackSecretA, t0.Add(-5*time.Minute-time.Second)),
				want:    outcome{code: http.StatusUnauthorized},
			},
			{
				name:    "timestamp from the future",
				request: press("resolve", slackSecretA, t0.Add(6*time.Minute)),
				want:    outcome{code: http.StatusUnauthorized},
			},
			{
				name:    "bad signature",
				request: press("resolve", "not-the-signing-secret", t0),
				want:    outcome{code: http.StatusUnauthorized},
			},
			{
				name: "unsigned",
				request: func(f *fixture) (http.Header, []byte) {
					return http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
						slackPress("resolve", f.issue, slackChannel, ts(f), "")
				},
				want: outcome{code: http.StatusUnauthorized},
			},
			{
				name: "body changed after signing",
				request: func(f *fixture) (http.Header, []byte) {
					signed := slackPress("ignore", f.issue, slackChannel, ts(f), "")
					return signSlack(signed, slackSecretA, t0), slackPress("resolve", f.issue, slackChannel, ts(f), "")
				},
				want: outcome{code: http.StatusUnauthorized},
			},
			{
				name: "another organization's issue",
				request: func(f *fixture) (http.Header, []byte) {
					b := slackPress("resolve", f.other, slackChannel, ts(f), "")
					return signSlack(b, slackSecretA, t0), b
				},
				want: outcome{code: http.StatusNotFound},
			},
			{
				name:    "signed by the other organization's app",
				request: press("resolve", slackSecretB, t0),
				want:    outcome{code: http.StatusNotFound},
			},
			{
				name: "an issue that does not exist",
				request: func(f *fixture) (http.Header, []byte) {
					b := slackPress("resolve", 1<<40, slackChannel, ts(f), "")
					return signSlack(b, slackSecretA, t0), b
				},
				want: outcome{code: http.StatusNotFound},
			},
			{
				name:    "unknown action",
				request: press("delete", slackSecretA, t0),
				want:    outcome{code: http.StatusBadRequest},
			},
			{
				name: "not a form",
				request: func(*fixture) (http.Header, []byte) {
					b := []byte(`{"type":"block_actions"}`)
					return signSlack(b, slackSecretA, t0), b
				},
				want: outcome{code: http.StatusBadRequest},
			},
		}
		for _, c := range cases {
			f := &fixture{n: w.next()}
			f.handle = slackChannel + ":" + ts(f)
			f.issue = w.issue(t, w.a)
			w.link(t, w.a.slack, f.issue, slackTarget, f.handle)
			w.setStatus(t, w.a, f.issue, c.prior)
			f.other = w.issue(t, w.b)
			w.link(t, w.b.slack, f.other, slackTarget, f.handle)
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				header, body := c.request(f)
				before, after := w.check(t, f, http.MethodPost, "/webhooks/slack/interactive", header, body, c.want, false)
				ds := newDeliveries(before, after)
				if c.delivery == "" {
					if len(ds) != 0 {
						t.Errorf("deliveries queued: %s", dump(ds))
					}
					return
				}
				if len(ds) != 1 {
					t.Fatalf("%d deliveries queued, want 1: %s", len(ds), dump(ds))
				}
				d := ds[0]
				if d.Kind != c.delivery || d.Provider != "slack" || d.IntegrationID == nil || *d.IntegrationID != w.a.slack.ID ||
					d.Target != slackTarget || d.IssueID == nil || *d.IssueID != f.issue || d.Status != store.DeliveryPending ||
					d.OrganizationID != w.a.org.ID {
					t.Errorf("delivery %s\nwant kind %s for the slack integration %d at %s", dump(d), c.delivery, w.a.slack.ID, slackTarget)
				}
				var opts map[string]any
				if err := json.Unmarshal([]byte(d.Options), &opts); err != nil || opts["actor"] != "jane" {
					t.Errorf("delivery options %s (%v), want the actor jane", d.Options, err)
				}
			})
		}
	})
}

func TestHandler_Trello(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		w := setup(t, s)
		move := func(before, after, secret, callback string) func(f *fixture) (http.Header, []byte) {
			return func(f *fixture) (http.Header, []byte) {
				b := trelloMove(f.handle, before, after)
				return signTrello(b, callback, secret), b
			}
		}
		cases := []struct {
			name    string
			method  string // POST unless set
			prior   string
			request func(f *fixture) (http.Header, []byte)
			repeat  bool
			want    outcome
		}{
			{
				name:    "HEAD when the webhook is created",
				method:  http.MethodHead,
				request: func(*fixture) (http.Header, []byte) { return http.Header{}, nil },
				want:    outcome{code: http.StatusOK},
			},
			{
				name:    "moved into the resolved list",
				request: move(listNew, listResolved, trelloSecretA, trelloCallback),
				want:    outcome{code: http.StatusOK, status: store.StatusResolved, acts: []string{"set_resolved"}},
			},
			{
				name:    "moved into the resolved list again",
				request: move(listNew, listResolved, trelloSecretA, trelloCallback),
				repeat:  true,
				want:    outcome{code: http.StatusOK},
			},
			{
				name:    "moved into the resolved list when already resolved",
				prior:   store.StatusResolved,
				request: move(listDoing, listResolved, trelloSecretA, trelloCallback),
				want:    outcome{code: http.StatusOK},
			},
			{
				name:    "moved out of the resolved list",
				prior:   store.StatusResolved,
				request: move(listResolved, listDoing, trelloSecretA, trelloCallback),
				want:    outcome{code: http.StatusOK, status: store.StatusUnresolved, acts: []string{"set_unresolved"}},
			},
			{
				name:    "moved between other lists",
				request: move(listNew, listDoing, trelloSecretA, trelloCallback),
				want:    outcome{code: http.StatusOK},
			},
			{
				name:    "a resolved issue's card moved between other lists",
				prior:   store.StatusResolved,
				request: move(listDoing, listNew, trelloSecretA, trelloCallback),
				want:    outcome{code: http.StatusOK},
			},
			{
				name: "a comment",
				request: func(f *fixture) (http.Header, []byte) {
					b := trelloComment(f.handle)
					return signTrello(b, trelloCallback, trelloSecretA), b
				},
				want: outcome{code: http.StatusOK},
			},
			{
				name: "a card Tocsin did not make",
				request: func(f *fixture) (http.Header, []byte) {
					b := trelloMove(trelloCard(100000+f.n), listNew, listResolved)
					return signTrello(b, trelloCallback, trelloSecretA), b
				},
				want: outcome{code: http.StatusOK},
			},
			{
				name:    "signed with the other organization's secret",
				request: move(listNew, listResolved, trelloSecretB, trelloCallback),
				want:    outcome{code: http.StatusOK},
			},
			{
				name:    "bad signature",
				request: move(listNew, listResolved, "not-the-secret", trelloCallback),
				want:    outcome{code: http.StatusUnauthorized},
			},
			{
				name: "missing signature",
				request: func(f *fixture) (http.Header, []byte) {
					return http.Header{"Content-Type": {"application/json"}}, trelloMove(f.handle, listNew, listResolved)
				},
				want: outcome{code: http.StatusUnauthorized},
			},
			{
				name:    "signed for another callback URL",
				request: move(listNew, listResolved, trelloSecretA, "https://evil.example.com/webhooks/trello"),
				want:    outcome{code: http.StatusUnauthorized},
			},
			{
				name:    "signed for the callback URL with a query",
				request: move(listNew, listResolved, trelloSecretA, trelloCallback+"?integration=1"),
				want:    outcome{code: http.StatusUnauthorized},
			},
			{
				name:    "signed without the callback URL",
				request: move(listNew, listResolved, trelloSecretA, ""),
				want:    outcome{code: http.StatusUnauthorized},
			},
			{
				name: "body changed after signing",
				request: func(f *fixture) (http.Header, []byte) {
					signed := trelloMove(f.handle, listNew, listDoing)
					return signTrello(signed, trelloCallback, trelloSecretA), trelloMove(f.handle, listNew, listResolved)
				},
				want: outcome{code: http.StatusUnauthorized},
			},
			{
				name: "not JSON, signed",
				request: func(*fixture) (http.Header, []byte) {
					b := []byte(`{"action": `)
					return signTrello(b, trelloCallback, trelloSecretA), b
				},
				want: outcome{code: http.StatusBadRequest},
			},
		}
		for _, c := range cases {
			f := &fixture{n: w.next()}
			f.handle = trelloCard(f.n)
			f.issue = w.issue(t, w.a)
			w.link(t, w.a.trello, f.issue, listNew, f.handle)
			w.setStatus(t, w.a, f.issue, c.prior)
			f.other = w.issue(t, w.b)
			w.link(t, w.b.trello, f.other, listNew, trelloCard(200000+f.n))
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				method := c.method
				if method == "" {
					method = http.MethodPost
				}
				header, body := c.request(f)
				before, after := w.check(t, f, method, "/webhooks/trello", header, body, c.want, c.repeat)
				if d := newDeliveries(before, after); len(d) != 0 {
					t.Errorf("deliveries queued: %s", dump(d))
				}
			})
		}
	})
}

// One Slack app or Trello key often serves every organization of a server,
// and a GitHub webhook secret may be reused: a request that more than one
// organization's integration verifies acts in the organization it names
// (the issue of the Slack button, the linked GitHub issue or Trello card),
// not in whichever integration was created first.
func TestHandler_SharedSecret(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		w := setup(t, s)
		// shared is created after a and signs with a's secrets.
		shared := w.tenant(t, w.admin, "shared", githubSecretA, slackSecretA, trelloSecretA)
		cases := []struct {
			name     string
			path     string
			link     func(f *fixture) (*store.Integration, string, string) // shared's link: integration, target, handle
			request  func(f *fixture) (http.Header, []byte)
			code     int
			delivery string // kind of the message update queued through shared's Slack integration
		}{
			{
				name: "github",
				path: "/webhooks/github",
				link: func(f *fixture) (*store.Integration, string, string) {
					return shared.github, githubRepo, fmt.Sprintf("octo/app#%d", f.n)
				},
				request: func(f *fixture) (http.Header, []byte) {
					b := githubIssues("closed", githubRepo, f.n)
					return githubHeader("issues", signGitHub(b, githubSecretA)), b
				},
				code: http.StatusNoContent,
			},
			{
				name: "slack",
				path: "/webhooks/slack/interactive",
				link: func(f *fixture) (*store.Integration, string, string) {
					return shared.slack, slackTarget, fmt.Sprintf("%s:1700000000.%06d", slackChannel, f.n)
				},
				request: func(f *fixture) (http.Header, []byte) {
					b := slackPress("resolve", f.other, slackChannel, fmt.Sprintf("1700000000.%06d", f.n), "")
					return signSlack(b, slackSecretA, t0), b
				},
				code:     http.StatusOK,
				delivery: integrations.KindResolved,
			},
			{
				name: "trello",
				path: "/webhooks/trello",
				link: func(f *fixture) (*store.Integration, string, string) {
					return shared.trello, listNew, trelloCard(f.n)
				},
				request: func(f *fixture) (http.Header, []byte) {
					b := trelloMove(trelloCard(f.n), listNew, listResolved)
					return signTrello(b, trelloCallback, trelloSecretA), b
				},
				code: http.StatusOK,
			},
		}
		for _, c := range cases {
			// f.issue is a's, unlinked; f.other is shared's, linked.
			f := &fixture{n: w.next()}
			f.issue = w.issue(t, w.a)
			f.other = w.issue(t, shared)
			in, target, handle := c.link(f)
			w.link(t, in, f.other, target, handle)
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				header, body := c.request(f)
				before := w.state(t, w.a.org.ID, f.issue)
				sharedBefore := w.state(t, shared.org.ID, f.other)
				if code, resp := w.send(t, http.MethodPost, c.path, header, body); code != c.code {
					t.Errorf("POST %s: %d %s, want %d", c.path, code, resp, c.code)
				}
				w.unchanged(t, "a's issue", w.a.org.ID, f.issue, before)
				after := w.state(t, shared.org.ID, f.other)
				if after.Issue.Status != store.StatusResolved {
					t.Errorf("shared's issue %q, want resolved", after.Issue.Status)
				}
				if got := newActivities(sharedBefore, after); !slices.Equal(got, []string{"set_resolved"}) {
					t.Errorf("new activities %q, want [set_resolved]", got)
				}
				ds := newDeliveries(sharedBefore, after)
				switch {
				case c.delivery == "" && len(ds) != 0:
					t.Errorf("deliveries queued: %s", dump(ds))
				case c.delivery != "" && (len(ds) != 1 || ds[0].Kind != c.delivery || *ds[0].IntegrationID != shared.slack.ID):
					t.Errorf("deliveries %s, want one %s through integration %d", dump(ds), c.delivery, shared.slack.ID)
				}
			})
		}
	})
}
