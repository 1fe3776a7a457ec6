package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/notifiertest"
)

// An override shapes the body, signed like the built-in one, with event
// data carried as strings; a broken one gives way to the built-in body
// (Sentry's shape), and the result says why.
func TestNotifier_Notify_overrides(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		want       func(t *testing.T, body []byte, n *integrations.Notification)
		broken     bool
	}{
		{name: "used", body: `{"text": "{{.Issue.ShortID}}: {{.Issue.Title}}", "action": "{{.Action}}"}`,
			want: func(t *testing.T, body []byte, n *integrations.Notification) {
				var got map[string]string
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatal(err)
				}
				if got["text"] != n.Issue.ShortID+": "+n.Issue.Title || got["action"] != "created" || len(got) != 2 {
					t.Errorf("body %s", body)
				}
			}},
		{name: "data outside a string", body: `{"text": {{.Issue.Title}}}`, broken: true},
		{name: "not an object", body: `["{{.Issue.Title}}"]`, broken: true},
		{name: "missing field", body: `{"text": "{{.Issue.Nope}}"}`, broken: true},
		{name: "parse error", body: `{"text": "{{.Issue.Title}"}`, broken: true},
		{name: "two values", body: `{} {}`, broken: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, rc := setup(t, Config{}, notifiertest.Answer{})
			n := notification(integrations.KindAlert)
			n.Issue.Title = `"}, {"type": "x <!channel> ` + n.Issue.Title
			builtin, _, err := w.body(n, "issue", "created")
			if err != nil {
				t.Fatal(err)
			}
			n.Templates = map[string]string{"webhook/issue.json": tc.body}
			res, err := w.Notify(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			got := rc.requests()
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1", len(got))
			}
			body := got[0].body
			if got[0].header.Get("Sentry-Hook-Signature") != Sign(body, testSecret) {
				t.Error("the body is not what was signed")
			}
			if !tc.broken {
				if res.Warning != "" {
					t.Errorf("warning %q", res.Warning)
				}
				tc.want(t, body, n)
				return
			}
			if !bytes.Equal(body, builtin) {
				t.Errorf("body %s, want the built-in one %s", body, builtin)
			}
			if !strings.Contains(res.Warning, "webhook/issue.json") || !strings.Contains(res.Warning, "built-in") {
				t.Errorf("warning %q, want the broken override named", res.Warning)
			}
		})
	}
}
