package github

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations/github/githubtest"
)

func readPayload(t *testing.T, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := readPayload(t, "issues_closed.json")
	good := githubtest.Sign(body, testWebhookSecret)
	for _, c := range []struct {
		name   string
		header string // "" for none
		body   []byte
		secret string
		want   error
	}{
		{name: "good", header: good, body: body, secret: testWebhookSecret},
		{name: "upper-case hex", header: "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256=")), body: body, secret: testWebhookSecret},
		{name: "other secret", header: githubtest.Sign(body, "other"), body: body, secret: testWebhookSecret, want: ErrBadSignature},
		{name: "body changed", header: good, body: append([]byte(nil), append(body, ' ')...), secret: testWebhookSecret, want: ErrBadSignature},
		{name: "missing", body: body, secret: testWebhookSecret, want: ErrNoSignature},
		{name: "sha1", header: "sha1=" + strings.TrimPrefix(good, "sha256="), body: body, secret: testWebhookSecret, want: ErrBadSignature},
		{name: "no prefix", header: strings.TrimPrefix(good, "sha256="), body: body, secret: testWebhookSecret, want: ErrBadSignature},
		{name: "not hex", header: "sha256=" + strings.Repeat("zz", 32), body: body, secret: testWebhookSecret, want: ErrBadSignature},
		{name: "truncated", header: good[:len(good)-2], body: body, secret: testWebhookSecret, want: ErrBadSignature},
		{name: "no secret configured", header: githubtest.Sign(body, ""), body: body, secret: "", want: ErrNoSecret},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if c.header != "" {
				h.Set("X-Hub-Signature-256", c.header)
			}
			if err := VerifySignature(h, c.body, c.secret); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("VerifySignature: %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseIssueEvent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, event, file string
		want              *IssueEvent
		wantHandle        string
		ignored           bool // wants ErrIgnored
		malformed         bool // wants another error
	}{
		{name: "closed", event: "issues", file: "issues_closed.json", wantHandle: "octo/app#17", want: &IssueEvent{
			Action: ActionClosed, Repository: "Octo/App", Number: 17, HTMLURL: "https://github.com/Octo/App/issues/17",
			StateReason: "completed", Sender: "jane-dev", SenderType: "User", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"}},
		{name: "reopened", event: "issues", file: "issues_reopened.json", wantHandle: "octo/app#17", want: &IssueEvent{
			Action: ActionReopened, Repository: "Octo/App", Number: 17, HTMLURL: "https://github.com/Octo/App/issues/17",
			StateReason: "reopened", Sender: "jane-dev", SenderType: "User", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"}},
		{name: "closed by an app", event: "issues", file: "issues_closed_by_app.json", wantHandle: "octo/app#17", want: &IssueEvent{
			Action: ActionClosed, Repository: "Octo/App", Number: 17, HTMLURL: "https://github.com/Octo/App/issues/17",
			StateReason: "not_planned", Sender: "tocsin-app[bot]", SenderType: "Bot", DeliveryID: "72d3162e-cc78-11e3-81ab-4c9367dc0958"}},
		{name: "labeled", event: "issues", file: "issues_labeled.json", ignored: true},
		{name: "ping", event: "ping", file: "ping.json", ignored: true},
		{name: "issue comment", event: "issue_comment", file: "issues_closed.json", ignored: true},
		{name: "no event header", event: "", file: "issues_closed.json", malformed: true},
		{name: "not JSON", event: "issues", file: "", malformed: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			body := []byte("{not json")
			if c.file != "" {
				body = readPayload(t, c.file)
			}
			h := http.Header{}
			if c.event != "" {
				h.Set("X-GitHub-Event", c.event)
			}
			h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
			h.Set("X-Hub-Signature-256", githubtest.Sign(body, testWebhookSecret))
			if err := VerifySignature(h, body, testWebhookSecret); err != nil {
				t.Fatal(err)
			}
			got, err := ParseIssueEvent(h, body)
			switch {
			case c.ignored:
				if !errors.Is(err, ErrIgnored) {
					t.Fatalf("err %v, want ErrIgnored", err)
				}
				return
			case c.malformed:
				if err == nil || errors.Is(err, ErrIgnored) {
					t.Fatalf("err %v, want a malformed delivery", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if *got != *c.want {
				t.Errorf("event %+v\nwant %+v", *got, *c.want)
			}
			if got.Handle() != c.wantHandle {
				t.Errorf("handle %q, want %q", got.Handle(), c.wantHandle)
			}
		})
	}
}

// The handle of a webhook's issue is the one Notify answered, whatever
// the case of the configured owner and repository.
func TestIssueEvent_Handle_matchesNotify(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.notifier.repo = repoRef{owner: "OCTO", name: "app"}
	for range 16 {
		b.fake.Seed("octo/app", githubtest.Issue{Title: "earlier", Author: "someone"})
	}
	res := notify(t, b.notifier, sample())
	ev := &IssueEvent{Repository: "Octo/App", Number: 17}
	if res.Handle != ev.Handle() {
		t.Errorf("Notify answered %q, the webhook's handle is %q", res.Handle, ev.Handle())
	}
}
