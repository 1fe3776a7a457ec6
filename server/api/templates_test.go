package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event/eventtest"
	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/github"
	"github.com/tocsin/tocsin/integrations/slack"
	"github.com/tocsin/tocsin/integrations/trello"
	"github.com/tocsin/tocsin/integrations/webhook"
	"github.com/tocsin/tocsin/store"
)

// allTemplates are the templates the API serves: every service's.
var allTemplates = slices.Concat(email.Templates, slack.Templates, github.Templates, trello.Templates, webhook.Templates)

func templatesPath(tn *tenant) string {
	return "/api/0/organizations/" + tn.org.Slug + "/templates/"
}

// templateOverrides returns the overrides the list shows for a name, as
// "project|integration|body" with "-" for null.
func templateOverrides(t *testing.T, v any, name string) []string {
	t.Helper()
	for _, tj := range list(t, get(v, "templates")) {
		if str(t, tj, "name") != name {
			continue
		}
		var out []string
		for _, o := range list(t, get(tj, "overrides")) {
			scope := func(k string) string {
				if s, ok := get(o, k).(string); ok {
					return s
				}
				if get(o, k) != nil {
					t.Fatalf("%s of %v is %#v, want a string or null", k, o, get(o, k))
				}
				return "-"
			}
			if str(t, o, "dateUpdated") == "" {
				t.Errorf("override %v has no dateUpdated", o)
			}
			out = append(out, scope("project")+"|"+scope("integration")+"|"+str(t, o, "body"))
		}
		slices.Sort(out)
		return out
	}
	t.Fatalf("%s is not listed in %v", name, v)
	return nil
}

// wantBodyError checks a 400 about the template body: the detail and
// Sentry's {"body": ["…"]} both carry the message, which mentions each part.
func wantBodyError(t *testing.T, v any, parts ...string) {
	t.Helper()
	wantDetail(t, v, parts...)
	msgs, ok := get(v, "body").([]any)
	if !ok || len(msgs) != 1 {
		t.Fatalf("error body %v has no body message", v)
	}
	for _, p := range parts {
		if !strings.Contains(msgs[0].(string), p) {
			t.Errorf("body error %q does not mention %q", msgs[0], p)
		}
	}
}

func TestTemplates_List(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		v := e.want(t, http.StatusOK, "GET", templatesPath(a), a.token, nil)
		var names []string
		for _, tj := range list(t, get(v, "templates")) {
			name := str(t, tj, "name")
			names = append(names, name)
			def := ""
			if mt, ok := allTemplates.Lookup(name); ok {
				def = mt.Default()
			}
			if got := str(t, tj, "default"); strings.TrimSpace(got) == "" || got != def {
				t.Errorf("%s: default %q, want the built-in body", name, got)
			}
			if o := list(t, get(tj, "overrides")); len(o) != 0 {
				t.Errorf("%s: overrides %v, want none", name, o)
			}
		}
		want := allTemplates.Names()
		if !slices.Equal(names, want) {
			t.Errorf("names = %v, want %v", names, want)
		}
	})
}

func TestTemplates_CRUD(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		integration := e.integration(t, a.org, "email")
		path := templatesPath(a) + "email/notification.txt/"
		orgBody := "{{.Headline}}\n{{.Issue.Title}} ({{.Issue.Count}})\n{{.Issue.URL}}\n"
		projectBody := "[web] {{.Issue.ShortID}}: {{.Issue.Title}}\n"
		integrationBody := "{{with .Event}}{{.Message}}{{end}}\n"

		v := e.want(t, http.StatusOK, "PUT", path, a.token, map[string]any{"body": orgBody})
		if str(t, v, "name") != "email/notification.txt" || str(t, v, "body") != orgBody ||
			get(v, "project") != nil || get(v, "integration") != nil || str(t, v, "dateUpdated") == "" {
			t.Errorf("PUT at organization scope = %v", v)
		}
		v = e.want(t, http.StatusOK, "PUT", path+"?project="+a.project.Slug, a.token, map[string]any{"body": projectBody})
		if get(v, "project") != a.project.Slug || get(v, "integration") != nil || str(t, v, "body") != projectBody {
			t.Errorf("PUT at project scope = %v", v)
		}
		v = e.want(t, http.StatusOK, "PUT", path+"?integration="+integration, a.token, map[string]any{"body": "first"})
		if get(v, "integration") != integration || get(v, "project") != nil {
			t.Errorf("PUT at integration scope = %v", v)
		}
		// A second PUT in the same scope replaces the override.
		e.want(t, http.StatusOK, "PUT", path+"?integration="+integration, a.token, map[string]any{"body": integrationBody})
		html := "<p>{{.Issue.Title}}</p>"
		e.want(t, http.StatusOK, "PUT", templatesPath(a)+"email/digest.html/", a.token, map[string]any{"body": html})

		v = e.want(t, http.StatusOK, "GET", templatesPath(a), a.token, nil)
		want := []string{"-|" + integration + "|" + integrationBody, "-|-|" + orgBody, a.project.Slug + "|-|" + projectBody}
		slices.Sort(want)
		if got := templateOverrides(t, v, "email/notification.txt"); !slices.Equal(got, want) {
			t.Errorf("notification.txt overrides = %q, want %q", got, want)
		}
		if got := templateOverrides(t, v, "email/digest.html"); !slices.Equal(got, []string{"-|-|" + html}) {
			t.Errorf("digest.html overrides = %q", got)
		}
		if got := templateOverrides(t, v, "email/notification.html"); len(got) != 0 {
			t.Errorf("notification.html overrides = %q, want none", got)
		}

		// Each scope reads back its own override.
		if b := str(t, e.want(t, http.StatusOK, "GET", path, a.token, nil), "body"); b != orgBody {
			t.Errorf("GET at organization scope: body %q", b)
		}
		if b := str(t, e.want(t, http.StatusOK, "GET", path+"?project="+a.project.Slug, a.token, nil), "body"); b != projectBody {
			t.Errorf("GET at project scope: body %q", b)
		}
		// The project may be named by id, as elsewhere in the API.
		if b := str(t, e.want(t, http.StatusOK, "GET", path+"?project="+id(a.project.ID), a.token, nil), "body"); b != projectBody {
			t.Errorf("GET at project scope by id: body %q", b)
		}
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", templatesPath(a)+"email/summary.txt/", a.token, nil))

		e.want(t, http.StatusNoContent, "DELETE", path, a.token, nil)
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", path, a.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "DELETE", path, a.token, nil))
		// The narrower overrides stay.
		v = e.want(t, http.StatusOK, "GET", templatesPath(a), a.token, nil)
		want = []string{"-|" + integration + "|" + integrationBody, a.project.Slug + "|-|" + projectBody}
		slices.Sort(want)
		if got := templateOverrides(t, v, "email/notification.txt"); !slices.Equal(got, want) {
			t.Errorf("after DELETE, notification.txt overrides = %q, want %q", got, want)
		}

		// Unknown names are not resources.
		for _, p := range []string{"email/nope.txt/", "slack/notification.txt/", "email/notification.txt.bak/"} {
			wantDetail(t, e.want(t, http.StatusNotFound, "PUT", templatesPath(a)+p, a.token, map[string]any{"body": "x"}))
			wantDetail(t, e.want(t, http.StatusNotFound, "GET", templatesPath(a)+p, a.token, nil))
		}
		// Without the trailing slash: redirected, as every API path.
		code, hdr, _ := e.do(t, "PUT", strings.TrimSuffix(path, "/"), a.token, map[string]any{"body": "x"})
		if code != http.StatusPermanentRedirect || hdr.Get("Location") != path {
			t.Errorf("PUT without the slash: %d to %q", code, hdr.Get("Location"))
		}
	})
}

func TestTemplates_Validation(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		txt := templatesPath(a) + "email/notification.txt/"
		html := templatesPath(a) + "email/notification.html/"

		// A field the view does not have: refused with where it is.
		v := e.want(t, http.StatusBadRequest, "PUT", txt, a.token, map[string]any{"body": "{{.Headline}}\n\n{{ .Nope }}\n"})
		wantBodyError(t, v, "email/notification.txt:3", "Nope")
		v = e.want(t, http.StatusBadRequest, "PUT", html, a.token, map[string]any{"body": "<h1>{{.Headline}}</h1>\n<p>{{ .Issue.Nope }}</p>"})
		wantBodyError(t, v, "email/notification.html:2", "Nope")
		// A function that does not exist: a parse error.
		v = e.want(t, http.StatusBadRequest, "PUT", txt, a.token, map[string]any{"body": "{{ oops }}"})
		wantBodyError(t, v, "email/notification.txt:1", `"oops" not defined`)
		// Syntax errors.
		v = e.want(t, http.StatusBadRequest, "PUT", txt, a.token, map[string]any{"body": "ok\n{{if .Event}}unclosed"})
		wantBodyError(t, v, "email/notification.txt")
		// The summary's fields are checked against a summary.
		e.want(t, http.StatusOK, "PUT", templatesPath(a)+"email/summary.txt/", a.token,
			map[string]any{"body": "{{with .Summary}}{{.Events}}{{end}}"})
		wantBodyError(t, e.want(t, http.StatusBadRequest, "PUT", templatesPath(a)+"email/summary.txt/", a.token,
			map[string]any{"body": "{{.Summary.Nope}}"}), "email/summary.txt:1")

		for _, tc := range []struct {
			body any
			msg  string
		}{
			{map[string]any{}, "required"},
			{map[string]any{"body": "  \n"}, "blank"},
			{map[string]any{"body": strings.Repeat("x", 64<<10+1)}, "65536"},
			{map[string]any{"body": 3}, "body"},
		} {
			wantDetail(t, e.want(t, http.StatusBadRequest, "PUT", txt, a.token, tc.body), tc.msg)
		}
		// At the limit it is fine.
		e.want(t, http.StatusOK, "PUT", txt, a.token, map[string]any{"body": strings.Repeat("x", 64<<10)})
		e.want(t, http.StatusNoContent, "DELETE", txt, a.token, nil)

		// Nothing refused was saved.
		v = e.want(t, http.StatusOK, "GET", templatesPath(a), a.token, nil)
		for _, name := range []string{"email/notification.txt", "email/notification.html"} {
			if got := templateOverrides(t, v, name); len(got) != 0 {
				t.Errorf("%s overrides = %q, want none", name, got)
			}
		}
	})
}

func TestTemplates_Preview(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a, b := e.tenant(t, "acme"), e.tenant(t, "globex")
		now := time.Now().UTC().Truncate(time.Second)
		res := e.ingestEvents(t, a.project, now, eventtest.PythonError(1, now, map[string]any{
			"exception": map[string]any{"values": []any{map[string]any{"type": "ZeroDivisionError", "value": "division by zero"}}}}))
		is, err := e.st.IssueGet(context.Background(), a.org.ID, res[0].IssueID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(is.Title, "ZeroDivisionError") {
			t.Fatalf("issue title %q", is.Title)
		}
		shortID := store.ShortID(a.project.Slug, is.ShortID)
		other := e.ingestEvents(t, b.project, now, eventtest.PythonError(2, now, nil))[0].IssueID
		preview := templatesPath(a) + "preview/"
		issue := id(is.ID)

		// The event is the issue's latest, shown as an alert shows it (its
		// message, else its title).
		v := e.want(t, http.StatusOK, "POST", preview, a.token, map[string]any{"name": "email/notification.txt",
			"body": "Title: {{.Issue.Title}}\nShort: {{.Issue.ShortID}}\nCount: {{.Issue.Count}}\nURL: {{.Issue.URL}}\nEvent: {{.Event.Message}}", "issue": issue})
		out := str(t, v, "output")
		for _, want := range []string{"Title: " + is.Title, "Short: " + shortID, "Count: 1",
			"URL: " + e.url + "/organizations/acme/issues/" + issue + "/", "Event: " + is.Title} {
			if !strings.Contains(out, want) {
				t.Errorf("preview %q does not contain %q", out, want)
			}
		}
		// By short id too.
		v = e.want(t, http.StatusOK, "POST", preview, a.token, map[string]any{"name": "email/notification.txt",
			"body": "{{.Issue.ID}}", "issue": shortID})
		if out := str(t, v, "output"); out != issue {
			t.Errorf("preview by short id %s = %q, want %s", shortID, out, issue)
		}
		// HTML templates escape the issue's text by context.
		markup := e.ingestEvents(t, a.project, now, eventtest.PythonError(3, now, map[string]any{"fingerprint": []string{"markup"},
			"exception": map[string]any{"values": []any{map[string]any{"type": "ValueError", "value": "<script>x</script>"}}}}))[0].IssueID
		v = e.want(t, http.StatusOK, "POST", preview, a.token, map[string]any{"name": "email/notification.html",
			"body": "<b>{{.Issue.Title}}</b>", "issue": id(markup)})
		if out := str(t, v, "output"); out != "<b>ValueError: &lt;script&gt;x&lt;/script&gt;</b>" {
			t.Errorf("HTML preview = %q", out)
		}
		// Without a body: the built-in template, then the saved override.
		for _, name := range []string{"email/notification.txt", "email/notification.html", "email/digest.txt",
			"email/digest.html", "email/summary.txt", "email/summary.html"} {
			v = e.want(t, http.StatusOK, "POST", preview, a.token, map[string]any{"name": name, "issue": issue})
			if out := str(t, v, "output"); !strings.Contains(out, shortID) {
				t.Errorf("built-in %s preview does not show %s: %q", name, shortID, out)
			}
		}
		e.want(t, http.StatusOK, "PUT", templatesPath(a)+"email/notification.txt/?project="+a.project.Slug, a.token,
			map[string]any{"body": "saved: {{.Issue.Title}}"})
		v = e.want(t, http.StatusOK, "POST", preview, a.token, map[string]any{"name": "email/notification.txt", "issue": issue})
		if out := str(t, v, "output"); out != "saved: "+is.Title {
			t.Errorf("preview of the saved override = %q", out)
		}

		// A template that fails on this issue: the error, with where.
		v = e.want(t, http.StatusBadRequest, "POST", preview, a.token, map[string]any{"name": "email/notification.txt",
			"body": "ok\n{{.Issue.Nope}}", "issue": issue})
		wantBodyError(t, v, "email/notification.txt:2", "Nope")
		wantBodyError(t, e.want(t, http.StatusBadRequest, "POST", preview, a.token, map[string]any{"name": "email/notification.txt",
			"body": "{{ oops }}", "issue": issue}), `"oops" not defined`)

		// Unknown issues, and other organizations' issues, are not found.
		for _, ref := range []string{"999999999", id(other), "GLOBEX-WEB-1", "nope"} {
			wantDetail(t, e.want(t, http.StatusNotFound, "POST", preview, a.token, map[string]any{"name": "email/notification.txt",
				"body": "{{.Issue.Title}}", "issue": ref}))
		}
		wantDetail(t, e.want(t, http.StatusBadRequest, "POST", preview, a.token, map[string]any{"body": "x", "issue": issue}), "name")
		wantDetail(t, e.want(t, http.StatusBadRequest, "POST", preview, a.token, map[string]any{"name": "email/x.txt", "issue": issue}), "name")
		wantDetail(t, e.want(t, http.StatusBadRequest, "POST", preview, a.token, map[string]any{"name": "email/notification.txt"}), "issue")
	})
}

func TestTemplates_Tenancy(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a, b := e.tenant(t, "acme"), e.tenant(t, "globex")
		theirs := e.integration(t, b.org, "email")
		path := templatesPath(a) + "email/notification.txt/"
		body := map[string]any{"body": "{{.Issue.Title}}"}

		// Another organization's project or integration does not select a scope.
		for _, q := range []string{"?project=" + b.project.Slug, "?project=" + id(b.project.ID), "?integration=" + theirs,
			"?integration=nope", "?project=nope"} {
			wantDetail(t, e.want(t, http.StatusNotFound, "PUT", path+q, a.token, body))
			wantDetail(t, e.want(t, http.StatusNotFound, "GET", path+q, a.token, nil))
			wantDetail(t, e.want(t, http.StatusNotFound, "DELETE", path+q, a.token, nil))
		}
		// Nor can another organization's member reach acme's templates.
		e.want(t, http.StatusOK, "PUT", path, a.token, body)
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", templatesPath(a), b.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "GET", path, b.token, nil))
		wantDetail(t, e.want(t, http.StatusNotFound, "PUT", path, b.token, body))
		wantDetail(t, e.want(t, http.StatusNotFound, "DELETE", path, b.token, nil))

		v := e.want(t, http.StatusOK, "GET", templatesPath(a), a.token, nil)
		if got := templateOverrides(t, v, "email/notification.txt"); !slices.Equal(got, []string{"-|-|{{.Issue.Title}}"}) {
			t.Errorf("acme's overrides = %q", got)
		}
		v = e.want(t, http.StatusOK, "GET", templatesPath(b), b.token, nil)
		if got := templateOverrides(t, v, "email/notification.txt"); len(got) != 0 {
			t.Errorf("globex's overrides = %q, want none", got)
		}
	})
}

func TestTemplates_Scopes(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		now := time.Now().UTC()
		issue := id(e.ingestEvents(t, a.project, now, eventtest.PythonError(1, now, nil))[0].IssueID)
		path := templatesPath(a) + "email/notification.txt/"
		body := map[string]any{"body": "{{.Issue.Title}}"}
		e.want(t, http.StatusOK, "PUT", path, a.token, body)
		preview := map[string]any{"name": "email/notification.txt", "issue": issue}

		writes := []route{
			{"PUT", path, body},
			{"DELETE", path, nil},
			{"POST", templatesPath(a) + "preview/", preview},
		}
		reads := []string{templatesPath(a), path}
		orgRead := e.token(t, a.user, "org:read", "event:read")
		for _, w := range writes {
			wantDetail(t, e.want(t, http.StatusForbidden, w.method, w.path, orgRead, w.body), "permission")
		}
		for _, p := range reads {
			e.want(t, http.StatusOK, "GET", p, orgRead, nil)
		}
		projectRead := e.token(t, a.user, "project:read")
		for _, p := range reads {
			wantDetail(t, e.want(t, http.StatusForbidden, "GET", p, projectRead, nil), "permission")
		}
		// Writes take what integrations' writes take; a preview also shows
		// the issue, so it needs event:read as well.
		integrationsOnly := e.token(t, a.user, "org:integrations")
		e.want(t, http.StatusOK, "PUT", path, integrationsOnly, body)
		wantDetail(t, e.want(t, http.StatusForbidden, "POST", templatesPath(a)+"preview/", integrationsOnly, preview), "permission")
		e.want(t, http.StatusOK, "POST", templatesPath(a)+"preview/", e.token(t, a.user, "org:write", "event:read"), preview)
		e.want(t, http.StatusNoContent, "DELETE", path, e.token(t, a.user, "org:admin"), nil)
		for _, w := range append(writes, route{"GET", templatesPath(a), nil}, route{"GET", path, nil}) {
			wantDetail(t, e.want(t, http.StatusUnauthorized, w.method, w.path, "", w.body))
		}

		// A member's role limits the token as everywhere.
		dev := e.user(t, "dev@example.com")
		e.member(t, a.org, dev, "member")
		devToken := e.token(t, dev, store.AllScopes...)
		e.want(t, http.StatusOK, "GET", templatesPath(a), devToken, nil)
		wantDetail(t, e.want(t, http.StatusForbidden, "PUT", path, devToken, body), "permission")
	})
}

// Every service's templates are served like the email ones: saved once
// they check, previewed against a real issue, deleted.
func TestTemplates_Services(t *testing.T) {
	t.Parallel()
	setup(t, func(t *testing.T, e *env) {
		a := e.tenant(t, "acme")
		now := time.Now().UTC().Truncate(time.Second)
		res := e.ingestEvents(t, a.project, now, eventtest.PythonError(1, now, map[string]any{
			"exception": map[string]any{"values": []any{map[string]any{"type": "ValueError",
				"value": `<!channel> <script>alert(1)</script> [x](javascript:alert(1)) "}, {"type": "x`}}}}))
		is, err := e.st.IssueGet(context.Background(), a.org.ID, res[0].IssueID)
		if err != nil {
			t.Fatal(err)
		}
		shortID := store.ShortID(a.project.Slug, is.ShortID)
		issue := id(is.ID)
		preview := templatesPath(a) + "preview/"

		// A naive override of each, saved and previewed for the issue.
		overrides := map[string]string{
			"slack/alert.json":           `{"text": "{{.Issue.Title}}", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "{{.Issue.ShortID}} {{.Issue.Title}}"}}]}]}`,
			"slack/digest.json":          `{"text": "x", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "{{range .Digest}}{{.Issue.ShortID}} {{.Issue.Title}}{{end}}"}}]}]}`,
			"slack/summary.json":         `{"text": "x", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "{{range .Summary.TopIssues}}{{.ShortID}} {{.Title}}{{end}}"}}]}]}`,
			"github/issue-title.txt":     "{{.Issue.ShortID}} {{.Issue.Title}}",
			"github/issue.md":            "{{.Issue.ShortID}} {{.Issue.Title}}",
			"github/comment.md":          "{{.Issue.ShortID}} {{.Issue.Title}}",
			"trello/card-name.txt":       "{{.Issue.ShortID}} {{.Issue.Title}}",
			"trello/card-description.md": "{{.Issue.ShortID}} {{.Issue.Title}}",
			"trello/comment.md":          "{{.Issue.ShortID}} {{.Issue.Title}}",
			"webhook/issue.json":         `{"id": "{{.Issue.ShortID}}", "title": "{{.Issue.Title}}"}`,
			"webhook/event-alert.json":   `{"id": "{{.Event.IssueID}}", "title": "{{.Event.Title}}"}`,
		}
		for _, name := range allTemplates.Names() {
			if strings.HasPrefix(name, "email/") {
				continue
			}
			body, ok := overrides[name]
			if !ok {
				t.Errorf("no override of %s to test", name)
				continue
			}
			// The built-in one shows the issue, inert.
			v := e.want(t, http.StatusOK, "POST", preview, a.token, map[string]any{"name": name, "issue": issue})
			out := str(t, v, "output")
			if !strings.Contains(out, shortID) && !strings.Contains(out, "/issues/"+issue+"/") {
				t.Errorf("built-in %s preview does not show the issue:\n%s", name, out)
			}
			wantInert(t, name, out)

			path := templatesPath(a) + name + "/?project=" + a.project.Slug
			e.want(t, http.StatusOK, "PUT", path, a.token, map[string]any{"body": body})
			if got := str(t, e.want(t, http.StatusOK, "GET", path, a.token, nil), "body"); got != body {
				t.Errorf("%s: saved %q, want %q", name, got, body)
			}
			v = e.want(t, http.StatusOK, "POST", preview, a.token, map[string]any{"name": name, "issue": issue})
			out = str(t, v, "output")
			if !strings.Contains(out, shortID) && !strings.Contains(out, strings.ReplaceAll(shortID, "-", `\-`)) &&
				!strings.Contains(out, `"`+issue+`"`) {
				t.Errorf("%s preview of the override does not show the issue:\n%s", name, out)
			}
			wantInert(t, name, out)
			e.want(t, http.StatusNoContent, "DELETE", path, a.token, nil)
		}

		// Refused with where and why: the line and column, a field the
		// view lacks, output that is not the message the service takes.
		for _, tc := range []struct {
			name, body string
			parts      []string
		}{
			{"slack/alert.json", "{\n  {{ oops }}", []string{"slack/alert.json:2:6", `"oops" not defined`}},
			{"slack/alert.json", "{\n \"text\": \"{{.Issue.Nope}}\"}", []string{"slack/alert.json:2:", "Nope"}},
			{"slack/alert.json", `{"text": "x"}`, []string{"one attachment"}},
			{"slack/digest.json", `{"text": {{.Issue.Title}}, "attachments": []}`, []string{"not JSON"}},
			{"github/issue.md", "ok\n{{if .Event}}unclosed", []string{"github/issue.md:2:", "unexpected EOF"}},
			{"trello/comment.md", "{{.Event.Nope}}", []string{"trello/comment.md:1:", "Nope"}},
			{"webhook/issue.json", `["{{.Issue.Title}}"]`, []string{"not a JSON object"}},
		} {
			path := templatesPath(a) + tc.name + "/"
			wantBodyError(t, e.want(t, http.StatusBadRequest, "PUT", path, a.token, map[string]any{"body": tc.body}), tc.parts...)
			wantBodyError(t, e.want(t, http.StatusBadRequest, "POST", preview, a.token,
				map[string]any{"name": tc.name, "body": tc.body, "issue": issue}), tc.parts...)
		}
		v := e.want(t, http.StatusOK, "GET", templatesPath(a), a.token, nil)
		for _, name := range allTemplates.Names() {
			if got := templateOverrides(t, v, name); len(got) != 0 {
				t.Errorf("%s overrides = %q, want none", name, got)
			}
		}
	})
}

// wantInert checks a preview: the issue's hostile title shows as text.
// Plain-text templates (titles, card names) have no markup to check.
func wantInert(t *testing.T, name, out string) {
	t.Helper()
	if strings.HasSuffix(name, ".txt") {
		return
	}
	text := out
	if strings.HasSuffix(name, ".json") {
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%s preview is not JSON: %v\n%s", name, err, out)
		}
		b, _ := json.Marshal(v)
		text = string(b)
		if strings.HasPrefix(name, "webhook/") {
			if !strings.Contains(out, `\u003cscript\u003e`) {
				t.Errorf("%s preview does not carry the title as a string:\n%s", name, out)
			}
			return
		}
		text = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(text)
	}
	// Slack's mrkdwn has no [text](url) links: only <url|text> ones.
	bad := []string{"<!channel>", "<script>", "](javascript", `"type":"x"`}
	if strings.HasPrefix(name, "slack/") {
		bad[2] = "<javascript"
	}
	for _, bad := range bad {
		if strings.Contains(text, bad) {
			t.Errorf("%s preview carries %q:\n%s", name, bad, out)
		}
	}
}
