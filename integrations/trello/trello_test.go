package trello

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/trello/trellotest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// bundle is a notifier talking to a fake Trello.
type bundle struct {
	fake *trellotest.Server
	n    *Notifier
	cfg  Config
}

var testNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// testInstallation is the Tocsin deployment the tests' notifiers work for.
const testInstallation = "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"

// testLabel is a label of the board that rule actions put on cards.
const testLabel = "60000000000000000000000a"

func setup(t *testing.T) *bundle {
	t.Helper()
	f := trellotest.NewServer(t)
	cfg := Config{APIKey: trellotest.Key, Token: trellotest.Token, BoardID: "5e0000000000000000000001",
		ListID: trellotest.ListID, ResolvedListID: trellotest.ResolvedListID, WebhookSecret: "whsec-0f9e8d7c6b5a",
		Installation: testInstallation}
	n, err := New(cfg, f.APIURL(), f.Client())
	if err != nil {
		t.Fatal(err)
	}
	n.now = func() time.Time { return testNow }
	return &bundle{fake: f, n: n, cfg: cfg}
}

// alert is the first notification of issue 42.
func alert() *integrations.Notification {
	return &integrations.Notification{
		Kind:           integrations.KindAlert,
		IdempotencyKey: "rule-3:issue-42:list:1",
		Issue: integrations.Issue{
			ID:           42,
			ShortID:      "BACKEND-1A",
			Title:        "TypeError: Cannot read properties of undefined (reading 'id')",
			Culprit:      "app/models/user.js in loadUser",
			Level:        "error",
			Status:       "unresolved",
			Platform:     "node",
			Count:        1234,
			UserCount:    56,
			FirstSeen:    time.Date(2026, 3, 13, 22, 1, 2, 0, time.UTC),
			LastSeen:     time.Date(2026, 3, 14, 9, 20, 0, 0, time.UTC),
			FirstRelease: "backend@1.4.0",
			LastRelease:  "backend@1.4.2",
			Project:      integrations.Project{ID: 3, Slug: "backend", Name: "Backend"},
			Organization: "acme",
			URL:          "https://tocsin.example.com/organizations/acme/issues/42/",
		},
		Event: &integrations.Event{
			ID:          "c0ffee00c0ffee00c0ffee00c0ffee00",
			Message:     "TypeError: Cannot read properties of undefined (reading 'id')",
			Environment: "production",
			Release:     "backend@1.4.2",
			Timestamp:   time.Date(2026, 3, 14, 9, 20, 0, 0, time.UTC),
			Stacktrace: []string{
				"node:internal/process/task_queues in processTicksAndRejections at line 95",
				"app/routes/users.js in getUser at line 18",
				"app/models/user.js in loadUser at line 42",
			},
			URL: "https://tocsin.example.com/organizations/acme/issues/42/events/c0ffee00c0ffee00c0ffee00c0ffee00/",
		},
		Rule:    &integrations.Rule{ID: 3, Name: "New errors in production"},
		Options: map[string]any{"labels": []any{testLabel}, "due_days": float64(3)},
		At:      testNow,
	}
}

// hostile is an issue whose event data tries to link, mention, embed and
// break out of the code block.
func hostile() *integrations.Notification {
	n := alert()
	n.Issue.ID = 666
	n.Issue.ShortID = "BACKEND-2B"
	n.Issue.Title = "Error: [click me](https://evil.example/login) ![x](https://evil.example/p.png) @board <img src=x onerror=alert(1)>\n# owned"
	n.Issue.Culprit = "@card *urgent* `rm -rf` <script>alert(1)</script>"
	n.Event.Message = "hi @everyone\n\n[phish]: https://evil.example\n> quote\ntocsin:issue:42"
	n.Event.Environment = "prod\u202Eduction"
	n.Event.Stacktrace = []string{"```", "`````\n@board [x](https://evil.example)", "tocsin:issue:42"}
	return n
}

// minimal has no event, link, release or options.
func minimal() *integrations.Notification {
	return &integrations.Notification{
		Kind:  integrations.KindAlert,
		Issue: integrations.Issue{ID: 7, Title: "Something happened", Level: "warning", Count: 1, UserCount: 0},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestNotifier_Notify_createsCard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		n    func() *integrations.Notification
	}{
		{"typical", alert},
		{"hostile", hostile},
		{"minimal", minimal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			notification := tc.n()
			res, err := b.n.Notify(context.Background(), notification)
			if err != nil {
				t.Fatal(err)
			}
			c := b.fake.Card(res.Handle)
			if c.ID == "" {
				t.Fatalf("no card %q in the fake", res.Handle)
			}
			if res.URL != c.URL || res.Status != http.StatusOK {
				t.Errorf("result %+v, want url %s and status 200", res, c.URL)
			}
			if c.IDList != trellotest.ListID || c.Pos != "top" {
				t.Errorf("card in list %s at %q, want %s at top", c.IDList, c.Pos, trellotest.ListID)
			}
			if !hasMarker(c.Desc, testInstallation, notification.Issue.ID) {
				t.Errorf("description does not end with the marker:\n%s", c.Desc)
			}
			golden(t, tc.name+".name.golden", c.Name+"\n")
			golden(t, tc.name+".desc.golden", c.Desc)
			if want := []string{"GET /1/lists/" + trellotest.ListID + "/cards", "POST /1/cards"}; !slices.Equal(b.fake.Requests(), want) {
				t.Errorf("requests %q, want %q", b.fake.Requests(), want)
			}
		})
	}
}

func TestNotifier_Notify_labelsAndDueDate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := b.n.Notify(context.Background(), alert())
	if err != nil {
		t.Fatal(err)
	}
	c := b.fake.Card(res.Handle)
	if !slices.Equal(c.IDLabels, []string{testLabel}) {
		t.Errorf("labels %q, want %q", c.IDLabels, testLabel)
	}
	if want := "2026-03-17T09:26:53Z"; c.Due != want {
		t.Errorf("due %q, want %q (3 days after the notification)", c.Due, want)
	}

	n := minimal()
	res, err = b.n.Notify(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if c := b.fake.Card(res.Handle); c.Due != "" || len(c.IDLabels) != 0 {
		t.Errorf("without options: due %q, labels %q; want none", c.Due, c.IDLabels)
	}
}

// The worker can die after Trello created the card and before the card id
// was stored: the retry, with no handle, finds the card by its marker.
func TestNotifier_Notify_oneCardPerIssue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, err := b.n.Notify(context.Background(), alert())
	if err != nil {
		t.Fatal(err)
	}
	// ...crash: first.Handle is lost; the job runs again.
	again, err := b.n.Notify(context.Background(), alert())
	if err != nil {
		t.Fatal(err)
	}
	if again.Handle != first.Handle || again.URL != first.URL {
		t.Errorf("retry answered %+v, want the first card %+v", again, first)
	}
	if n := b.fake.CardCount(); n != 1 {
		t.Errorf("%d cards, want 1", n)
	}
	if c := b.fake.Card(first.Handle); len(c.Comments) != 0 {
		t.Errorf("retry commented %q", c.Comments)
	}
	// Another issue whose event data quotes issue 42's marker gets its own card.
	other := hostile()
	res, err := b.n.Notify(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	if res.Handle == first.Handle {
		t.Fatal("issue 666 reused issue 42's card")
	}
	// ...and does not capture issue 42's card either.
	again, err = b.n.Notify(context.Background(), alert())
	if err != nil {
		t.Fatal(err)
	}
	if again.Handle != first.Handle {
		t.Errorf("issue 42 now finds card %s, want %s", again.Handle, first.Handle)
	}
	// Another Tocsin filing into the same list has its own issue 42.
	cfg := b.cfg
	cfg.Installation = "0badc0de-0000-4000-8000-000000000000"
	theirs, err := New(cfg, b.fake.APIURL(), b.fake.Client())
	if err != nil {
		t.Fatal(err)
	}
	res, err = theirs.Notify(context.Background(), alert())
	if err != nil {
		t.Fatal(err)
	}
	if res.Handle == first.Handle {
		t.Errorf("another installation took this one's card %s", first.Handle)
	}
}

func TestNotifier_Notify_followUps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		kind       string
		noResolved bool   // the integration has no resolved list
		startIn    string // the card's list before
		archived   bool
		wantList   string
		wantPuts   int
	}{
		{name: "regression moves back", kind: integrations.KindRegression, startIn: trellotest.ResolvedListID, archived: true, wantList: trellotest.ListID, wantPuts: 1},
		{name: "regression in place", kind: integrations.KindRegression, startIn: trellotest.ListID, wantList: trellotest.ListID, wantPuts: 1},
		{name: "resolved moves to resolved list", kind: integrations.KindResolved, startIn: trellotest.ListID, wantList: trellotest.ResolvedListID, wantPuts: 1},
		{name: "resolved without resolved list", kind: integrations.KindResolved, noResolved: true, startIn: trellotest.ListID, wantList: trellotest.ListID},
		{name: "another alert", kind: integrations.KindAlert, startIn: trellotest.ListID, wantList: trellotest.ListID},
		{name: "assigned", kind: integrations.KindAssigned, startIn: trellotest.ListID, wantList: trellotest.ListID},
		{name: "ignored", kind: integrations.KindIgnored, startIn: trellotest.ResolvedListID, wantList: trellotest.ResolvedListID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			if tc.noResolved {
				b.n.cfg.ResolvedListID = ""
			}
			card := "5c0000000000000000000042"
			b.fake.Put(trellotest.Card{ID: card, Name: "[BACKEND-1A] x", Desc: "x\n\ntocsin:issue:42", IDList: tc.startIn,
				Closed: tc.archived, URL: "https://trello.example/c/AbCd1234/x"})
			n := alert()
			n.Kind, n.Handle, n.Actor = tc.kind, card, "alice@example.com"
			n.Issue.Assignee = "bob@example.com"
			res, err := b.n.Notify(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			if res.Handle != card {
				t.Errorf("handle %q, want %q", res.Handle, card)
			}
			c := b.fake.Card(card)
			if c.IDList != tc.wantList || c.Closed {
				t.Errorf("card in list %s (archived %v), want %s, open", c.IDList, c.Closed, tc.wantList)
			}
			if len(c.Comments) != 1 {
				t.Fatalf("comments %q, want one", c.Comments)
			}
			golden(t, "comment."+strings.ReplaceAll(tc.name, " ", "_")+".golden", c.Comments[0]+"\n")
			puts := 0
			for _, r := range b.fake.Requests() {
				if strings.HasPrefix(r, "PUT ") {
					puts++
				}
			}
			if puts != tc.wantPuts {
				t.Errorf("%d PUTs, want %d: %q", puts, tc.wantPuts, b.fake.Requests())
			}
			if b.fake.CardCount() != 1 {
				t.Errorf("%d cards, want 1", b.fake.CardCount())
			}
			// The move comes before the comment: a retry after a failed
			// comment moves again rather than comments twice.
			if l := b.fake.Requests(); tc.wantPuts > 0 && !strings.HasPrefix(l[len(l)-1], "POST /1/cards/"+card+"/actions/comments") {
				t.Errorf("requests %q: the comment is not last", l)
			}
		})
	}
}

func TestNotifier_Notify_withoutHandle(t *testing.T) {
	t.Parallel()
	t.Run("resolved issue without a card", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		n := alert()
		n.Kind = integrations.KindResolved
		res, err := b.n.Notify(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		if res.Handle != "" || b.fake.CardCount() != 0 {
			t.Errorf("result %+v and %d cards, want nothing", res, b.fake.CardCount())
		}
	})
	t.Run("resolved after a lost handle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		first, err := b.n.Notify(context.Background(), alert())
		if err != nil {
			t.Fatal(err)
		}
		n := alert()
		n.Kind = integrations.KindResolved
		res, err := b.n.Notify(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		c := b.fake.Card(first.Handle)
		if res.Handle != first.Handle || c.IDList != trellotest.ResolvedListID || len(c.Comments) != 1 {
			t.Errorf("result %+v, card in %s with %d comments; want card %s moved to %s with a comment",
				res, c.IDList, len(c.Comments), first.Handle, trellotest.ResolvedListID)
		}
	})
	t.Run("target list", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		n := alert()
		n.Target = trellotest.OtherListID
		res, err := b.n.Notify(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		if c := b.fake.Card(res.Handle); c.IDList != trellotest.OtherListID {
			t.Errorf("card in %s, want %s", c.IDList, trellotest.OtherListID)
		}
	})
}

// Settings and options that cannot work fail before anything is sent.
func TestNotifier_Notify_refused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*integrations.Notification)
	}{
		{"target is not a list id", func(n *integrations.Notification) { n.Target = "../members/me" }},
		{"handle is not a card id", func(n *integrations.Notification) { n.Handle = "x/../../boards/1" }},
		{"label is not an id", func(n *integrations.Notification) { n.Options["labels"] = "red" }},
		{"labels of a wrong type", func(n *integrations.Notification) { n.Options["labels"] = 3 }},
		{"due days negative", func(n *integrations.Notification) { n.Options["due_days"] = -1 }},
		{"due days fractional", func(n *integrations.Notification) { n.Options["due_days"] = "1.5" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			n := alert()
			tc.change(n)
			_, err := b.n.Notify(context.Background(), n)
			var pe *integrations.PermanentError
			if !errors.As(err, &pe) || pe.Reason != integrations.ReasonConfig {
				t.Fatalf("got %v, want a permanent config error", err)
			}
			if l := b.fake.Requests(); len(l) != 0 {
				t.Errorf("sent %q", l)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	good := Config{APIKey: trellotest.Key, Token: trellotest.Token, ListID: trellotest.ListID}
	for _, tc := range []struct {
		name, apiURL, want string
		cfg                Config
		wantErr            bool
	}{
		{name: "default", cfg: good, want: "https://api.trello.com/1"},
		{name: "trailing slash", cfg: good, apiURL: "http://127.0.0.1:9/1/", want: "http://127.0.0.1:9/1"},
		{name: "proxy", cfg: good, apiURL: "https://trello-proxy.internal/api/1", want: "https://trello-proxy.internal/api/1"},
		{name: "query", cfg: good, apiURL: "https://api.trello.com/1?x=y", wantErr: true},
		{name: "credentials in url", cfg: good, apiURL: "https://u:p@api.trello.com/1", wantErr: true},
		{name: "not http", cfg: good, apiURL: "ftp://api.trello.com/1", wantErr: true},
		{name: "bad config", cfg: Config{APIKey: trellotest.Key}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := New(tc.cfg, tc.apiURL, nil)
			if tc.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.client.BaseURL != tc.want {
				t.Errorf("base %q, want %q", n.client.BaseURL, tc.want)
			}
		})
	}
}
