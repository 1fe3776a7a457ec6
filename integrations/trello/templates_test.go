package trello

import (
	"context"
	"strings"
	"testing"

	"github.com/tocsin/tocsin/integrations"
)

// Overrides make the card's name and description (the marker still ends
// it) and the comments; a broken one gives way to the built-in template,
// and the result says why.
func TestNotifier_Notify_overrides(t *testing.T) {
	t.Parallel()
	b := setup(t)
	n := alert()
	n.Issue.Title = "@board [x](javascript:alert(1)) " + n.Issue.Title
	n.Templates = map[string]string{
		"trello/card-name.txt":       "{{.Issue.Title}}\n(custom)",
		"trello/card-description.md": "Custom [{{.Issue.Title}}]({{.Issue.URL}})",
	}
	res, err := b.n.Notify(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if res.Warning != "" {
		t.Errorf("warning %q", res.Warning)
	}
	c := b.fake.Card(res.Handle)
	if want := plain(n.Issue.Title) + " (custom)"; c.Name != want {
		t.Errorf("name %q, want %q", c.Name, want)
	}
	wantDesc := "Custom [" + md(truncate(n.Issue.Title, maxFieldRunes)) + "](" + n.Issue.URL + ")\n\n" + marker(testInstallation, n.Issue.ID) + "\n"
	if c.Desc != wantDesc || !hasMarker(c.Desc, testInstallation, n.Issue.ID) {
		t.Errorf("description %q, want %q", c.Desc, wantDesc)
	}

	// A broken comment template: the built-in comment, with a warning.
	n = alert()
	n.Kind, n.Handle, n.Actor = integrations.KindResolved, res.Handle, "jane@example.com"
	want := text(comment(n))
	n.Templates = map[string]string{"trello/comment.md": "{{.Issue.Nope}}", "trello/card-name.txt": "{{"}
	res, err = b.n.Notify(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Warning, "trello/comment.md") || !strings.Contains(res.Warning, "built-in") {
		t.Errorf("warning %q, want the broken comment template named", res.Warning)
	}
	if got := b.fake.Card(res.Handle).Comments; len(got) != 1 || got[0] != want {
		t.Errorf("comments %q, want the built-in %q", got, want)
	}

	// A broken name template on a new card.
	b = setup(t)
	n = alert()
	n.Templates = map[string]string{"trello/card-name.txt": "{{.Nope}}"}
	res, err = b.n.Notify(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	n.Templates = nil
	if c, want := b.fake.Card(res.Handle), text(cardName(n)); c.Name != want || !strings.Contains(res.Warning, "trello/card-name.txt") {
		t.Errorf("name %q (warning %q), want the built-in %q", c.Name, res.Warning, want)
	}
}
