package github

import (
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/github/githubtest"
)

// An override is used for the issue's title and body, under the marker
// that finds the issue again; a broken one gives way to the built-in
// template, and the result says why.
func TestNotifier_Notify_overrides(t *testing.T) {
	t.Parallel()
	b := setup(t)
	nt := sample()
	nt.Issue.Title = "<!channel> [x](javascript:alert(1)) @here"
	nt.Templates = map[string]string{
		"github/issue-title.txt": "Tocsin: {{.Issue.Title}}\n",
		"github/issue.md":        "Custom: [{{.Issue.Title}}]({{.Issue.URL}})",
	}
	res := notify(t, b.notifier, nt)
	is := b.fake.Issue("octo/app", 1)
	if res.Warning != "" {
		t.Errorf("warning %q", res.Warning)
	}
	if is.Title != "Tocsin: "+nt.Issue.Title {
		t.Errorf("title %q", is.Title)
	}
	wantBody := "<!-- " + issueMarker(testInstallation, nt.Issue.ID) + " -->\nCustom: [" + escapeInline(nt.Issue.Title, maxFieldRunes) + "](" + nt.Issue.URL + ")\n"
	if is.Body != wantBody {
		t.Errorf("body %q, want %q", is.Body, wantBody)
	}

	for name, body := range map[string]string{
		"github/issue.md":   "{{.Issue.Nope}}",
		"github/comment.md": "{{if}}",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			nt := sample()
			if name == "github/comment.md" {
				nt.Kind, nt.Handle = integrations.KindResolved, "octo/app#1"
				b.fake.Seed("octo/app", githubtest.Issue{Title: "filed", Author: githubtest.Login})
			}
			nt.Templates = map[string]string{name: body}
			res := notify(t, b.notifier, nt)
			if !strings.Contains(res.Warning, name) || !strings.Contains(res.Warning, "built-in") {
				t.Errorf("warning %q, want %s named", res.Warning, name)
			}
			is := b.fake.Issue("octo/app", 1)
			got := is.Body
			want := text(issueBody(sample(), testInstallation))
			if name == "github/comment.md" {
				got = is.Comments[len(is.Comments)-1].Body
				nt.Templates = nil
				want = text(commentBody(nt))
			}
			if got != want {
				t.Errorf("posted %q, want the built-in %q", got, want)
			}
		})
	}
}
