package trello

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/adlio/trello"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/templates"
)

// DefaultAPIURL is Trello's REST base, used when TOCSIN_TRELLO_API_URL is
// empty.
const DefaultAPIURL = trello.DefaultBaseURL

// DefaultTimeout bounds one attempt when the caller's context allows
// longer.
const DefaultTimeout = 30 * time.Second

// Notifier keeps one Trello card per Tocsin issue and target list
// (https://developer.atlassian.com/cloud/trello/rest/api-group-cards/).
type Notifier struct {
	cfg     Config
	client  *trello.Client
	http    *http.Client
	timeout time.Duration
	now     func() time.Time
}

var _ integrations.Notifier = (*Notifier)(nil)

// New builds the notifier of one integration. apiURL is the REST base
// ending in /1 ("" for Trello's); httpClient is the hub's outgoing client
// (nil for a default one), to which each attempt adds its context.
func New(cfg Config, apiURL string, httpClient *http.Client) (*Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, err := NormalizeAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	c := trello.NewClient(cfg.APIKey, cfg.Token)
	c.BaseURL = base
	c.Client = httpClient
	return &Notifier{cfg: cfg, client: c, http: httpClient, timeout: DefaultTimeout, now: time.Now}, nil
}

// NormalizeAPIURL checks TOCSIN_TRELLO_API_URL, the REST base ending in /1
// (https://api.trello.com/1), and drops a final slash, as adlio/trello
// joins paths with one; "" means DefaultAPIURL.
func NormalizeAPIURL(raw string) (string, error) {
	if raw == "" {
		return DefaultAPIURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("trello: api url must be an http(s) URL such as https://api.trello.com/1")
	}
	return strings.TrimRight(raw, "/"), nil
}

// Notify delivers one notification to a list (its Target, or the
// integration's list): the first alert of an issue creates its card, later
// notifications comment on it; a regression also moves the card back to
// the list and a resolution to the resolved list. The result's Handle is
// the card id.
func (n *Notifier) Notify(ctx context.Context, nt *integrations.Notification) (*integrations.Result, error) {
	if nt == nil {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonClient, Err: errors.New("trello: no notification")}
	}
	list := firstOf(nt.Target, n.cfg.ListID)
	if !idRE.MatchString(list) {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig,
			Err: fmt.Errorf("trello: target %q is not a Trello list id (24 hex digits)", truncate(list, 64))}
	}
	if nt.Handle != "" && !refRE.MatchString(nt.Handle) {
		return nil, &integrations.PermanentError{Reason: integrations.ReasonConfig,
			Err: fmt.Errorf("trello: handle %q is not a Trello card id", truncate(nt.Handle, 64))}
	}
	var create *trello.Card
	var warning string
	if nt.Handle == "" && creates(nt.Kind) {
		var err error
		if create, warning, err = n.newCard(nt, list); err != nil {
			return nil, err
		}
	}

	a, cancel := n.begin(ctx)
	defer cancel()
	a.warning = warning
	card := &trello.Card{ID: nt.Handle}
	card.SetClient(a.client)
	if nt.Handle == "" {
		found, err := a.findCard(list, n.cfg.Installation, nt.Issue.ID)
		switch {
		case err != nil:
			return nil, err
		case found != nil && creates(nt.Kind):
			// A retry of a delivery that created the card but did not
			// live to store its id.
			return a.result(found), nil
		case found != nil:
			card = found
		case creates(nt.Kind):
			return a.createCard(create)
		default:
			// No card to update: the issue never had one here.
			return &integrations.Result{}, nil
		}
	}

	switch nt.Kind {
	case integrations.KindRegression:
		// Idempotent steps first, so that a retry does not comment twice.
		if err := a.move(card, list, true); err != nil {
			return nil, err
		}
	case integrations.KindResolved:
		if n.cfg.ResolvedListID != "" {
			if err := a.move(card, n.cfg.ResolvedListID, false); err != nil {
				return nil, err
			}
		}
	}
	text, warning, err := comment(nt)
	if err != nil {
		return nil, fmt.Errorf("trello: render the comment: %w", err)
	}
	a.warning = templates.Warnings(a.warning, warning)
	if _, err := card.AddComment(text); err != nil {
		return nil, a.fail("comment on card "+card.ID, err)
	}
	return a.result(card), nil
}

// creates says which kinds make a card for an issue that has none; the
// others only update an existing card.
func creates(kind string) bool {
	switch kind {
	case integrations.KindAlert, integrations.KindRegression, integrations.KindTest:
		return true
	}
	return false
}

// newCard is the card an issue gets, checked before anything is sent;
// warning says why an override of its templates was set aside.
func (n *Notifier) newCard(nt *integrations.Notification, list string) (*trello.Card, string, error) {
	labels, err := labelIDs(nt.Options["labels"])
	if err != nil {
		return nil, "", &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
	}
	name, warnName, err := cardName(nt)
	if err != nil {
		return nil, "", fmt.Errorf("trello: render the card name: %w", err)
	}
	desc, warnDesc, err := cardDescription(nt, n.cfg.Installation)
	if err != nil {
		return nil, "", fmt.Errorf("trello: render the card description: %w", err)
	}
	card := &trello.Card{
		Name:     name,
		Desc:     desc,
		IDList:   list,
		IDLabels: labels,
	}
	days, err := dueDays(nt.Options["due_days"])
	if err != nil {
		return nil, "", &integrations.PermanentError{Reason: integrations.ReasonConfig, Err: err}
	}
	if days > 0 {
		at := nt.At
		if at.IsZero() {
			at = n.now()
		}
		due := at.UTC().AddDate(0, 0, days).Truncate(time.Second)
		card.Due = &due
	}
	return card, templates.Warnings(warnName, warnDesc), nil
}

// findCard looks for issue id's card among the list's open cards, by the
// marker that ends its description.
func (a *attempt) findCard(list, installation string, id int64) (*trello.Card, error) {
	l := &trello.List{ID: list}
	l.SetClient(a.client)
	cards, err := l.GetCards(trello.Arguments{"fields": "name,desc,idList,url,shortUrl,closed"})
	if err != nil {
		return nil, a.fail("look for the card of issue "+strconv.FormatInt(id, 10)+" in list "+list, err)
	}
	for _, c := range cards {
		if c != nil && !c.Closed && hasMarker(c.Desc, installation, id) {
			return c, nil
		}
	}
	return nil, nil
}

// createCard posts a new card at the top of its list.
func (a *attempt) createCard(card *trello.Card) (*integrations.Result, error) {
	if err := a.client.CreateCard(card, trello.Arguments{"pos": "top"}); err != nil {
		return nil, a.fail("create card in list "+card.IDList, err)
	}
	if card.ID == "" {
		return nil, &integrations.RetryError{Reason: integrations.ReasonServer, Status: a.status(),
			Err: errors.New("trello: create card: the answer has no card id")}
	}
	return a.result(card), nil
}

// move puts the card in list, bringing it back from the archive when
// reopen is set.
func (a *attempt) move(card *trello.Card, list string, reopen bool) error {
	args := trello.Arguments{}
	if reopen {
		args["closed"] = "false"
	}
	id := card.ID
	if err := card.MoveToList(list, args); err != nil {
		return a.fail("move card "+id+" to list "+list, err)
	}
	if card.ID == "" { // adlio decodes the answer into the card
		card.ID = id
	}
	return nil
}

// result is what a delivery to card answers.
func (a *attempt) result(card *trello.Card) *integrations.Result {
	return &integrations.Result{Handle: card.ID, URL: firstOf(card.URL, card.ShortURL), Status: a.status(), Warning: a.warning}
}

func (a *attempt) status() int {
	status, _, _ := a.rec.last()
	return status
}

// labelIDs reads the rule action's "labels": label ids, as a list or a
// comma-separated string.
func labelIDs(v any) ([]string, error) {
	var ids []string
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		ids = strings.Split(v, ",")
	case []string:
		ids = v
	case []any:
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("trello: labels: %v is not a label id", x)
			}
			ids = append(ids, s)
		}
	default:
		return nil, fmt.Errorf("trello: labels: want a list of label ids, not %T", v)
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !idRE.MatchString(id) {
			return nil, fmt.Errorf("trello: labels: %q is not a Trello label id (24 hex digits)", truncate(id, 64))
		}
		out = append(out, id)
	}
	return out, nil
}

// maxDueDays keeps a due date within ten years.
const maxDueDays = 3650

// dueDays reads the rule action's "due_days": whole days from now to the
// card's due date, 0 for none.
func dueDays(v any) (int, error) {
	var f float64
	switch v := v.(type) {
	case nil:
		return 0, nil
	case float64:
		f = v
	case int:
		f = float64(v)
	case int64:
		f = float64(v)
	case json.Number:
		var err error
		if f, err = v.Float64(); err != nil {
			return 0, fmt.Errorf("trello: due_days: %q is not a number", v)
		}
	case string:
		if strings.TrimSpace(v) == "" {
			return 0, nil
		}
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return 0, fmt.Errorf("trello: due_days: %q is not a number", truncate(v, 32))
		}
	default:
		return 0, fmt.Errorf("trello: due_days: want a number of days, not %T", v)
	}
	if f < 0 || f > maxDueDays || f != math.Trunc(f) {
		return 0, fmt.Errorf("trello: due_days: %v, want whole days from 0 to %d", f, maxDueDays)
	}
	return int(f), nil
}
