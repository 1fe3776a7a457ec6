package webhooks_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/server/webhooks"
	"github.com/tocsin/tocsin/store"
)

// t0 is the handler's clock in every test; Slack requests are signed at
// times relative to it, so no test reads the wall clock or sleeps.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const (
	baseURL        = "https://tocsin.example.com"
	trelloCallback = baseURL + "/webhooks/trello"
	secretKey      = "test-secret-key-of-at-least-32-characters"

	// Each organization's integrations have their own secrets.
	githubSecretA = "whsec-org-a-n0t-for-your-eyes"
	githubSecretB = "whsec-org-b-n0t-for-your-eyes"
	slackSecretA  = "8f742231b10e8888abcd99yyyzzz85a5"
	slackSecretB  = "0b6a1f6c8e7d4c3b2a1908f7e6d5c4b3"
	trelloSecretA = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
	trelloSecretB = "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a4938271605f4e3d2c1b0a"

	githubRepo   = "Octo/App" // as GitHub spells it; handles are lower case
	slackChannel = "C0OPS"
	slackTarget  = "#ops"

	// Trello lists of the integrations' board.
	listNew      = "5f0000000000000000000001"
	listResolved = "5f0000000000000000000002"
	listDoing    = "5f0000000000000000000003"
)

// tenant is an organization with a project and one integration of each
// provider that sends webhooks back.
type tenant struct {
	org     *store.Organization
	project *store.Project
	github  *store.Integration
	slack   *store.Integration
	trello  *store.Integration
}

// world is one test's store, served by the webhook handler: tenant a is the
// bootstrap organization, b another one that a's requests must not reach.
type world struct {
	st    *store.Store
	box   *integrations.SecretBox
	srv   *httptest.Server
	a, b  *tenant
	admin *store.User // owns every organization

	events  int // events ingested, for unique ids and fingerprints
	links   int // links made, for unique idempotency keys
	handles int // service handles handed out
}

// setup bootstraps the store, adds the second organization and the
// integrations, and serves webhooks.New(...).Register on a fixed clock.
func setup(t *testing.T, s *store.Store) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{st: s}
	var err error
	if w.box, err = integrations.NewSecretBox(secretKey); err != nil {
		t.Fatal(err)
	}
	boot, err := s.Setup(ctx, &store.BootstrapParams{AdminEmail: "admin@example.com", AdminPassword: "correct horse battery"})
	if err != nil || boot == nil {
		t.Fatalf("setup: %v (bootstrap %v)", err, boot)
	}
	w.a = &tenant{org: boot.Organization, project: boot.Project}
	w.integrations(t, w.a, githubSecretA, slackSecretA, trelloSecretA)
	w.b = w.tenant(t, boot.User, "other", githubSecretB, slackSecretB, trelloSecretB)
	w.admin = boot.User

	h := webhooks.New(s, w.box, baseURL, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	h.SetNow(func() time.Time { return t0 })
	mux := http.NewServeMux()
	h.Register(mux)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

// tenant adds an organization owned by owner, with a project and the
// integrations signed with the secrets.
func (w *world) tenant(t *testing.T, owner *store.User, slug, githubSecret, slackSecret, trelloSecret string) *tenant {
	t.Helper()
	ctx := context.Background()
	tn := &tenant{}
	var err error
	if tn.org, err = w.st.OrganizationCreate(ctx, &store.OrganizationCreateParams{Slug: slug, Name: slug, OwnerID: owner.ID}); err != nil {
		t.Fatal(err)
	}
	_, member, err := w.st.Membership(ctx, owner.ID, slug)
	if err != nil {
		t.Fatal(err)
	}
	team, err := w.st.TeamCreate(ctx, tn.org.ID, &store.TeamCreateParams{Slug: "ops", Name: "Ops", MemberID: member.ID})
	if err != nil {
		t.Fatal(err)
	}
	if tn.project, _, err = w.st.ProjectCreate(ctx, tn.org.ID, team.ID, &store.ProjectCreateParams{Slug: "web", Name: "Web", Platform: "python"}); err != nil {
		t.Fatal(err)
	}
	w.integrations(t, tn, githubSecret, slackSecret, trelloSecret)
	return tn
}

// integrations adds a GitHub, a Slack and a Trello integration to the
// tenant, as the API stores them.
func (w *world) integrations(t *testing.T, tn *tenant, githubSecret, slackSecret, trelloSecret string) {
	t.Helper()
	tn.github = w.integration(t, tn.org, "github", map[string]any{"repo": githubRepo},
		map[string]any{"token": "ghp_test", "webhook_secret": githubSecret})
	tn.slack = w.integration(t, tn.org, "slack", map[string]any{"default_channel": slackTarget},
		map[string]any{"bot_token": "xoxb-test", "signing_secret": slackSecret})
	tn.trello = w.integration(t, tn.org, "trello",
		map[string]any{"api_key": "key", "list_id": listNew, "resolved_list_id": listResolved},
		map[string]any{"token": "trello-token", "webhook_secret": trelloSecret})
}

// integration creates an integration whose secrets are sealed as the API
// seals them.
func (w *world) integration(t *testing.T, org *store.Organization, provider string, config, secrets map[string]any) *store.Integration {
	t.Helper()
	cfg, _ := json.Marshal(config)
	sec, _ := json.Marshal(secrets)
	in, err := w.st.IntegrationCreate(context.Background(), &store.Integration{OrganizationID: org.ID, Provider: provider,
		Name: provider + " of " + org.Slug, Config: string(cfg)}, func(id int64) ([]byte, error) { return w.box.Seal(sec, id) })
	if err != nil {
		t.Fatalf("create %s integration: %v", provider, err)
	}
	return in
}

// issue ingests an error event with a fingerprint of its own into the
// tenant's project and returns the new issue's id.
func (w *world) issue(t *testing.T, tn *tenant) int64 {
	t.Helper()
	w.events++
	payload, _ := json.Marshal(map[string]any{
		"event_id":    fmt.Sprintf("%032x", w.events),
		"timestamp":   t0.Add(-time.Hour).Format(time.RFC3339Nano),
		"platform":    "python",
		"level":       "error",
		"fingerprint": []string{"webhooks-" + strconv.Itoa(w.events)},
		"exception": map[string]any{"values": []any{map[string]any{
			"type": "ZeroDivisionError", "value": "division by zero",
			"stacktrace": map[string]any{"frames": []any{map[string]any{
				"filename": "app/views.py", "function": "checkout", "lineno": 42, "in_app": true}}},
		}}},
	})
	received := t0.Add(-time.Hour)
	ev, err := event.Parse(payload, event.ParseOptions{Received: received})
	if err != nil {
		t.Fatal(err)
	}
	g := grouping.Group(ev)
	data, err := json.Marshal(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	env := &store.IngestEnvelope{ProjectID: tn.project.ID, OrganizationID: tn.org.ID, Received: received,
		Events: []*store.IngestEvent{{ProjectID: tn.project.ID, OrganizationID: tn.org.ID, Event: ev, Hash: g.Hash,
			GroupingVersion: g.Version, Data: store.CompressEventData(data), Size: len(data)}}}
	if err := w.st.IngestBatch(context.Background(), []*store.IngestEnvelope{env}); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if r := env.Results[0]; !r.NewIssue {
		t.Fatalf("ingest made no new issue: %+v", r)
	}
	return env.Results[0].IssueID
}

// link makes the service's handle for the issue the way the worker does:
// a delivery queued, claimed, and recorded as delivered with its link.
// Call it only while no request is being served: the claim takes any due
// delivery.
func (w *world) link(t *testing.T, in *store.Integration, issueID int64, target, handle string) {
	t.Helper()
	ctx := context.Background()
	w.links++
	key := fmt.Sprintf("test-link:%d", w.links)
	if err := w.st.DeliveryCreate(ctx, &store.Delivery{OrganizationID: in.OrganizationID, IntegrationID: &in.ID,
		Provider: in.Provider, IssueID: &issueID, Kind: integrations.KindAlert, Target: target, IdempotencyKey: key,
		DateCreated: t0.Add(-time.Hour), NextAttempt: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ds, err := w.st.DeliveriesClaim(ctx, t0, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].IdempotencyKey != key {
		t.Fatalf("claimed %d deliveries, want only %s", len(ds), key)
	}
	u := "https://service.example.com/" + url.PathEscape(handle)
	if err := w.st.DeliveryRecord(ctx, &store.Attempt{DeliveryID: ds[0].ID, Started: t0.Add(-time.Hour),
		Duration: 120 * time.Millisecond, StatusCode: http.StatusOK, Outcome: store.OutcomeDelivered, Handle: handle,
		URL: u, Link: &store.IssueLink{IntegrationID: in.ID, IssueID: issueID, Target: target, Handle: handle, URL: u}}); err != nil {
		t.Fatal(err)
	}
	l, err := w.st.IssueLinkByHandle(ctx, in.ID, handle)
	if err != nil || l == nil || l.IssueID != issueID {
		t.Fatalf("link %s: %+v, %v", handle, l, err)
	}
}

// setStatus gives an issue the status a case starts from.
func (w *world) setStatus(t *testing.T, tn *tenant, issueID int64, status string) {
	t.Helper()
	if status == "" || status == store.StatusUnresolved {
		return
	}
	if _, err := w.st.IssuesUpdate(context.Background(), tn.org.ID, []int64{issueID},
		&store.IssueUpdate{Status: &status, At: t0.Add(-30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
}

// next returns a number no other fixture of the world has, for handles.
func (w *world) next() int {
	w.handles++
	return w.handles
}

// state is what a webhook may change about an issue: the issue, its
// history, and the deliveries queued for it.
type state struct {
	Issue      store.Issue
	Activities []store.Activity
	Deliveries []store.Delivery
}

func (w *world) state(t *testing.T, orgID, issueID int64) *state {
	t.Helper()
	ctx := context.Background()
	is, err := w.st.IssueGet(ctx, orgID, issueID)
	if err != nil {
		t.Fatalf("issue %d: %v", issueID, err)
	}
	st := &state{Issue: *is}
	acts, err := w.st.ActivityList(ctx, issueID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		st.Activities = append(st.Activities, *a)
	}
	ds, err := w.st.DeliveryList(ctx, orgID, &store.DeliveryFilter{IssueID: issueID, Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		st.Deliveries = append(st.Deliveries, *d)
	}
	return st
}

// unchanged fails the test when the issue's state differs from before.
func (w *world) unchanged(t *testing.T, what string, orgID, issueID int64, before *state) {
	t.Helper()
	after := w.state(t, orgID, issueID)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("%s (issue %d) changed:\nbefore %s\nafter  %s", what, issueID, dump(before), dump(after))
	}
}

// newActivities are the activities added since before, oldest first.
func newActivities(before, after *state) []string {
	seen := map[int64]bool{}
	for _, a := range before.Activities {
		seen[a.ID] = true
	}
	var out []string
	for i := len(after.Activities) - 1; i >= 0; i-- {
		if a := after.Activities[i]; !seen[a.ID] {
			out = append(out, a.Kind)
		}
	}
	return out
}

// newDeliveries are the deliveries added since before.
func newDeliveries(before, after *state) []store.Delivery {
	seen := map[int64]bool{}
	for _, d := range before.Deliveries {
		seen[d.ID] = true
	}
	var out []store.Delivery
	for _, d := range after.Deliveries {
		if !seen[d.ID] {
			out = append(out, d)
		}
	}
	return out
}

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return string(b)
}

// send serves one request and returns the status and body.
func (w *world) send(t *testing.T, method, path string, header http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// GitHub: https://docs.github.com/en/webhooks/webhook-events-and-payloads#issues

// githubIssues renders an "issues" delivery for issue number of repo.
func githubIssues(action, repo string, number int) []byte {
	owner, name, _ := strings.Cut(repo, "/")
	state, reason := "closed", "completed"
	if action != "closed" {
		state, reason = "open", "reopened"
	}
	user := map[string]any{"login": "jane-dev", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==", "type": "User",
		"site_admin": false, "html_url": "https://github.com/jane-dev"}
	issueURL := fmt.Sprintf("https://api.github.com/repos/%s/issues/%d", repo, number)
	m := map[string]any{
		"action": action,
		"issue": map[string]any{
			"url": issueURL, "repository_url": "https://api.github.com/repos/" + repo,
			"html_url": fmt.Sprintf("https://github.com/%s/issues/%d", repo, number),
			"id":       2154872301 + number, "node_id": "I_kwDOIVBf2c6Acnzt", "number": number,
			"title":  "[DEFAULT-1] ZeroDivisionError: division by zero",
			"user":   map[string]any{"login": "tocsin-bot", "id": 4242, "type": "User"},
			"labels": []any{map[string]any{"id": 1, "name": "tocsin", "color": "d73a4a", "default": false}},
			"state":  state, "state_reason": reason, "locked": false, "comments": 2,
			"created_at": "2026-03-01T12:00:00Z", "updated_at": "2026-03-02T09:59:00Z",
			"author_association": "NONE", "body": "Seen 3 times. https://tocsin.example.com/issues/1/",
		},
		"repository": map[string]any{"id": 558001, "node_id": "R_kgDOIVBf2c", "name": name, "full_name": repo,
			"private": true, "owner": map[string]any{"login": owner, "id": 99, "type": "Organization"},
			"html_url": "https://github.com/" + repo, "default_branch": "main"},
		"sender": user,
	}
	if action == "labeled" {
		m["label"] = map[string]any{"id": 2, "name": "bug", "color": "d73a4a"}
	}
	b, _ := json.Marshal(m)
	return b
}

// githubPing is the delivery GitHub sends when a webhook is created.
func githubPing() []byte {
	b, _ := json.Marshal(map[string]any{
		"zen": "Keep it logically awesome.", "hook_id": 30,
		"hook":       map[string]any{"type": "Repository", "id": 30, "active": true, "events": []string{"issues"}},
		"repository": map[string]any{"id": 558001, "name": "App", "full_name": githubRepo},
		"sender":     map[string]any{"login": "jane-dev", "id": 583231, "type": "User"},
	})
	return b
}

// githubHeader is what GitHub sends with a delivery; sig "" leaves
// X-Hub-Signature-256 out.
func githubHeader(event, sig string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/044aadd")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h.Set("X-GitHub-Hook-ID", "30")
	if event != "" {
		h.Set("X-GitHub-Event", event)
	}
	if sig != "" {
		h.Set("X-Hub-Signature-256", sig)
	}
	return h
}

// signGitHub is what GitHub puts in X-Hub-Signature-256.
func signGitHub(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Slack: https://api.slack.com/reference/interaction-payloads/block-actions

// slackPress renders a block_actions request, form-encoded as Slack posts
// it: a press on the button actionID whose value is the issue id, on the
// message ts of channel (in the thread of threadTS when not "").
func slackPress(actionID string, issueID int64, channel, ts, threadTS string) []byte {
	container := map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false}
	message := map[string]any{"bot_id": "B0BOT", "type": "message", "text": "Alert: ZeroDivisionError", "user": "U0BOT", "ts": ts}
	if threadTS != "" {
		container["thread_ts"], message["thread_ts"] = threadTS, threadTS
	}
	p, _ := json.Marshal(map[string]any{
		"type":         "block_actions",
		"user":         map[string]any{"id": "U024BE7LH", "username": "jane", "name": "jane", "team_id": "T0001"},
		"api_app_id":   "A0APP",
		"token":        "verification-token",
		"container":    container,
		"trigger_id":   "1234.5678.abcd",
		"team":         map[string]any{"id": "T0001", "domain": "tocsin"},
		"channel":      map[string]any{"id": channel, "name": "ops"},
		"message":      message,
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": "https://hooks.slack.com/actions/T0001/1234/abcdef",
		"actions": []any{map[string]any{"action_id": actionID, "block_id": "tocsin_actions",
			"text":  map[string]any{"type": "plain_text", "text": actionID, "emoji": true},
			"value": strconv.FormatInt(issueID, 10), "type": "button", "action_ts": "1700000001.000200"}},
	})
	return []byte("payload=" + url.QueryEscape(string(p)))
}

// signSlack is what Slack sends with body at time at.
func signSlack(body []byte, secret string, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// Trello: https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/

// trelloMove renders an updateCard action moving card from one list to
// another.
func trelloMove(cardID, before, after string) []byte {
	b, _ := json.Marshal(map[string]any{
		"model": map[string]any{"id": "5e0000000000000000000001", "name": "Errors"},
		"action": map[string]any{
			"id": "65f2c0ffee" + cardID[10:], "idMemberCreator": "5a0000000000000000000001", "type": "updateCard",
			"date": "2026-03-02T09:59:00.000Z",
			"data": map[string]any{
				"old":        map[string]any{"idList": before},
				"card":       map[string]any{"idList": after, "id": cardID, "name": "[DEFAULT-1] ZeroDivisionError", "idShort": 12, "shortLink": "AbCd1234"},
				"board":      map[string]any{"id": "5e0000000000000000000001", "name": "Errors", "shortLink": "BoArD123"},
				"listBefore": map[string]any{"id": before, "name": "Before"},
				"listAfter":  map[string]any{"id": after, "name": "After"},
			},
			"memberCreator": map[string]any{"id": "5a0000000000000000000001", "username": "alice", "fullName": "Alice Doe"},
		},
	})
	return b
}

// trelloComment renders a commentCard action: not a move.
func trelloComment(cardID string) []byte {
	b, _ := json.Marshal(map[string]any{
		"model": map[string]any{"id": "5e0000000000000000000001"},
		"action": map[string]any{"id": "65f2c0ffee0000000000beef", "type": "commentCard", "date": "2026-03-02T09:59:00.000Z",
			"data": map[string]any{"text": "looking", "card": map[string]any{"id": cardID, "name": "x"},
				"list": map[string]any{"id": listResolved}}},
	})
	return b
}

// signTrello is what Trello puts in X-Trello-Webhook.
func signTrello(body []byte, callback, secret string) http.Header {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	mac.Write([]byte(callback))
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Trello-Webhook", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return h
}

// trelloCard is a Trello card id of 24 hex digits.
func trelloCard(n int) string { return fmt.Sprintf("5c%022x", n) }
