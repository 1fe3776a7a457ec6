package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tocsin/tocsin/event"
	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/store"
)

// Registry maps a provider name to its description, which builds its
// notifiers.
type Registry map[string]*integrations.Provider

// Config tunes the worker.
type Config struct {
	// BaseURL is Tocsin's public address, for links back to issues.
	BaseURL string
	// Email is the built-in email route (TOCSIN_SMTP_URL); nil when not set.
	Email integrations.Notifier
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxAge ends retrying: a delivery failing for longer is failed (24 h).
	MaxAge time.Duration
	// AttemptTimeout bounds one attempt (30 s).
	AttemptTimeout time.Duration
}

// Worker fans notification requests out and works delivery jobs.
type Worker struct {
	cfg      Config
	store    *store.Store
	box      *integrations.SecretBox
	registry Registry
	log      *slog.Logger
	planner  *planner

	mu        sync.Mutex
	notifiers map[int64]cachedNotifier

	attempts *prometheus.CounterVec
}

type cachedNotifier struct {
	n       integrations.Notifier
	updated time.Time
}

// New returns a delivery worker.
func New(cfg Config, st *store.Store, box *integrations.SecretBox, reg Registry, log *slog.Logger, mreg prometheus.Registerer) (*Worker, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 24 * time.Hour
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 30 * time.Second
	}
	digests := func(provider string) bool {
		if provider == ProviderEmail {
			return true
		}
		p := reg[provider]
		return p != nil && p.Digests
	}
	w := &Worker{cfg: cfg, store: st, box: box, registry: reg, log: log, planner: &planner{store: st, digests: digests},
		notifiers: map[int64]cachedNotifier{},
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tocsin_delivery_attempts_total",
			Help: "Delivery attempts by provider and outcome (delivered, retry, held, failed).",
		}, []string{"provider", "outcome"}),
	}
	if mreg != nil {
		if err := mreg.Register(w.attempts); err != nil {
			return nil, fmt.Errorf("register delivery metrics: %w", err)
		}
	}
	return w, nil
}

// lease is how long a claimed delivery is reserved; longer than an attempt.
const lease = 2 * time.Minute

// Run fans out pending requests and works due deliveries until there is
// nothing left to do now; the worker calls it every second.
func (w *Worker) Run(ctx context.Context) error {
	for {
		n, err := w.store.NotificationsFanOut(ctx, 100, func(pn *store.PendingNotification) ([]*store.Delivery, error) {
			return w.planner.plan(ctx, pn)
		})
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	if err := w.closeDigests(ctx); err != nil {
		return err
	}
	for ctx.Err() == nil {
		ds, err := w.store.DeliveriesClaim(ctx, w.cfg.Now(), 20, lease)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return nil
		}
		var wg sync.WaitGroup
		for _, d := range ds {
			wg.Go(func() { w.deliver(ctx, d) })
		}
		wg.Wait()
	}
	return ctx.Err()
}

// deliver makes one attempt and records it.
func (w *Worker) deliver(ctx context.Context, d *store.Delivery) {
	started := w.cfg.Now()
	a := &store.Attempt{DeliveryID: d.ID, Started: started}
	res, err := w.attempt(ctx, d)
	a.Duration = w.cfg.Now().Sub(started)
	var (
		re *integrations.RetryError
		pe *integrations.PermanentError
	)
	switch {
	case err == nil:
		a.Outcome = store.OutcomeDelivered
		if res != nil && res.Warning != "" {
			// Delivered, but not as configured: say so in the log and on
			// the integration.
			a.Error = res.Warning
			w.log.Warn("delivered with a warning", "delivery", d.ID, "warning", res.Warning)
			if d.IntegrationID != nil {
				if serr := w.store.IntegrationSetStatus(ctx, *d.IntegrationID, store.IntegrationActive, res.Warning); serr != nil {
					w.log.Warn("recording the warning on the integration failed", "err", serr)
				}
			}
		} else if d.IntegrationID != nil {
			// A delivery that went through shows the integration works again.
			if serr := w.store.IntegrationMarkHealthy(ctx, *d.IntegrationID); serr != nil {
				w.log.Warn("marking integration healthy failed", "err", serr)
			}
		}
		if res != nil {
			a.StatusCode, a.Handle, a.URL = res.Status, res.Handle, res.URL
			if res.Handle != "" && d.IntegrationID != nil && d.IssueID != nil {
				a.Link = &store.IssueLink{IntegrationID: *d.IntegrationID, IssueID: *d.IssueID, Target: d.Target,
					Handle: res.Handle, URL: res.URL}
			}
		}
	case errors.As(err, &pe):
		a.Outcome, a.Reason, a.StatusCode, a.Error = store.OutcomeFailed, pe.Reason, pe.Status, err.Error()
		// Credentials refused, settings that cannot work, or a destination
		// that does not exist (channel, repository, list) need someone to
		// fix the integration: say so on it.
		if d.IntegrationID != nil && (pe.Reason == integrations.ReasonAuth || pe.Reason == integrations.ReasonConfig ||
			pe.Reason == integrations.ReasonNotFound) {
			if serr := w.store.IntegrationSetStatus(ctx, *d.IntegrationID, store.IntegrationUnhealthy, err.Error()); serr != nil {
				w.log.Warn("marking integration unhealthy failed", "err", serr)
			}
		}
	case errors.As(err, &re) && re.After > 0:
		// The service asked this destination to wait: park it, without
		// spending an attempt; other destinations go on.
		next := started.Add(re.After)
		a.Outcome, a.Reason, a.StatusCode, a.Error, a.NextAttempt = store.OutcomeHeld, re.Reason, re.Status, err.Error(), &next
		if d.IntegrationID != nil {
			if serr := w.store.DestinationHold(ctx, *d.IntegrationID, w.destination(d), next); serr != nil {
				w.log.Warn("holding destination failed", "err", serr)
			}
		}
		// Holds spend no attempt, but they do not outlast MaxAge either: a
		// destination that keeps asking to wait must not keep a delivery
		// alive for days.
		if started.Sub(d.DateCreated) >= w.cfg.MaxAge {
			a.Outcome, a.NextAttempt = store.OutcomeFailed, nil
		}
	default:
		reason := integrations.ReasonNetwork
		if errors.As(err, &re) {
			reason, a.StatusCode = re.Reason, re.Status
		}
		a.Outcome, a.Reason, a.Error = store.OutcomeRetry, reason, err.Error()
		if started.Sub(d.DateCreated) >= w.cfg.MaxAge {
			a.Outcome = store.OutcomeFailed
		} else {
			next := started.Add(Backoff(d.Attempts + 1))
			a.NextAttempt = &next
		}
	}
	w.attempts.WithLabelValues(d.Provider, a.Outcome).Inc()
	// The record must land even when the worker is stopping.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.store.DeliveryRecord(rctx, a); err != nil {
		w.log.Error("recording a delivery failed; it will be retried after its lease", "delivery", d.ID, "err", err)
	}
}

// Backoff is the wait before retry n (1-based): exponential from 10 s,
// capped at an hour, with ±20 % jitter so retries of many jobs spread out.
func Backoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// destination is what a hold applies to: the target for services that
// limit per target, the whole integration otherwise.
func (w *Worker) destination(d *store.Delivery) string {
	if p, ok := w.registry[d.Provider]; ok && p.PerTarget {
		return d.Target
	}
	return ""
}

// attempt builds the notification and calls the integration's notifier.
func (w *Worker) attempt(ctx context.Context, d *store.Delivery) (*integrations.Result, error) {
	// The integration is read once per attempt: its notifier, its email
	// recipients and its language all come from it.
	var in *store.Integration
	if d.IntegrationID != nil {
		var err error
		if in, err = w.store.IntegrationGet(ctx, d.OrganizationID, *d.IntegrationID); err != nil {
			return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
		}
	}
	n, err := w.notifier(in)
	if err != nil {
		return nil, err
	}
	note, err := w.notification(ctx, d)
	if err != nil {
		return nil, err
	}
	if d.Provider == ProviderEmail && in != nil {
		if note.Target, err = w.emailAddresses(ctx, d, in); err != nil {
			return nil, err
		}
	}
	if d.Provider == ProviderEmail {
		// Overrides of the email templates for this organization, project
		// or integration; a broken one falls back to the built-in.
		if note.Templates, err = w.store.TemplatesFor(ctx, d.OrganizationID, d.ProjectID, d.IntegrationID); err != nil {
			return nil, err
		}
	}
	if in != nil {
		var config struct {
			Language string `json:"language"`
			TimeZone string `json:"timezone"`
		}
		_ = json.Unmarshal([]byte(in.Config), &config) // validated when saved
		note.Language, note.TimeZone = config.Language, config.TimeZone
	} else {
		// The built-in email: the readers' options, put with the action
		// when the delivery was planned.
		note.Language, _ = note.Options["language"].(string)
		note.TimeZone, _ = note.Options["timezone"].(string)
	}
	actx, cancel := context.WithTimeoutCause(ctx, w.cfg.AttemptTimeout,
		fmt.Errorf("%s: no answer within %s", d.Provider, w.cfg.AttemptTimeout))
	defer cancel()
	return n.Notify(actx, note)
}

// notifier returns the integration's notifier, built once per settings
// change; the built-in email's when in is nil.
func (w *Worker) notifier(in *store.Integration) (integrations.Notifier, error) {
	if in == nil {
		if w.cfg.Email == nil {
			return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig,
				Err: errors.New("email: TOCSIN_SMTP_URL is not set")}
		}
		return w.cfg.Email, nil
	}
	w.mu.Lock()
	c, ok := w.notifiers[in.ID]
	w.mu.Unlock()
	if ok && c.updated.Equal(in.DateUpdated) {
		return c.n, nil
	}
	p, ok := w.registry[in.Provider]
	if !ok || p.Build == nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig,
			Err: fmt.Errorf("no notifier for provider %q", in.Provider)}
	}
	secrets := map[string]any{}
	if len(in.Secrets) > 0 {
		plain, err := w.box.Open(in.Secrets, in.ID)
		if err != nil {
			return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
		}
		if err := json.Unmarshal(plain, &secrets); err != nil {
			return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: errors.New("secrets do not read")}
		}
	}
	config := map[string]any{}
	if err := json.Unmarshal([]byte(in.Config), &config); err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: errors.New("settings do not read")}
	}
	n, err := p.Build(config, secrets)
	if err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
	}
	w.mu.Lock()
	w.notifiers[in.ID] = cachedNotifier{n: n, updated: in.DateUpdated}
	w.mu.Unlock()
	return n, nil
}

// closeDigests turns the digests that are due into deliveries: one
// delivery of the digest's issues to its target, or, for a digest of one
// issue, the notification it would have been without digests. A digest
// due during its target's quiet time waits for its end (quietHold).
func (w *Worker) closeDigests(ctx context.Context) error {
	for ctx.Err() == nil {
		now := w.cfg.Now()
		ts, err := w.store.DigestsClaim(ctx, now, 20, lease, quietHold(ctx, w.store, now))
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return nil
		}
		for _, t := range ts {
			if err := w.store.DigestDeliver(ctx, t.ID, digestDeliveries(t)); err != nil {
				w.log.Error("queueing a digest failed; it will be claimed again after its lease", "digest", t.ID, "err", err)
			}
		}
	}
	return ctx.Err()
}

// digestOptions is a digest delivery's Options: its issues, in order.
type digestOptions struct {
	Issues []digestIssue `json:"issues"`
}

type digestIssue struct {
	ID     int64  `json:"id"`
	Alerts int64  `json:"alerts"`
	Reason string `json:"reason"`
}

func digestDeliveries(t *store.DigestTimeline) []*store.Delivery {
	if len(t.Entries) == 0 {
		return nil // its issues were deleted
	}
	integration := int64(0)
	if t.IntegrationID != nil {
		integration = *t.IntegrationID
	}
	d := &store.Delivery{OrganizationID: t.OrganizationID, IntegrationID: t.IntegrationID, Provider: t.Provider,
		ProjectID: &t.ProjectID, Target: t.Target, DateCreated: t.Due,
		IdempotencyKey: fmt.Sprintf("digest:%d:int:%d:%s", t.ID, integration, t.Target)}
	if len(t.Entries) == 1 {
		e := t.Entries[0]
		d.IssueID, d.RuleID, d.EventID, d.Kind, d.Options = &e.IssueID, e.RuleID, e.EventID, e.Reason, e.Options
		return []*store.Delivery{d}
	}
	var opts digestOptions
	for _, e := range t.Entries {
		opts.Issues = append(opts.Issues, digestIssue{ID: e.IssueID, Alerts: e.Records, Reason: kindOf(e.Reason)})
	}
	b, _ := json.Marshal(opts)
	d.Kind, d.Options = integrations.KindDigest, string(b)
	return []*store.Delivery{d}
}

// notification assembles what the notifier needs: the issue as it is now,
// the triggering event, the rule, and the earlier handle for the issue.
func (w *Worker) notification(ctx context.Context, d *store.Delivery) (*integrations.Notification, error) {
	note := &integrations.Notification{Kind: kindOf(d.Kind), IdempotencyKey: d.IdempotencyKey, Target: d.Target,
		At: w.cfg.Now(), Unsure: d.Reclaimed}
	switch d.Kind {
	case integrations.KindDigest:
		return w.digestNotification(ctx, d, note)
	case integrations.KindSummary:
		return w.summaryNotification(ctx, d, note)
	}
	_ = json.Unmarshal([]byte(d.Options), &note.Options)
	if d.IssueID == nil {
		return note, nil
	}
	is, err := w.store.IssueByID(ctx, *d.IssueID)
	if errors.Is(err, store.ErrNotFound) {
		// Tocsin's own issue is gone, not the service's destination: this
		// says nothing about the integration's health.
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient, Err: errors.New("the issue was deleted")}
	}
	if err != nil {
		return nil, err
	}
	org, proj, err := w.store.ProjectOfIssue(ctx, is.ID)
	if err != nil {
		return nil, err
	}
	note.Issue = IssueSummary(w.cfg.BaseURL, org.Slug, proj, is)
	issueURL := note.Issue.URL
	if d.EventID != "" {
		if se, err := w.store.EventGet(ctx, org.ID, proj.ID, d.EventID); err == nil {
			note.Event = EventSummary(se, issueURL)
		}
	}
	if d.RuleID != nil {
		if r, err := w.store.RuleGet(ctx, org.ID, proj.ID, *d.RuleID); err == nil {
			note.Rule = &integrations.Rule{ID: r.ID, Name: r.Name,
				URL: strings.TrimRight(w.cfg.BaseURL, "/") + "/organizations/" + org.Slug + "/alerts/rules/" + proj.Slug + "/" + strconv.FormatInt(r.ID, 10) + "/"}
		}
	}
	if d.IntegrationID != nil {
		link, err := w.store.IssueLinkGet(ctx, *d.IntegrationID, is.ID, d.Target)
		if err != nil {
			return nil, err
		}
		if link != nil {
			note.Handle = link.Handle
		}
	} else {
		// The built-in email has no issue links: its thread root is the
		// first message it delivered about the issue to these addresses.
		h, err := w.store.DeliveryThread(ctx, d.Provider, is.ID, d.Target)
		if err != nil {
			return nil, err
		}
		note.Handle = h
	}
	return note, nil
}

// IssueSummary is what notifications show of an issue of the project,
// linked under baseURL. The API's template preview uses it too.
func IssueSummary(baseURL, orgSlug string, proj *store.Project, is *store.Issue) integrations.Issue {
	issueURL := strings.TrimRight(baseURL, "/") + "/organizations/" + orgSlug + "/issues/" + strconv.FormatInt(is.ID, 10) + "/"
	return integrations.Issue{ID: is.ID, ShortID: store.ShortID(proj.Slug, is.ShortID), Title: is.Title,
		Culprit: is.Culprit, Level: is.Level, Status: is.Status, Substatus: is.Substatus, Platform: is.Platform,
		Count: is.TimesSeen, UserCount: is.UserCount, FirstSeen: is.FirstSeen, LastSeen: is.LastSeen,
		FirstRelease: is.FirstRelease, LastRelease: is.LastRelease,
		Project: integrations.Project{ID: proj.ID, Slug: proj.Slug, Name: proj.Name}, Organization: orgSlug,
		URL: issueURL}
}

// digestNotification reads a digest delivery's issues as they are now;
// issues deleted since are left out.
func (w *Worker) digestNotification(ctx context.Context, d *store.Delivery, note *integrations.Notification) (*integrations.Notification, error) {
	note.Kind = integrations.KindDigest
	var opts digestOptions
	if err := json.Unmarshal([]byte(d.Options), &opts); err != nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient, Err: fmt.Errorf("digest does not read: %w", err)}
	}
	ids := make([]int64, len(opts.Issues))
	for i, di := range opts.Issues {
		ids[i] = di.ID
	}
	issues, err := w.store.IssuesByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	// A digest's issues are of one project (its timeline's).
	var org *store.Organization
	var proj *store.Project
	for _, di := range opts.Issues {
		is := issues[di.ID]
		if is == nil {
			continue
		}
		if proj == nil {
			if org, proj, err = w.store.ProjectOfIssue(ctx, is.ID); err != nil {
				return nil, err
			}
		}
		note.Digest = append(note.Digest, integrations.DigestItem{Issue: IssueSummary(w.cfg.BaseURL, org.Slug, proj, is),
			Alerts: di.Alerts, Reason: di.Reason})
	}
	if len(note.Digest) == 0 {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient, Err: errors.New("the digest's issues were deleted")}
	}
	note.Issue = integrations.Issue{Project: note.Digest[0].Issue.Project, Organization: note.Digest[0].Issue.Organization}
	return note, nil
}

// summaryNotification reports on the summary's period, fixed when it was
// queued.
func (w *Worker) summaryNotification(ctx context.Context, d *store.Delivery, note *integrations.Notification) (*integrations.Notification, error) {
	note.Kind = integrations.KindSummary
	var opts summaryOptions
	if err := json.Unmarshal([]byte(d.Options), &opts); err != nil || d.ProjectID == nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient, Err: fmt.Errorf("summary does not read: %v", err)}
	}
	orgSlug, orgID, err := w.store.ProjectOrganization(ctx, *d.ProjectID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient, Err: errors.New("the project was deleted")}
	}
	if err != nil {
		return nil, err
	}
	proj, err := w.store.ProjectGet(ctx, orgID, strconv.FormatInt(*d.ProjectID, 10))
	if err != nil {
		return nil, err
	}
	rep, err := w.store.SummaryReport(ctx, proj.ID, opts.From, opts.To)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(w.cfg.BaseURL, "/") + "/organizations/" + orgSlug + "/issues/"
	issues := func(in []store.SummaryIssue) []integrations.SummaryIssue {
		var out []integrations.SummaryIssue
		for _, si := range in {
			out = append(out, integrations.SummaryIssue{ShortID: store.ShortID(proj.Slug, si.ShortID), Title: si.Title,
				URL: base + strconv.FormatInt(si.ID, 10) + "/", Events: si.Events, Users: si.Users})
		}
		return out
	}
	sum := &integrations.Summary{Name: opts.Name, From: rep.From, To: rep.To, Events: rep.Events, NewIssues: rep.NewIssues,
		Regressions: rep.Regressions, Resolved: rep.Resolved, PrevEvents: rep.PrevEvents, PrevNewIssues: rep.PrevNewIssues,
		PrevRegressions: rep.PrevRegressions, PrevResolved: rep.PrevResolved,
		TopIssues: issues(rep.TopIssues), NewTop: issues(rep.NewTop)}
	for _, dc := range rep.EventsByDay {
		sum.EventsByDay = append(sum.EventsByDay, integrations.DayCount{Day: dc.Day, Events: dc.Events})
	}
	for _, rh := range rep.Releases {
		sum.Releases = append(sum.Releases, integrations.ReleaseHealth{Release: rh.Release, Sessions: rh.Sessions,
			CrashFree: strconv.FormatFloat(rh.CrashFree(), 'f', 2, 64) + "%"})
	}
	note.Summary = sum
	note.Issue = integrations.Issue{Project: integrations.Project{ID: proj.ID, Slug: proj.Slug, Name: proj.Name},
		Organization: orgSlug}
	return note, nil
}

// summaryOptions are the fields of summaries.Options the worker reads
// (the summaries package depends on this one's store, not the reverse).
type summaryOptions struct {
	Name string    `json:"name"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// kindOf maps the activity that fired a rule (or a status change) to the
// notification's kind.
func kindOf(activity string) string {
	switch activity {
	case store.ActivityRegression:
		return integrations.KindRegression
	case integrations.KindResolved, integrations.KindAssigned, integrations.KindIgnored,
		integrations.KindUnresolved, integrations.KindTest:
		return activity
	}
	return integrations.KindAlert
}

// EventSummary is what a notification shows of a stored event: message,
// environment, release, tags and the last ten frames of its stack; nil
// when the event does not read. The API's template preview uses it too.
func EventSummary(se *store.StoredEvent, issueURL string) *integrations.Event {
	ev, err := event.ParseStored(se.JSON)
	if err != nil {
		return nil
	}
	out := &integrations.Event{ID: se.EventID, Message: ev.Message, Environment: ev.Environment, Release: ev.Release,
		Timestamp: ev.Timestamp, URL: issueURL + "events/" + se.EventID + "/"}
	if out.Message == "" {
		out.Message = ev.Title()
	}
	for _, t := range ev.IndexTags() {
		out.Tags = append(out.Tags, [2]string{t.Key, t.Value})
	}
	var st *event.Stacktrace
	if n := len(ev.Exceptions); n > 0 {
		st = ev.Exceptions[n-1].Stacktrace
	}
	if st != nil {
		frames := st.Frames
		if len(frames) > 10 {
			frames = frames[len(frames)-10:]
		}
		for _, f := range frames {
			loc := f.Module
			if loc == "" {
				loc = f.Filename
			}
			out.Stacktrace = append(out.Stacktrace, fmt.Sprintf("%s in %s at line %d", loc, f.Function, f.Lineno))
		}
	}
	return out
}

// emailAddresses resolves an email integration's recipients: the rule's
// target or the integration's "to", where "user:EMAIL" names a member and
// "team:SLUG" a team's members (INTERFACES.md), and plain addresses stay.
func (w *Worker) emailAddresses(ctx context.Context, d *store.Delivery, in *store.Integration) (string, error) {
	var entries []string
	if d.Target != "" {
		entries = strings.Split(d.Target, ",")
	} else {
		var cfg struct {
			To []string `json:"to"`
		}
		_ = json.Unmarshal([]byte(in.Config), &cfg)
		entries = cfg.To
	}
	var out []string
	add := func(a string) {
		if a = strings.TrimSpace(a); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, e := range entries {
		kind, ref, found := strings.Cut(strings.TrimSpace(e), ":")
		switch {
		case found && kind == "user":
			users, err := w.store.MemberUsers(ctx, d.OrganizationID, nil, 0)
			if err != nil {
				return "", err
			}
			for _, u := range users {
				if strings.EqualFold(u.Email, ref) && u.IsActive {
					add(u.Email)
				}
			}
		case found && kind == "team":
			teamID, err := w.store.TeamIDBySlug(ctx, d.OrganizationID, ref)
			if err != nil || teamID == 0 {
				continue // a team renamed or removed: its members are not known
			}
			users, err := w.store.MemberUsers(ctx, d.OrganizationID, nil, teamID)
			if err != nil {
				return "", err
			}
			for _, u := range users {
				if u.IsActive {
					add(u.Email)
				}
			}
		default:
			add(e)
		}
	}
	if len(out) == 0 {
		return "", &integrations.PermanentError{Reason: integrations.ReasonNotFound,
			Err: errors.New("email: no recipient left after resolving users and teams")}
	}
	return strings.Join(out, ","), nil
}
