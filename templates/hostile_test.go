package templates_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/locale"
	"github.com/tocsin/tocsin/templates"
)

// hostile is what an application's users can make an event say: Slack
// broadcasts, HTML, Markdown links and images, template actions, and JSON
// that tries to close its string.
const hostile = "<!channel> @here <script>alert(1)</script> [x](javascript:alert(1)) ![i](http://evil/) " +
	"{{.Secret}} \"}, {\"type\": \"x <http://evil/|click> &amp; @everyone"

// hostileNotification is a sample notification whose every piece of
// event data is hostile.
func hostileNotification(name, lang string) []*integrations.Notification {
	ns := templates.Samples(name, lang)
	for _, n := range ns {
		h := func(s *string) { *s = hostile + " " + *s }
		h(&n.Issue.Title)
		h(&n.Issue.Culprit)
		h(&n.Issue.Project.Name)
		h(&n.Issue.Level)
		if n.Issue.Assignee != "" {
			h(&n.Issue.Assignee)
		}
		if n.Actor != "" {
			h(&n.Actor)
		}
		if n.Event != nil {
			h(&n.Event.Message)
			h(&n.Event.Environment)
			h(&n.Event.Release)
			n.Event.Tags = append(n.Event.Tags, [2]string{"customer", hostile})
			n.Event.Stacktrace = append(n.Event.Stacktrace, hostile)
		}
		if n.Rule != nil {
			h(&n.Rule.Name)
		}
		n.Options = map[string]any{"tags": "customer", "notes": hostile}
		for i := range n.Digest {
			h(&n.Digest[i].Issue.Title)
		}
		if n.Summary != nil {
			h(&n.Summary.Name)
			for i := range n.Summary.TopIssues {
				h(&n.Summary.TopIssues[i].Title)
				n.Summary.TopIssues[i].URL = "javascript:alert(1)"
			}
			for i := range n.Summary.NewTop {
				h(&n.Summary.NewTop[i].Title)
			}
			n.Summary.Releases[0].Release = hostile
		}
	}
	return ns
}

// naive are overrides that print event data wherever their author
// pleased: in JSON strings, as Markdown link text, in HTML.
var naive = map[string]string{
	"email/subject.txt":          "[{{.Project}}] {{.Issue.Title}} {{.Issue.Culprit}}",
	"email/notification.txt":     "{{.Issue.Title}} {{with .Event}}{{.Message}}{{end}}",
	"email/notification.html":    `<a href="{{.Issue.URL}}">{{.Issue.Title}}</a> <p title="{{.Issue.Culprit}}">{{with .Event}}{{.Message}}{{end}}</p>`,
	"email/digest.txt":           "{{range .Digest}}{{.Issue.Title}}\n{{end}}",
	"email/digest.html":          "<ul>{{range .Digest}}<li>{{.Issue.Title}}</li>{{end}}</ul>",
	"email/summary.txt":          "{{with .Summary}}{{.Name}}{{range .TopIssues}} {{.Title}}{{end}}{{end}}",
	"email/summary.html":         `{{with .Summary}}<h1>{{.Name}}</h1>{{range .TopIssues}}<a href="{{.URL}}">{{.Title}}</a>{{end}}{{end}}`,
	"slack/alert.json":           `{"text": "{{.Issue.Title}}", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<{{.Issue.URL}}|{{.Issue.Title}}> {{.Issue.Culprit}} {{with .Event}}{{.Message}} {{range .Tags}}{{index . 1}}{{end}}{{end}} {{.Actor}} {{.Issue.Assignee}}"}}]}]}`,
	"slack/digest.json":          `{"text": "x", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "{{range .Digest}}{{.Issue.Title}} {{end}}"}}]}]}`,
	"slack/summary.json":         `{"text": "{{.Summary.Name}}", "attachments": [{"blocks": [{"type": "divider"}, {"type": "section", "fields": [{"type": "plain_text", "text": "{{.Issue.Project.Name}}"}]}, {"type": "section", "text": {"type": "mrkdwn", "text": "{{range .Summary.TopIssues}}<{{.URL}}|{{.Title}}>{{end}}"}}]}]}`,
	"github/issue-title.txt":     "{{.Issue.Title}} {{.Issue.Culprit}}",
	"github/issue.md":            "# {{.Issue.Title}}\n\n[{{.Issue.Culprit}}]({{.Issue.URL}})\n\n{{with .Event}}{{.Message}}\n{{range .Tags}}- {{index . 0}}: {{index . 1}}\n{{end}}{{end}}{{.Actor}}",
	"github/comment.md":          "**{{.Issue.Title}}** by {{.Actor}} to {{.Issue.Assignee}} {{with .Rule}}[{{.Name}}]({{.URL}}){{end}}",
	"trello/card-name.txt":       "{{.Issue.Title}}",
	"trello/card-description.md": "## {{.Issue.Title}}\n\n[{{.Issue.Culprit}}]({{.Issue.URL}})\n{{with .Event}}{{.Message}}{{end}}",
	"trello/comment.md":          "{{.Issue.Title}} {{.Actor}} {{.Issue.Assignee}} {{with .Event}}{{.Release}}{{end}}",
	"webhook/issue.json":         `{"title": "{{.Issue.Title}}", "culprit": "{{.Issue.Culprit}}", "actor": "{{.Actor.Name}}"}`,
	"webhook/event-alert.json":   `{"title": "{{.Event.Title}}", "message": "{{.Event.Message}}", "tags": [{{range $i, $t := .Event.Tags}}{{if $i}},{{end}}"{{index $t 1}}"{{end}}], "rule": "{{.TriggeredRule}}"}`,
}

// slackBad are what must not reach Slack from event data: broadcasts,
// mentions, links other than Tocsin's, and the blocks of the hostile JSON.
var slackBad = []*regexp.Regexp{
	regexp.MustCompile(`<!(channel|here|everyone)`),
	regexp.MustCompile(`(?i)@(here|channel|everyone)`),
	regexp.MustCompile(`<http://evil`),
	regexp.MustCompile(`<script`),
	regexp.MustCompile(`"type":"x`),
	regexp.MustCompile(`<javascript:`),
}

// markdownBad are Markdown that event data must not form: links, images,
// HTML, mentions.
var markdownBad = []*regexp.Regexp{
	regexp.MustCompile(`(^|[^\\])\]\(javascript`),
	regexp.MustCompile(`(^|[^\\])!\[i`),
	regexp.MustCompile(`(^|[^\\])<(/?script|http)`),
	regexp.MustCompile(`(?i)@(here|channel|everyone)`),
}

// checkInert checks one rendered output of the template name.
func checkInert(t *testing.T, tmpl *templates.Template, out string) {
	t.Helper()
	switch tmpl.Format {
	case templates.JSON:
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if strings.HasPrefix(tmpl.Name, "slack/") {
			// What Slack reads: the decoded strings.
			texts := strings.Join(jsonStrings(v), "\n")
			for _, re := range slackBad {
				if re.MatchString(texts) {
					t.Errorf("%s reaches Slack:\n%s", re, texts)
				}
			}
			if strings.Contains(out, `"type":"x"`) {
				t.Errorf("the hostile JSON formed a block:\n%s", out)
			}
			break
		}
		// A webhook carries the data exactly, as strings.
		if !strings.Contains(strings.Join(jsonStrings(v), "\n"), hostile) {
			t.Errorf("the webhook body does not carry the data as it was:\n%s", out)
		}
		if strings.Contains(out, `"type":"x"`) {
			t.Errorf("the hostile JSON formed a key:\n%s", out)
		}
	case templates.Markdown:
		prose := withoutCode(out)
		for _, re := range markdownBad {
			if loc := re.FindStringIndex(prose); loc != nil {
				t.Errorf("%s in the Markdown at %d:\n%s", re, loc[0], out)
			}
		}
	case templates.HTML:
		for _, bad := range []string{"<script", `href="javascript`, "<http://evil", "<img"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q in the HTML:\n%s", bad, out)
			}
		}
	case templates.Text:
		if strings.HasPrefix(tmpl.Name, "trello/") && regexp.MustCompile(`(?i)@(here|channel|everyone)`).MatchString(out) {
			t.Errorf("a mention in a Trello card name: %q", out)
		}
	}
}

// withoutCode is Markdown without its fenced code blocks, where event
// data is shown as it is, inert.
func withoutCode(md string) string {
	var b strings.Builder
	fence := ""
	for line := range strings.SplitSeq(md, "\n") {
		switch {
		case fence != "":
			if strings.TrimSpace(line) == fence {
				fence = ""
			}
		case strings.HasPrefix(line, "```"):
			fence = line[:len(line)-len(strings.TrimLeft(line, "`"))]
		default:
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// jsonStrings are every string of a decoded JSON value.
func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range v {
			out = append(out, k)
			out = append(out, jsonStrings(e)...)
		}
		return out
	}
	return nil
}

// Hostile event data comes out inert from every template, built-in or a
// naive override, in every language.
func TestRegistry_hostile(t *testing.T) {
	t.Parallel()
	for _, tmpl := range all {
		if _, ok := naive[tmpl.Name]; !ok {
			t.Errorf("no naive override of %s to test", tmpl.Name)
		}
		for _, lang := range locale.Languages {
			for _, override := range []bool{false, true} {
				for _, n := range hostileNotification(tmpl.Name, lang) {
					name := tmpl.Name + "/" + n.Kind + "/" + lang
					if override {
						name += "/override"
						n.Templates = map[string]string{tmpl.Name: naive[tmpl.Name]}
					}
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						out, warning, err := tmpl.Render(n)
						if err != nil || warning != "" {
							t.Fatalf("Render: %v (warning %q)", err, warning)
						}
						checkInert(t, tmpl, out)
					})
				}
			}
		}
	}
}

// An override that prints event data outside a JSON string, or makes
// anything but valid JSON, is set aside: the built-in one is used, with
// a warning.
func TestRegistry_jsonOutsideStrings(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"slack/alert.json":         `{"text": {{.Issue.Title}}, "attachments": [{"blocks": []}]}`,
		"slack/digest.json":        `{"text": "x", "attachments": [{"blocks": [{{range .Digest}}{{.Issue.Title}}{{end}}]}]}`,
		"webhook/issue.json":       `{"title": {{.Issue.Title}}}`,
		"webhook/event-alert.json": `{"title": "{{.Event.Title}}", {{.Event.Message}}: 1}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tmpl, _ := all.Lookup(name)
			n := hostileNotification(name, "")[0]
			want, _, err := tmpl.Render(n)
			if err != nil {
				t.Fatal(err)
			}
			n.Templates = map[string]string{name: body}
			out, warning, err := tmpl.Render(n)
			if err != nil {
				t.Fatal(err)
			}
			if out != want || !strings.Contains(warning, name) || !strings.Contains(warning, "built-in") {
				t.Errorf("output %s, warning %q: want the built-in one and a warning", out, warning)
			}
			checkInert(t, tmpl, out)
			if err := all.Check(name, body); err == nil {
				t.Errorf("Check accepts %s", body)
			}
		})
	}
}

// An override may link to Tocsin's pages and to what it writes out, but
// event data printed where a link's target goes does not choose where the
// link goes: such an override is set aside.
func TestRegistry_links(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"github/issue.md", "[details]({{.Issue.Title}})", false},
		{"github/issue.md", "[details]: {{.Issue.Title}}\n\n[x][details]", false},
		{"github/issue.md", `<a href="{{.Issue.Title}}">x</a>`, false},
		{"github/issue.md", "![i]({{.Issue.Culprit}})", false},
		{"github/issue.md", "[{{.Issue.Title}}]({{.Issue.URL}}) [runbook](https://wiki.example.com/runbook)", true},
		{"github/comment.md", "{{.Headline}}\n\n```\n[x]({{.Issue.Title}})\n```", true}, // no link in code
		{"trello/card-description.md", "[x]({{.Issue.Title}})", false},
		{"trello/comment.md", "[x]({{with .Event}}{{.URL}}{{end}})", true},
		{"email/notification.html", `<a href="{{.Issue.Title}}">x</a>`, false},
		{"email/notification.html", `<img src="{{.Issue.Culprit}}">`, false},
		{"email/notification.html", `<a href="{{.Issue.URL}}">{{.Issue.Title}}</a> <a href="https://wiki.example.com/runbook?a=1&b=2">runbook</a>`, true},
		{"slack/alert.json", `{"text": "x", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<{{.Issue.Title}}|x>"}}]}]}`, false},
		{"slack/alert.json", `{"text": "<{{.Issue.Culprit}}>", "attachments": [{"blocks": [{"type": "divider"}]}]}`, false},
		{"slack/alert.json", `{"text": "x", "attachments": [{"title": "x", "title_link": "{{.Issue.Title}}", "blocks": [{"type": "divider"}]}]}`, false},
		{"slack/alert.json", `{"text": "x", "attachments": [{"title": "x", "title_link": "{{.Issue.URL}}", "blocks": [{"type": "divider"}]}]}`, true},
		{"slack/alert.json", `{"text": "x", "attachments": [{"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<{{.Issue.URL}}|{{.Issue.Title}}> {{.Notes}} <https://wiki.example.com/runbook|runbook> <!here>"}}]}]}`, true},
	} {
		t.Run(tc.name+" "+tc.body, func(t *testing.T) {
			t.Parallel()
			tmpl, _ := all.Lookup(tc.name)
			n := templates.Samples(tc.name, "")[0]
			n.Issue.Title, n.Issue.Culprit = "http://evil.example/", "!channel"
			n.Options = map[string]any{"notes": "<@U024BE7LH> is on call"}
			n.Templates = map[string]string{tc.name: tc.body}
			out, warning, err := tmpl.Render(n)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ok && warning != "" {
				t.Errorf("refused: %s\n%s", warning, out)
			}
			if !tc.ok && !strings.Contains(warning, "links to") {
				t.Errorf("used (warning %q):\n%s", warning, out)
			}
		})
	}
}
