package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Delivery is a durable job: one notification to one integration target.
// Its idempotency key (rule, issue, target, firing) makes fan-out safe to
// repeat; its attempts form the delivery log people read.
type Delivery struct {
	ID             int64
	OrganizationID int64
	IntegrationID  *int64 // nil for the built-in email of TOCSIN_SMTP_URL
	Provider       string
	NotificationID *int64
	ProjectID      *int64
	IssueID        *int64
	RuleID         *int64
	Kind           string
	Target         string
	IdempotencyKey string
	Options        string // the rule action's JSON
	EventID        string
	Status         string
	Attempts       int
	NextAttempt    time.Time
	LastError      string
	LastStatus     int
	Handle         string
	URL            string
	DateCreated    time.Time
	DateDelivered  *time.Time
	// Digest, when set at fan-out, collects the notification into the
	// digest timeline of its target under this policy instead of queueing
	// it (not stored with the delivery).
	Digest *DigestPolicy
	// Reclaimed is set by DeliveriesClaim when an earlier claim ended
	// without recording an outcome (its process stopped mid-delivery): the
	// service may have the notification already.
	Reclaimed bool
}

// Delivery statuses, as the API shows them.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryRetrying  = "retrying"
	DeliveryFailed    = "failed"
)

const deliveryFields = "id, organization_id, integration_id, provider, notification_id, project_id, issue_id, " +
	"rule_id, kind, target, idempotency_key, options, event_id, status, attempts, next_attempt, last_error, " +
	"last_status, handle, url, date_created, date_delivered"

// deliveryColumns are deliveryFields of the table aliased d.
var deliveryColumns = "d." + strings.ReplaceAll(deliveryFields, ", ", ", d.")

func scanDelivery(r row) (*Delivery, error) {
	var d Delivery
	err := r.Scan(d.fields()...)
	return &d, err
}

// fields are the scan destinations of deliveryFields.
func (d *Delivery) fields() []any {
	return []any{&d.ID, &d.OrganizationID, &d.IntegrationID, &d.Provider, &d.NotificationID, &d.ProjectID,
		&d.IssueID, &d.RuleID, &d.Kind, &d.Target, &d.IdempotencyKey, &d.Options, &d.EventID, &d.Status, &d.Attempts,
		&d.NextAttempt, &d.LastError, &d.LastStatus, &d.Handle, &d.URL, &d.DateCreated, &d.DateDelivered}
}

// PendingNotification is a notification request with its organization,
// ready to be turned into deliveries.
type PendingNotification struct {
	Notification
	OrganizationID int64
}

// NotificationsFanOut takes up to limit pending notification requests and
// turns each into deliveries with plan, in one transaction: the deliveries
// are inserted (a delivery whose idempotency key exists is skipped, so a
// repeated fan-out adds nothing) and the requests marked queued. plan must
// not write to the store; it may read. It returns how many requests it took.
func (s *Store) NotificationsFanOut(ctx context.Context, limit int, plan func(*PendingNotification) ([]*Delivery, error)) (int, error) {
	taken := 0
	err := s.tx(ctx, func(q querier) error {
		lock := ""
		if s.engine == Postgres {
			lock = " FOR UPDATE OF n SKIP LOCKED"
		}
		rs, err := q.query(ctx, `SELECT n.id, n.project_id, n.rule_id, n.issue_id, n.fire_id, n.event_id, n.action,
			n.reason, n.muted_users, n.status, n.date_created, p.organization_id
			FROM notifications n JOIN projects p ON p.id = n.project_id
			WHERE n.status = 'pending' ORDER BY n.id LIMIT $1`+lock, limit)
		if err != nil {
			return fmt.Errorf("take notifications: %w", err)
		}
		var pending []*PendingNotification
		for rs.Next() {
			var pn PendingNotification
			n := &pn.Notification
			if err := rs.Scan(&n.ID, &n.ProjectID, &n.RuleID, &n.IssueID, &n.FireID, &n.EventID, &n.Action, &n.Reason,
				&n.MutedUsers, &n.Status, &n.DateCreated, &pn.OrganizationID); err != nil {
				rs.Close()
				return fmt.Errorf("take notifications: %w", err)
			}
			pending = append(pending, &pn)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("take notifications: %w", err)
		}
		for _, pn := range pending {
			ds, err := plan(pn)
			if err != nil {
				return err
			}
			for _, d := range ds {
				if d.Digest != nil && d.ProjectID != nil && d.IssueID != nil {
					if _, err := digestAdd(ctx, q, s.engine, &DigestRecord{OrganizationID: d.OrganizationID,
						ProjectID: *d.ProjectID, IntegrationID: d.IntegrationID, Provider: d.Provider, Target: d.Target,
						IssueID: *d.IssueID, RuleID: d.RuleID, EventID: d.EventID, Reason: d.Kind, Options: d.Options,
						At: d.DateCreated},
						*d.Digest); err != nil {
						return err
					}
					continue
				}
				if err := deliveryInsert(ctx, q, d); err != nil {
					return err
				}
			}
			if _, err := q.exec(ctx, `UPDATE notifications SET status = 'queued' WHERE id = $1`, pn.ID); err != nil {
				return fmt.Errorf("mark notification %d queued: %w", pn.ID, err)
			}
		}
		taken = len(pending)
		return nil
	})
	return taken, err
}

func deliveryInsert(ctx context.Context, q querier, d *Delivery) error {
	if d.DateCreated.IsZero() {
		d.DateCreated = now()
	}
	if d.NextAttempt.IsZero() {
		d.NextAttempt = d.DateCreated
	}
	if d.Options == "" {
		d.Options = "{}"
	}
	_, err := q.exec(ctx, `INSERT INTO deliveries (organization_id, integration_id, provider, notification_id,
		project_id, issue_id, rule_id, kind, target, idempotency_key, options, event_id, status, next_attempt,
		date_created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', $13, $14)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		d.OrganizationID, d.IntegrationID, d.Provider, d.NotificationID, d.ProjectID, d.IssueID, d.RuleID, d.Kind,
		d.Target, d.IdempotencyKey, d.Options, d.EventID, d.NextAttempt.UTC(), d.DateCreated.UTC())
	if err != nil {
		return fmt.Errorf("queue delivery %s: %w", d.IdempotencyKey, err)
	}
	return nil
}

// DeliveryCreate queues one delivery directly (tests from the API, status
// changes people make); a repeated idempotency key adds nothing.
func (s *Store) DeliveryCreate(ctx context.Context, d *Delivery) error {
	return s.tx(ctx, func(q querier) error { return deliveryInsert(ctx, q, d) })
}

// DeliveriesClaim leases up to limit deliveries that are due and whose
// destination is not on hold, for the lease's duration. A worker that dies
// mid-delivery leaves its lease to run out, and the job is claimed again.
func (s *Store) DeliveriesClaim(ctx context.Context, at time.Time, limit int, lease time.Duration) ([]*Delivery, error) {
	var out []*Delivery
	err := s.tx(ctx, func(q querier) error {
		out = out[:0]
		at := at.UTC()
		lock := ""
		if s.engine == Postgres {
			lock = " FOR UPDATE OF d SKIP LOCKED"
		}
		rs, err := q.query(ctx, `SELECT `+deliveryColumns+`, d.claimed_until IS NOT NULL FROM deliveries d
			WHERE d.status IN ('pending', 'retrying') AND d.next_attempt <= $1
				AND (d.claimed_until IS NULL OR d.claimed_until < $1)
				AND NOT EXISTS (SELECT 1 FROM destination_holds h WHERE h.integration_id = d.integration_id
					AND h.destination IN ('', d.target) AND h.until > $1)
			ORDER BY d.next_attempt, d.id LIMIT $2`+lock, at, limit)
		if err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		for rs.Next() {
			var d Delivery
			if err := rs.Scan(append(d.fields(), &d.Reclaimed)...); err != nil {
				rs.Close()
				return fmt.Errorf("claim deliveries: %w", err)
			}
			out = append(out, &d)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		if len(out) == 0 {
			return nil
		}
		args := []any{at.Add(lease)}
		for _, d := range out {
			args = append(args, d.ID)
		}
		if _, err := q.exec(ctx, `UPDATE deliveries SET claimed_until = $1 WHERE id IN (`+
			placeholders(2, len(out))+`)`, args...); err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		return nil
	})
	return out, err
}

// Attempt is the outcome of one delivery attempt.
type Attempt struct {
	DeliveryID int64
	Started    time.Time
	Duration   time.Duration
	StatusCode int
	// Outcome: delivered, retry, failed, or held (the destination asked to
	// wait; the attempt does not count).
	Outcome     string
	Reason      string
	Error       string // already free of secrets
	NextAttempt *time.Time
	Handle      string
	URL         string
	// Link, when set, stores the service's handle for the issue and target
	// so later notifications thread, comment or update.
	Link *IssueLink
}

// Attempt outcomes.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"
	OutcomeFailed    = "failed"
	OutcomeHeld      = "held"
)

// DeliveryRecord stores an attempt's outcome with the delivery's new state,
// the issue link and the attempt row, in one transaction.
func (s *Store) DeliveryRecord(ctx context.Context, a *Attempt) error {
	return s.tx(ctx, func(q querier) error {
		var status string
		countIt := 1
		switch a.Outcome {
		case OutcomeDelivered:
			status = DeliveryDelivered
		case OutcomeFailed:
			status = DeliveryFailed
		case OutcomeHeld:
			status, countIt = DeliveryRetrying, 0
		default:
			status = DeliveryRetrying
		}
		var delivered *time.Time
		if status == DeliveryDelivered {
			t := a.Started.Add(a.Duration).UTC()
			delivered = &t
		}
		next := a.Started.UTC()
		if a.NextAttempt != nil {
			next = a.NextAttempt.UTC()
		}
		if _, err := q.exec(ctx, `UPDATE deliveries SET status = $2, attempts = attempts + $3, next_attempt = $4,
			claimed_until = NULL, last_error = $5, last_status = $6,
			handle = CASE WHEN $7 <> '' THEN $7 ELSE handle END, url = CASE WHEN $8 <> '' THEN $8 ELSE url END,
			date_delivered = COALESCE($9, date_delivered) WHERE id = $1`,
			a.DeliveryID, status, countIt, next, truncateRunes(a.Error, 2000), a.StatusCode, a.Handle, a.URL,
			delivered); err != nil {
			return fmt.Errorf("record delivery %d: %w", a.DeliveryID, err)
		}
		if _, err := q.exec(ctx, `INSERT INTO delivery_attempts (delivery_id, started, duration_ms, status_code,
			outcome, reason, error, next_attempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			a.DeliveryID, a.Started.UTC(), a.Duration.Milliseconds(), a.StatusCode, a.Outcome, a.Reason,
			truncateRunes(a.Error, 2000), a.NextAttempt); err != nil {
			return fmt.Errorf("record attempt of delivery %d: %w", a.DeliveryID, err)
		}
		if l := a.Link; l != nil {
			if _, err := q.exec(ctx, `INSERT INTO issue_links (integration_id, issue_id, target, handle, url, date_created)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (integration_id, issue_id, target)
				DO UPDATE SET handle = excluded.handle, url = excluded.url`,
				l.IntegrationID, l.IssueID, l.Target, l.Handle, l.URL, a.Started.UTC()); err != nil {
				return fmt.Errorf("link issue %d: %w", l.IssueID, err)
			}
		}
		return nil
	})
}

// IssueLink is what a service made for an issue at a target: a Slack
// thread, a GitHub issue, a Trello card.
type IssueLink struct {
	IntegrationID int64
	IssueID       int64
	Target        string
	Handle        string
	URL           string
}

// IssueLinkGet returns the link of an issue at a target, nil when none.
func (s *Store) IssueLinkGet(ctx context.Context, integrationID, issueID int64, target string) (*IssueLink, error) {
	l := IssueLink{IntegrationID: integrationID, IssueID: issueID, Target: target}
	err := s.r.queryRow(ctx, `SELECT handle, url FROM issue_links WHERE integration_id = $1 AND issue_id = $2
		AND target = $3`, integrationID, issueID, target).Scan(&l.Handle, &l.URL)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("issue link: %w", err)
	}
	return &l, nil
}

// IssueLinkByHandle finds the issue a service handle belongs to (a GitHub
// issue closed, a Trello card moved), nil when none.
func (s *Store) IssueLinkByHandle(ctx context.Context, integrationID int64, handle string) (*IssueLink, error) {
	l := IssueLink{IntegrationID: integrationID, Handle: handle}
	err := s.r.queryRow(ctx, `SELECT issue_id, target, url FROM issue_links WHERE integration_id = $1 AND handle = $2`,
		integrationID, handle).Scan(&l.IssueID, &l.Target, &l.URL)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("issue link: %w", err)
	}
	return &l, nil
}

// DestinationHold parks a destination of an integration until a time (the
// service said Retry-After); "" holds the whole integration. Other
// destinations, integrations and projects go on.
func (s *Store) DestinationHold(ctx context.Context, integrationID int64, destination string, until time.Time) error {
	if _, err := s.w.exec(ctx, `INSERT INTO destination_holds (integration_id, destination, until) VALUES ($1, $2, $3)
		ON CONFLICT (integration_id, destination) DO UPDATE SET until = CASE WHEN excluded.until > destination_holds.until
			THEN excluded.until ELSE destination_holds.until END`, integrationID, destination, until.UTC()); err != nil {
		return fmt.Errorf("hold destination: %w", err)
	}
	return nil
}

// DeliveryFilter narrows the delivery log.
type DeliveryFilter struct {
	Status        string
	IntegrationID int64
	IssueID       int64
	Page          Page
}

// DeliveryList is the organization's delivery log, newest first.
func (s *Store) DeliveryList(ctx context.Context, orgID int64, f *DeliveryFilter) ([]*Delivery, error) {
	where := []string{"d.organization_id = $1"}
	args := []any{orgID}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf("d.status = $%d", len(args)))
	}
	if f.IntegrationID != 0 {
		args = append(args, f.IntegrationID)
		where = append(where, fmt.Sprintf("d.integration_id = $%d", len(args)))
	}
	if f.IssueID != 0 {
		args = append(args, f.IssueID)
		where = append(where, fmt.Sprintf("d.issue_id = $%d", len(args)))
	}
	args = append(args, f.Page.Limit, f.Page.Offset)
	rs, err := s.r.query(ctx, `SELECT `+deliveryColumns+` FROM deliveries d WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY d.id DESC LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rs.Close()
	var out []*Delivery
	for rs.Next() {
		d, err := scanDelivery(rs)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rs.Err()
}

// DeliveryRetry sends a delivery again now, whatever its status.
func (s *Store) DeliveryRetry(ctx context.Context, orgID, id int64) (*Delivery, error) {
	d, err := scanDelivery(s.w.queryRow(ctx, `UPDATE deliveries SET status = 'pending', next_attempt = $3,
		claimed_until = NULL WHERE organization_id = $1 AND id = $2 RETURNING `+deliveryFields, orgID, id, now()))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("delivery %d", id))
	}
	return d, nil
}

// IssueLinks lists what services made for an issue (threads, GitHub
// issues, cards), to keep them in step when the issue changes.
func (s *Store) IssueLinks(ctx context.Context, issueID int64) ([]*IssueLink, error) {
	rs, err := s.r.query(ctx, `SELECT integration_id, issue_id, target, handle, url FROM issue_links
		WHERE issue_id = $1 ORDER BY integration_id, target`, issueID)
	if err != nil {
		return nil, fmt.Errorf("links of issue %d: %w", issueID, err)
	}
	defer rs.Close()
	var out []*IssueLink
	for rs.Next() {
		var l IssueLink
		if err := rs.Scan(&l.IntegrationID, &l.IssueID, &l.Target, &l.Handle, &l.URL); err != nil {
			return nil, fmt.Errorf("links of issue %d: %w", issueID, err)
		}
		out = append(out, &l)
	}
	return out, rs.Err()
}

// DeliveryAttempt is one row of a delivery's log.
type DeliveryAttempt struct {
	ID          int64
	Started     time.Time
	Duration    time.Duration
	StatusCode  int
	Outcome     string
	Reason      string
	Error       string
	NextAttempt *time.Time
}

// DeliveryGet returns a delivery of the organization with its attempts,
// oldest first.
func (s *Store) DeliveryGet(ctx context.Context, orgID, id int64) (*Delivery, []*DeliveryAttempt, error) {
	d, err := scanDelivery(s.r.queryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries d
		WHERE d.organization_id = $1 AND d.id = $2`, orgID, id))
	if err != nil {
		return nil, nil, notFound(err, fmt.Sprintf("delivery %d", id))
	}
	rs, err := s.r.query(ctx, `SELECT id, started, duration_ms, status_code, outcome, reason, error, next_attempt
		FROM delivery_attempts WHERE delivery_id = $1 ORDER BY id LIMIT 1000`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("attempts of delivery %d: %w", id, err)
	}
	defer rs.Close()
	var out []*DeliveryAttempt
	for rs.Next() {
		var (
			a  DeliveryAttempt
			ms int64
		)
		if err := rs.Scan(&a.ID, &a.Started, &ms, &a.StatusCode, &a.Outcome, &a.Reason, &a.Error, &a.NextAttempt); err != nil {
			return nil, nil, fmt.Errorf("attempts of delivery %d: %w", id, err)
		}
		a.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, &a)
	}
	return d, out, rs.Err()
}

// IssueLinkSet links an issue to something a service has, by hand (a
// GitHub issue someone opened before Tocsin did): later notifications of
// the issue then comment on it, and its webhooks reach the issue.
func (s *Store) IssueLinkSet(ctx context.Context, l *IssueLink) error {
	if _, err := s.w.exec(ctx, `INSERT INTO issue_links (integration_id, issue_id, target, handle, url, date_created)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (integration_id, issue_id, target)
		DO UPDATE SET handle = excluded.handle, url = excluded.url`,
		l.IntegrationID, l.IssueID, l.Target, l.Handle, l.URL, now()); err != nil {
		return fmt.Errorf("link issue %d: %w", l.IssueID, err)
	}
	return nil
}

// DeliveryThread returns the handle of the first delivered notification
// of the issue to target that went out without an integration (the
// built-in email of TOCSIN_SMTP_URL, which has no issue links): the thread
// later notifications reply in. "" when there is none yet.
func (s *Store) DeliveryThread(ctx context.Context, provider string, issueID int64, target string) (string, error) {
	var h string
	err := s.r.queryRow(ctx, `SELECT handle FROM deliveries WHERE issue_id = $1 AND integration_id IS NULL
		AND provider = $2 AND target = $3 AND status = $4 AND handle <> '' ORDER BY id LIMIT 1`,
		issueID, provider, target, DeliveryDelivered).Scan(&h)
	if isNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("thread of issue %d to %s: %w", issueID, target, err)
	}
	return h, nil
}
