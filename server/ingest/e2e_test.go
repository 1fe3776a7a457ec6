package ingest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getsentry/sentry-go"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// delivery is one request the SDK sent and what Tocsin answered.
type delivery struct {
	path   string
	status int
	body   []byte
}

// recorder is the SDK's HTTP transport: it passes requests on and keeps
// the answers, so that a test sees what the SDK was told.
type recorder struct {
	mu   sync.Mutex
	sent []delivery
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	r.mu.Lock()
	r.sent = append(r.sent, delivery{path: req.URL.Path, status: resp.StatusCode, body: b})
	r.mu.Unlock()
	return resp, nil
}

// last returns the latest delivery.
func (r *recorder) last(t *testing.T) delivery {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) == 0 {
		t.Fatal("the SDK sent nothing")
	}
	return r.sent[len(r.sent)-1]
}

// sdk is the official Sentry Go SDK pointed at a Tocsin DSN.
type sdk struct {
	client *sentry.Client
	rec    *recorder
}

// newSDK makes a client with the synchronous transport, so that each
// capture has been answered when it returns.
func newSDK(t *testing.T, dsn string, opts sentry.ClientOptions) *sdk {
	t.Helper()
	rec := &recorder{}
	opts.Dsn = dsn
	opts.Transport = sentry.NewHTTPSyncTransport()
	opts.HTTPTransport = rec
	c, err := sentry.NewClient(opts)
	if err != nil {
		t.Fatalf("sentry-go rejects DSN %s: %v", dsn, err)
	}
	t.Cleanup(c.Close)
	return &sdk{client: c, rec: rec}
}

// hub returns a new hub with an empty scope.
func (s *sdk) hub() *sentry.Hub { return sentry.NewHub(s.client, sentry.NewScope()) }

// accepted checks the answer to the SDK's latest envelope, 200 with
// {"id": id}, and returns id.
func (s *sdk) accepted(t *testing.T, id *sentry.EventID) string {
	t.Helper()
	if id == nil {
		t.Fatal("the SDK captured nothing (nil event id)")
	}
	d := s.rec.last(t)
	var got map[string]any
	if err := json.Unmarshal(d.body, &got); err != nil {
		t.Fatalf("%s answered %d %q: not JSON: %v", d.path, d.status, d.body, err)
	}
	if want := map[string]any{"id": string(*id)}; d.status != http.StatusOK || !mapsEqual(got, want) {
		t.Fatalf("%s answered %d %s, want 200 {\"id\": %q}", d.path, d.status, d.body, *id)
	}
	if !strings.HasSuffix(d.path, "/envelope/") {
		t.Errorf("the SDK sent to %s, want the envelope endpoint", d.path)
	}
	return string(*id)
}

func mapsEqual(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// The errors below are made by functions of their own so that their
// stacks, and so their groups, are distinct.

type chargeError struct{ order int }

func (e *chargeError) Error() string { return fmt.Sprintf("card declined for order %d", e.order) }

func chargeCard(order int) error { return &chargeError{order: order} }

func reserveStock(sku string) error { return fmt.Errorf("no stock left for %s", sku) }

func checkout(hub *sentry.Hub) *sentry.EventID {
	return hub.CaptureException(chargeCard(7))
}

func restock(hub *sentry.Hub) *sentry.EventID {
	return hub.CaptureException(reserveStock("sku-1"))
}

// Grouping drops Go closure numbers, so errors captured in different
// closures of one test function would share an issue: the scenarios below
// each capture from a function of their own.

func computeTax(hub *sentry.Hub) *sentry.EventID {
	return hub.CaptureException(errors.New("tax service timed out"))
}

func loadSession(hub *sentry.Hub) *sentry.EventID {
	return hub.CaptureException(errors.New("session store unreachable"))
}

func renderThumbnail(hub *sentry.Hub) *sentry.EventID {
	return hub.CaptureException(errors.New("thumbnail renderer crashed"))
}

func TestIngest_SentryGoSDK(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, st *store.Store) {
		ts := newFixture(t, st).serve(t)
		key := ts.boot.Key

		// The DSN the API shows for the key is the one built from the
		// listen address.
		var keys []struct {
			DSN struct{ Public string } `json:"dsn"`
		}
		if code := ts.api(t, http.MethodGet, "/api/0/projects/default/default/keys/", nil, &keys); code != http.StatusOK ||
			len(keys) != 1 || keys[0].DSN.Public != ts.dsn(key) {
			t.Fatalf("project keys: %d %+v, want DSN %s", code, keys, ts.dsn(key))
		}
		// Each subtest has its own SDK client, whose transport records
		// the answers to that subtest's captures only.
		newClient := func(t *testing.T) *sdk { return newSDK(t, ts.dsn(key), sentry.ClientOptions{}) }

		t.Run("same error at the same call site groups", func(t *testing.T) {
			t.Parallel()
			s := newClient(t)
			hub := s.hub()
			var ids []string
			for range 2 {
				ids = append(ids, s.accepted(t, checkout(hub)))
			}
			first, second := ts.event(t, ids[0]), ts.event(t, ids[1])
			if first.GroupID != second.GroupID {
				t.Fatalf("the same error twice made issues %s and %s", first.GroupID, second.GroupID)
			}
			is := ts.listedIssue(t, first.GroupID)
			if is.Count != "2" || is.Title != "*ingest_test.chargeError: card declined for order 7" || is.Level != "error" {
				t.Errorf("issue = %+v, want count \"2\", level error, the error's type and value as title", is)
			}

			other := ts.event(t, s.accepted(t, restock(hub)))
			if other.GroupID == first.GroupID {
				t.Fatalf("an error from another function joined issue %s", first.GroupID)
			}
			if is := ts.listedIssue(t, other.GroupID); is.Count != "1" {
				t.Errorf("second issue count = %q, want \"1\"", is.Count)
			}
		})

		t.Run("message with level", func(t *testing.T) {
			t.Parallel()
			s := newClient(t)
			hub := s.hub()
			hub.Scope().SetLevel(sentry.LevelWarning)
			e := ts.event(t, s.accepted(t, hub.CaptureMessage("disk almost full on the primary")))
			is := ts.listedIssue(t, e.GroupID)
			if is.Title != "disk almost full on the primary" || is.Level != "warning" || is.Count != "1" {
				t.Errorf("issue = %+v, want the message as title and level warning", is)
			}
		})

		t.Run("recovered panic", func(t *testing.T) {
			t.Parallel()
			s := newClient(t)
			hub := s.hub()
			var id *sentry.EventID
			func() {
				defer func() { id = hub.Recover(recover()) }()
				var m map[string]int
				m["boom"]++ // assignment to entry in nil map
			}()
			e := ts.event(t, s.accepted(t, id))
			is := ts.listedIssue(t, e.GroupID)
			if !strings.Contains(is.Title, "assignment to entry in nil map") || is.Level != "fatal" {
				t.Errorf("issue = %+v, want the panic as title and level fatal", is)
			}
		})

		t.Run("fingerprint overrides grouping", func(t *testing.T) {
			t.Parallel()
			s := newClient(t)
			hub := s.hub()
			var ids []string
			for _, err := range []error{chargeCard(99), reserveStock("sku-2"), errors.New("pool exhausted")} {
				hub.WithScope(func(scope *sentry.Scope) {
					scope.SetFingerprint([]string{"database-pool"})
					ids = append(ids, s.accepted(t, hub.CaptureException(err)))
				})
			}
			group := ts.event(t, ids[0]).GroupID
			for _, id := range ids[1:] {
				if g := ts.event(t, id).GroupID; g != group {
					t.Errorf("event %s is in issue %s, want %s: same fingerprint", id, g, group)
				}
			}
			if is := ts.listedIssue(t, group); is.Count != "3" {
				t.Errorf("fingerprinted issue count = %q, want \"3\"", is.Count)
			}
		})

		t.Run("user, tags, release and environment", func(t *testing.T) {
			t.Parallel()
			rs := newSDK(t, ts.dsn(key), sentry.ClientOptions{Release: "shop@1.4.2", Environment: "staging"})
			hub := rs.hub()
			hub.Scope().SetUser(sentry.User{ID: "u-42", Email: "ada@example.com", Username: "ada"})
			hub.Scope().SetTag("region", "eu-west-1")
			hub.Scope().SetTag("payment.provider", "acme")
			id := rs.accepted(t, computeTax(hub))

			var e apiEvent
			ev := ts.event(t, id)
			if code := ts.api(t, http.MethodGet, "/api/0/issues/"+ev.GroupID+"/events/latest/", nil, &e); code != http.StatusOK {
				t.Fatalf("latest event: %d", code)
			}
			if e.EventID != id || e.ID != id {
				t.Errorf("latest event id = %q/%q, want the SDK's %q", e.ID, e.EventID, id)
			}
			for k, want := range map[string]string{"region": "eu-west-1", "payment.provider": "acme",
				"environment": "staging", "release": "shop@1.4.2", "level": "error", "user": "id:u-42"} {
				if got := e.tag(k); got != want {
					t.Errorf("event tag %s = %q, want %q (tags %+v)", k, got, want, e.Tags)
				}
			}
			if e.User["id"] != "u-42" || e.User["email"] != "ada@example.com" || e.User["username"] != "ada" {
				t.Errorf("event user = %v", e.User)
			}
			if e.Release == nil || e.Release.Version != "shop@1.4.2" {
				t.Errorf("event release = %+v", e.Release)
			}

			var tags []struct {
				Key       string `json:"key"`
				TopValues []struct {
					Value string `json:"value"`
					Count int64  `json:"count"`
				} `json:"topValues"`
			}
			if code := ts.api(t, http.MethodGet, "/api/0/issues/"+ev.GroupID+"/tags/", nil, &tags); code != http.StatusOK {
				t.Fatalf("issue tags: %d", code)
			}
			got := map[string]string{}
			for _, tg := range tags {
				if len(tg.TopValues) != 1 || tg.TopValues[0].Count != 1 {
					t.Errorf("tag %s top values = %+v, want one value seen once", tg.Key, tg.TopValues)
					continue
				}
				got[tg.Key] = tg.TopValues[0].Value
			}
			for k, want := range map[string]string{"region": "eu-west-1", "payment.provider": "acme",
				"environment": "staging", "release": "shop@1.4.2", "user": "id:u-42"} {
				if got[k] != want {
					t.Errorf("issue tag %s = %q, want %q (tags %v)", k, got[k], want, got)
				}
			}
		})

		t.Run("resolved issue regresses", func(t *testing.T) {
			t.Parallel()
			s := newClient(t)
			hub := s.hub()
			capture := func() string {
				return s.accepted(t, loadSession(hub))
			}
			group := ts.event(t, capture()).GroupID
			var is apiIssue
			if code := ts.api(t, http.MethodPut, "/api/0/issues/"+group+"/", map[string]any{"status": "resolved"}, &is); code != http.StatusOK || is.Status != "resolved" {
				t.Fatalf("resolve: %d %+v", code, is)
			}
			if g := ts.event(t, capture()).GroupID; g != group {
				t.Fatalf("the new event went to issue %s, want %s", g, group)
			}
			got := ts.issue(t, group)
			if got.Status != "unresolved" || !got.hasActivity("set_regression") || got.Count != "2" {
				t.Errorf("after a new event the resolved issue is %+v, want unresolved with a set_regression activity", got)
			}
		})

		t.Run("ignored until two more events", func(t *testing.T) {
			t.Parallel()
			s := newClient(t)
			hub := s.hub()
			capture := func() string {
				return s.accepted(t, renderThumbnail(hub))
			}
			group := ts.event(t, capture()).GroupID
			var is apiIssue
			if code := ts.api(t, http.MethodPut, "/api/0/issues/"+group+"/",
				map[string]any{"status": "ignored", "statusDetails": map[string]any{"ignoreCount": 2}}, &is); code != http.StatusOK || is.Status != "ignored" {
				t.Fatalf("ignore: %d %+v", code, is)
			}
			capture()
			if got := ts.issue(t, group); got.Status != "ignored" {
				t.Errorf("after one more event the issue is %s, want still ignored", got.Status)
			}
			capture()
			if got := ts.issue(t, group); got.Status != "unresolved" || got.Count != "3" {
				t.Errorf("after two more events the issue is %+v, want unresolved", got)
			}
		})
	})
}
