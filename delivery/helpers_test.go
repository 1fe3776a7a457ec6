package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/grouping"
	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// t0 is when every delivery test starts: rules fire at it, and the
// worker's clock starts there, so that due times, leases, holds and ages
// are the test's, not the wall clock's.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// testSecretKey is the deployment secret the tests seal integration secrets with.
const testSecretKey = "delivery-tests-secret-key-0123456789abcdef"

// clock is the worker's fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// world is one test's store on one engine: an organization "acme" whose
// owner is on team ops and whose members alice, bob and carol (carol on
// team web) can be emailed; a project with a rule and an issue made by an
// ingested event; another organization "other"; and a raw connection to
// the same database for what the store does not read back (attempt rows,
// destination holds).
type world struct {
	st    *store.Store
	url   string // of the database, to open another store on it
	db    *sql.DB
	box   *integrations.SecretBox
	clock *clock

	owner, alice, bob, carol *store.User
	dave                     *store.User // of the other organization only
	org, other               *store.Organization
	ops, web                 *store.Team
	project                  *store.Project
	rule                     *store.Rule

	issue  int64            // the issue of the first event
	events map[int64]string // the event that made each issue

	nextEvent int
}

// forEachEngine runs fn as a parallel subtest per engine, each with its
// own migrated store (storetest's databases) and world.
func forEachEngine(t *testing.T, fn func(t *testing.T, w *world)) {
	t.Helper()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			url := storetest.DatabaseURL(t, e)
			st := storetest.OpenURL(t, url)
			var db *sql.DB
			var err error
			if e == store.SQLite {
				db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(url, "sqlite:")+
					"?_pragma=busy_timeout(10000)&_pragma=query_only(1)&_time_format=sqlite")
			} else {
				db, err = sql.Open("pgx", url)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			w := newWorld(t, st, db)
			w.url = url
			fn(t, w)
		})
	}
}

func newWorld(t *testing.T, st *store.Store, db *sql.DB) *world {
	t.Helper()
	ctx := context.Background()
	box, err := integrations.NewSecretBox(testSecretKey)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{st: st, db: db, box: box, clock: &clock{t: t0}, events: map[int64]string{}}
	user := func(name string) *store.User {
		u, err := st.UserCreate(ctx, &store.UserCreateParams{Email: name + "@example.com", Name: name, Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.owner, w.alice, w.bob, w.carol = user("owner"), user("alice"), user("bob"), user("carol")
	org := func(slug string, owner *store.User) (*store.Organization, *store.Member) {
		o, err := st.OrganizationCreate(ctx, &store.OrganizationCreateParams{Slug: slug, Name: slug, OwnerID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		_, m, err := st.Membership(ctx, owner.ID, slug)
		if err != nil {
			t.Fatal(err)
		}
		return o, m
	}
	var ownerMember *store.Member
	w.org, ownerMember = org("acme", w.owner)
	w.dave = user("dave")
	w.other, _ = org("other", w.dave)
	members := map[int64]*store.Member{}
	for _, u := range []*store.User{w.alice, w.bob, w.carol} {
		m, err := st.MemberCreate(ctx, w.org.ID, u.ID, store.RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		members[u.ID] = m
	}
	team := func(slug string, m *store.Member) *store.Team {
		tm, err := st.TeamCreate(ctx, w.org.ID, &store.TeamCreateParams{Slug: slug, Name: slug, MemberID: m.ID})
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	w.ops, w.web = team("ops", ownerMember), team("web", members[w.carol.ID])
	if w.project, _, err = st.ProjectCreate(ctx, w.org.ID, w.ops.ID, &store.ProjectCreateParams{Slug: "shop", Name: "Shop", Platform: "python"}); err != nil {
		t.Fatal(err)
	}
	if w.rule, err = st.RuleCreate(ctx, w.org.ID, &store.Rule{ProjectID: w.project.ID, Name: "checkout alerts",
		ActionMatch: "all", FilterMatch: "all", Frequency: 30, Status: "active",
		Conditions: `[{"id":"sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}]`,
		Filters:    `[]`, Actions: `[]`}); err != nil {
		t.Fatal(err)
	}
	w.issue = w.newIssue(t, "ValueError: card declined")
	return w
}

// newIssue stores an event (received at t0) that makes a new issue with
// the title, and returns the issue.
func (w *world) newIssue(t *testing.T, title string) int64 {
	t.Helper()
	return w.newIssueLevel(t, title, "error")
}

// newIssueLevel is newIssue of an event of the level.
func (w *world) newIssueLevel(t *testing.T, title, level string) int64 {
	t.Helper()
	w.nextEvent++
	js, _ := json.Marshal(map[string]any{
		"event_id": fmt.Sprintf("%032x", w.nextEvent), "timestamp": t0.Format(time.RFC3339Nano),
		"platform": "python", "level": level, "environment": "production", "message": title,
		"fingerprint": []string{title},
	})
	ev, err := event.Parse(js, event.ParseOptions{Received: t0})
	if err != nil {
		t.Fatal(err)
	}
	g := grouping.Group(ev)
	data, err := json.Marshal(ev.Data)
	if err != nil {
		t.Fatal(err)
	}
	env := &store.IngestEnvelope{ProjectID: w.project.ID, OrganizationID: w.org.ID, Received: t0,
		Events: []*store.IngestEvent{{ProjectID: w.project.ID, OrganizationID: w.org.ID, Event: ev, Hash: g.Hash,
			GroupingVersion: g.Version, Data: store.CompressEventData(data), Size: len(data)}}}
	if err := w.st.IngestBatch(context.Background(), []*store.IngestEnvelope{env}); err != nil {
		t.Fatal(err)
	}
	id := env.Results[0].IssueID
	w.events[id] = ev.ID
	return id
}

// integration adds an integration of the organization with its settings,
// the secret ones sealed as the API seals them.
func (w *world) integration(t *testing.T, org *store.Organization, provider string, config, secrets map[string]any) *store.Integration {
	t.Helper()
	if config == nil {
		config = map[string]any{}
	}
	cfg, _ := json.Marshal(config)
	sec, _ := json.Marshal(secrets)
	in, err := w.st.IntegrationCreate(context.Background(), &store.Integration{OrganizationID: org.ID, Provider: provider,
		Name: provider + " of " + org.Slug, Config: string(cfg)},
		func(id int64) ([]byte, error) { return w.box.Seal(sec, id) })
	if err != nil {
		t.Fatalf("create %s integration: %v", provider, err)
	}
	return in
}

// fire records a firing of the world's rule for the issue at the time,
// with one notification request per action, as the rules engine does.
func (w *world) fire(t *testing.T, issue int64, at time.Time, muted string, actions ...map[string]any) {
	t.Helper()
	var js []string
	for _, a := range actions {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		js = append(js, string(b))
	}
	fired, err := w.st.RuleFire(context.Background(), &store.RuleFiring{RuleID: w.rule.ID, ProjectID: w.project.ID,
		IssueID: issue, EventID: w.events[issue], Reason: store.ActivityNewIssue, At: at, Actions: js, MutedUsers: muted})
	if err != nil || !fired {
		t.Fatalf("fire the rule: %v (fired %t)", err, fired)
	}
}

// fanOut plans every pending notification request, as the worker does
// before it claims deliveries, and returns how many requests it took.
func (w *world) fanOut(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	p := &planner{store: w.st}
	total := 0
	for {
		n, err := w.st.NotificationsFanOut(ctx, 100, func(pn *store.PendingNotification) ([]*store.Delivery, error) {
			return p.plan(ctx, pn)
		})
		if err != nil {
			t.Fatalf("fan out: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// deliveries lists the organization's deliveries, oldest first.
func (w *world) deliveries(t *testing.T, org *store.Organization) []*store.Delivery {
	t.Helper()
	ds, err := w.st.DeliveryList(context.Background(), org.ID, &store.DeliveryFilter{Page: store.Page{Limit: 10000}})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	return ds
}

// attemptRow is a row of delivery_attempts.
type attemptRow struct {
	Outcome, Reason, Error string
	StatusCode             int
	Started                time.Time
	NextAttempt            *time.Time
}

// attempts reads a delivery's attempt rows, oldest first.
func (w *world) attempts(t *testing.T, deliveryID int64) []attemptRow {
	t.Helper()
	rs, err := w.db.QueryContext(context.Background(), `SELECT outcome, reason, error, status_code, started, next_attempt
		FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id`, deliveryID)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []attemptRow
	for rs.Next() {
		var (
			a    attemptRow
			next sql.NullTime
		)
		if err := rs.Scan(&a.Outcome, &a.Reason, &a.Error, &a.StatusCode, &a.Started, &next); err != nil {
			t.Fatal(err)
		}
		if next.Valid {
			n := next.Time.UTC()
			a.NextAttempt = &n
		}
		a.Started = a.Started.UTC()
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// holds reads an integration's destination holds: destination → until.
func (w *world) holds(t *testing.T, integrationID int64) map[string]time.Time {
	t.Helper()
	rs, err := w.db.QueryContext(context.Background(), `SELECT destination, until FROM destination_holds
		WHERE integration_id = $1`, integrationID)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := map[string]time.Time{}
	for rs.Next() {
		var (
			dest  string
			until time.Time
		)
		if err := rs.Scan(&dest, &until); err != nil {
			t.Fatal(err)
		}
		out[dest] = until.UTC()
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fake is a service behind the test providers: the notifiers it builds
// record every notification and answer from a per-destination queue
// (delivered when the queue is empty).
type fake struct {
	mu      sync.Mutex
	calls   []fakeCall
	builds  int
	answers map[string][]answer
}

// fakeCall is one notification a fake notifier got.
type fakeCall struct {
	Service string // the integration's "service" setting
	Token   string // its secret "token", as the worker opened it
	Note    *integrations.Notification
	// Deadline says whether the attempt had a deadline of its own.
	Deadline bool
}

// answer is one answer of a fake notifier.
type answer func(n *integrations.Notification) (*integrations.Result, error)

func newFake() *fake { return &fake{answers: map[string][]answer{}} }

// key names a destination: the integration's service setting and the target.
func key(service, target string) string { return service + "|" + target }

// queue adds answers for a destination, given in the order they are used.
func (f *fake) queue(service, target string, as ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[key(service, target)] = append(f.answers[key(service, target)], as...)
}

// provider is a test provider named name whose notifiers this fake makes.
func (f *fake) provider(name string, perTarget bool) *integrations.Provider {
	return &integrations.Provider{Name: name, PerTarget: perTarget, Digests: true,
		Build: func(config, secrets map[string]any) (integrations.Notifier, error) {
			service, _ := config["service"].(string)
			token, _ := secrets["token"].(string)
			f.mu.Lock()
			f.builds++
			f.mu.Unlock()
			return integrations.NotifierFunc(func(ctx context.Context, n *integrations.Notification) (*integrations.Result, error) {
				_, hasDeadline := ctx.Deadline()
				f.mu.Lock()
				f.calls = append(f.calls, fakeCall{Service: service, Token: token, Note: n, Deadline: hasDeadline})
				var a answer
				if q := f.answers[key(service, n.Target)]; len(q) > 0 {
					a, f.answers[key(service, n.Target)] = q[0], q[1:]
				}
				f.mu.Unlock()
				if a == nil {
					return &integrations.Result{Handle: "handle-" + service + "-" + n.Target, Status: 200}, nil
				}
				return a(n)
			}), nil
		}}
}

// callsTo returns the notifications a service got, oldest first.
func (f *fake) callsTo(service string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Service == service {
			out = append(out, c)
		}
	}
	return out
}

func (f *fake) allCalls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

// worker returns a delivery worker on the world's store and clock, with
// the fake's providers "fake" (limited per integration) and "fakepertarget"
// (limited per target), and cfg's other settings.
func (w *world) worker(t *testing.T, f *fake, cfg Config) *Worker {
	t.Helper()
	cfg.Now = w.clock.Now
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://tocsin.example.com"
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	wk, err := New(cfg, w.st, w.box, Registry{"fake": f.provider("fake", false), "fakepertarget": f.provider("fakepertarget", true)},
		log, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return wk
}

// run makes the worker fan out and work everything due now.
func run(t *testing.T, wk *Worker) {
	t.Helper()
	if err := wk.Run(context.Background()); err != nil {
		t.Fatalf("run the delivery worker: %v", err)
	}
}

// notify is a tocsin.actions.notify action.
func notify(in *store.Integration, target string) map[string]any {
	return map[string]any{"id": "tocsin.actions.notify", "integration": fmt.Sprint(in.ID), "target": target}
}
