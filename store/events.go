package store

import (
	"context"
	"fmt"
	"time"
)

// StoredEvent is an event as stored: its index fields and its whole JSON.
type StoredEvent struct {
	RowID     int64
	EventID   string
	ProjectID int64
	IssueID   int64
	Type      string
	Title     string
	Level     string
	Timestamp time.Time
	Received  time.Time
	// JSON is the normalized event, decompressed.
	JSON []byte
}

const eventSelect = `SELECT e.id, e.event_id, e.project_id, COALESCE(e.issue_id, 0), e.type, e.title, e.level,
	e.timestamp, e.received, e.data FROM events e JOIN projects p ON p.id = e.project_id
	WHERE p.organization_id = $1`

func scanEvent(r row) (*StoredEvent, error) {
	var (
		e    StoredEvent
		data []byte
	)
	if err := r.Scan(&e.RowID, &e.EventID, &e.ProjectID, &e.IssueID, &e.Type, &e.Title, &e.Level,
		&e.Timestamp, &e.Received, &data); err != nil {
		return nil, err
	}
	js, err := decompressEventData(data)
	if err != nil {
		return nil, err
	}
	e.JSON = js
	return &e, nil
}

// EventGet returns an event of a project of the organization by its event id.
func (s *Store) EventGet(ctx context.Context, orgID, projectID int64, eventID string) (*StoredEvent, error) {
	e, err := scanEvent(s.r.queryRow(ctx, eventSelect+` AND e.project_id = $2 AND e.event_id = $3`,
		orgID, projectID, eventID))
	if err != nil {
		return nil, notFound(err, "event "+eventID)
	}
	return e, nil
}

// EventList returns an issue's events, newest first.
func (s *Store) EventList(ctx context.Context, orgID, issueID int64, page Page) ([]*StoredEvent, error) {
	rs, err := s.r.query(ctx, eventSelect+` AND e.issue_id = $2 ORDER BY e.received DESC, e.id DESC
		LIMIT $3 OFFSET $4`, orgID, issueID, page.Limit, page.Offset)
	if err != nil {
		return nil, fmt.Errorf("list events of issue %d: %w", issueID, err)
	}
	defer rs.Close()
	var out []*StoredEvent
	for rs.Next() {
		e, err := scanEvent(rs)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		out = append(out, e)
	}
	return out, rs.Err()
}

// EventEdge returns an issue's latest (or oldest) event.
func (s *Store) EventEdge(ctx context.Context, orgID, issueID int64, latest bool) (*StoredEvent, error) {
	order := "ASC"
	if latest {
		order = "DESC"
	}
	e, err := scanEvent(s.r.queryRow(ctx, eventSelect+` AND e.issue_id = $2
		ORDER BY e.received `+order+`, e.id `+order+` LIMIT 1`, orgID, issueID))
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("events of issue %d", issueID))
	}
	return e, nil
}

// TagSummary is a tag key of an issue with its most common values.
type TagSummary struct {
	Key         string
	TotalValues int64
	Top         []TagValue
}

// TagValue is one value of a tag and how often it was seen.
type TagValue struct {
	Value     string
	Count     int64
	FirstSeen time.Time
	LastSeen  time.Time
}

// IssueTags summarizes an issue's tags: per key, the number of events with
// it and its top values.
func (s *Store) IssueTags(ctx context.Context, issueID int64, top int) ([]*TagSummary, error) {
	rs, err := s.r.query(ctx, `SELECT key, value, times_seen, first_seen, last_seen FROM issue_tags
		WHERE issue_id = $1 ORDER BY key, times_seen DESC, value`, issueID)
	if err != nil {
		return nil, fmt.Errorf("issue tags: %w", err)
	}
	defer rs.Close()
	var out []*TagSummary
	for rs.Next() {
		var (
			key string
			v   TagValue
		)
		if err := rs.Scan(&key, &v.Value, &v.Count, &v.FirstSeen, &v.LastSeen); err != nil {
			return nil, fmt.Errorf("issue tags: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Key != key {
			out = append(out, &TagSummary{Key: key})
		}
		ts := out[len(out)-1]
		ts.TotalValues += v.Count
		if len(ts.Top) < top {
			ts.Top = append(ts.Top, v)
		}
	}
	return out, rs.Err()
}
