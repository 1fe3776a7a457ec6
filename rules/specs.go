package rules

import "time"

// Kinds of node.
const (
	KindCondition = "condition"
	KindFilter    = "filter"
	KindAction    = "action"
)

// Condition, filter and action ids: Sentry's, so that Sentry users and
// scripts recognise them, and Tocsin's own where Sentry has none.
const (
	FirstSeen       = "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"
	Regression      = "sentry.rules.conditions.regression_event.RegressionEventCondition"
	Reappeared      = "sentry.rules.conditions.reappeared_event.ReappearedEventCondition"
	EveryEvent      = "sentry.rules.conditions.every_event.EveryEventCondition"
	EventFrequency  = "sentry.rules.conditions.event_frequency.EventFrequencyCondition"
	UserFrequency   = "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition"
	PercentSessions = "sentry.rules.conditions.event_frequency.EventFrequencyPercentCondition"
	MonitorFailure  = "tocsin.rules.conditions.monitor.MonitorFailureCondition"

	LevelFilter       = "sentry.rules.filters.level.LevelFilter"
	TaggedEvent       = "sentry.rules.filters.tagged_event.TaggedEventFilter"
	EventAttribute    = "sentry.rules.filters.event_attribute.EventAttributeFilter"
	AgeComparison     = "sentry.rules.filters.age_comparison.AgeComparisonFilter"
	IssueOccurrences  = "sentry.rules.filters.issue_occurrences.IssueOccurrencesFilter"
	AssignedTo        = "sentry.rules.filters.assigned_to.AssignedToFilter"
	LatestRelease     = "sentry.rules.filters.latest_release.LatestReleaseFilter"
	IssueCategory     = "sentry.rules.filters.issue_category.IssueCategoryFilter"
	NotifyIntegration = "tocsin.actions.notify"
	SlackNotify       = "sentry.integrations.slack.notify_action.SlackNotifyServiceAction"
	EmailNotify       = "sentry.mail.actions.NotifyEmailAction"
	ServiceNotify     = "sentry.rules.actions.notify_event_service.NotifyEventServiceAction"
	GitHubTicket      = "sentry.integrations.github.notify_action.GitHubCreateTicketAction"
	LegacyNotify      = "sentry.rules.actions.notify_event.NotifyEventAction"
)

// field is one form field of a node, for validation and for the
// configuration endpoint that tells clients what they may send.
type field struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"` // number, choice, string, list, boolean
	Label    string      `json:"label,omitempty"`
	Choices  [][2]string `json:"choices,omitempty"`
	Required bool        `json:"required"`
	Min      float64     `json:"-"`
	Max      float64     `json:"-"`
}

// spec describes one kind of node.
type spec struct {
	ID     string
	Kind   string
	Label  string
	Fields []field
	// needsEvent: evaluating it reads the triggering event.
	needsEvent bool
}

// frequencyIntervals are the windows Sentry's frequency conditions offer.
var frequencyIntervals = map[string]time.Duration{
	"1m": time.Minute, "5m": 5 * time.Minute, "15m": 15 * time.Minute, "1h": time.Hour,
	"1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
}

// comparisonIntervals are how far back percent comparisons look.
var comparisonIntervals = map[string]time.Duration{
	"5m": 5 * time.Minute, "15m": 15 * time.Minute, "1h": time.Hour,
	"1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
}

// sessionIntervals are the windows of the percent-of-sessions condition.
var sessionIntervals = map[string]time.Duration{
	"5m": 5 * time.Minute, "10m": 10 * time.Minute, "30m": 30 * time.Minute, "1h": time.Hour,
}

func choices(m map[string]time.Duration) [][2]string {
	order := []string{"1m", "5m", "10m", "15m", "30m", "1h", "1d", "1w", "30d"}
	var out [][2]string
	for _, k := range order {
		if _, ok := m[k]; ok {
			out = append(out, [2]string{k, k})
		}
	}
	return out
}

var (
	matchOps = [][2]string{{"eq", "equals"}, {"ne", "does not equal"}, {"sw", "starts with"},
		{"ew", "ends with"}, {"co", "contains"}, {"nc", "does not contain"}, {"is", "is set"},
		{"ns", "is not set"}, {"in", "is in (comma separated)"},
		// Tocsin's own, beyond Sentry's operators.
		{"re", "matches the regular expression"}}
	levelChoices = [][2]string{{"50", "fatal"}, {"40", "error"}, {"30", "warning"}, {"20", "info"}, {"10", "debug"}}
	// attributes are the event fields EventAttributeFilter reads.
	attributes = []string{"message", "platform", "environment", "type", "error.handled", "error.unhandled",
		"exception.type", "exception.value", "user.id", "user.email", "user.username", "user.ip_address",
		"http.method", "http.url", "sdk.name", "stacktrace.code", "stacktrace.module", "stacktrace.filename",
		"stacktrace.abs_path", "stacktrace.package"}
)

func attributeChoices() [][2]string {
	out := make([][2]string, len(attributes))
	for i, a := range attributes {
		out[i] = [2]string{a, a}
	}
	return out
}

// specs is every known node kind.
var specs = []spec{
	{ID: FirstSeen, Kind: KindCondition, Label: "A new issue is created"},
	{ID: Regression, Kind: KindCondition, Label: "The issue changes state from resolved to unresolved"},
	{ID: Reappeared, Kind: KindCondition, Label: "The issue changes state from ignored to unresolved"},
	{ID: EveryEvent, Kind: KindCondition, Label: "The event occurs"},
	{ID: EventFrequency, Kind: KindCondition, Label: "The issue is seen more than {value} times in {interval}",
		Fields: frequencyFields(1e9)},
	{ID: UserFrequency, Kind: KindCondition, Label: "The issue is seen by more than {value} users in {interval}",
		Fields: frequencyFields(1e9)},
	{ID: PercentSessions, Kind: KindCondition, Label: "The issue affects more than {value} percent of sessions in {interval}",
		Fields: []field{{Name: "value", Type: "number", Required: true, Min: 0, Max: 100},
			{Name: "interval", Type: "choice", Choices: choices(sessionIntervals), Required: true}}},
	{ID: MonitorFailure, Kind: KindCondition, Label: "A cron monitor misses or fails a check-in"},

	{ID: LevelFilter, Kind: KindFilter, Label: "The event's level is {match} {level}", needsEvent: true,
		Fields: []field{{Name: "match", Type: "choice", Choices: [][2]string{{"eq", "equal to"}, {"gte", "greater than or equal to"}, {"lte", "less than or equal to"}}, Required: true},
			{Name: "level", Type: "choice", Choices: levelChoices, Required: true}}},
	{ID: TaggedEvent, Kind: KindFilter, Label: "The event's tags match {key} {match} {value}", needsEvent: true,
		Fields: []field{{Name: "key", Type: "string", Required: true}, {Name: "match", Type: "choice", Choices: matchOps, Required: true},
			{Name: "value", Type: "string"}}},
	{ID: EventAttribute, Kind: KindFilter, Label: "The event's {attribute} value {match} {value}", needsEvent: true,
		Fields: []field{{Name: "attribute", Type: "choice", Choices: attributeChoices(), Required: true},
			{Name: "match", Type: "choice", Choices: matchOps, Required: true}, {Name: "value", Type: "string"}}},
	{ID: AgeComparison, Kind: KindFilter, Label: "The issue is {comparison_type} than {value} {time}",
		Fields: []field{{Name: "comparison_type", Type: "choice", Choices: [][2]string{{"older", "older"}, {"newer", "newer"}}, Required: true},
			{Name: "value", Type: "number", Required: true, Min: 0, Max: 1e6},
			{Name: "time", Type: "choice", Choices: [][2]string{{"minute", "minute(s)"}, {"hour", "hour(s)"}, {"day", "day(s)"}, {"week", "week(s)"}}, Required: true}}},
	{ID: IssueOccurrences, Kind: KindFilter, Label: "The issue has happened at least {value} times",
		Fields: []field{{Name: "value", Type: "number", Required: true, Min: 0, Max: 1e12}}},
	{ID: AssignedTo, Kind: KindFilter, Label: "The issue is assigned to {targetType}",
		Fields: []field{{Name: "targetType", Type: "choice", Choices: [][2]string{{"Unassigned", "No one"}, {"Team", "Team"}, {"Member", "Member"}}, Required: true},
			{Name: "targetIdentifier", Type: "string"}}},
	{ID: LatestRelease, Kind: KindFilter, Label: "The event is from the latest release", needsEvent: true},
	{ID: IssueCategory, Kind: KindFilter, Label: "The issue's category is equal to {value}",
		Fields: []field{{Name: "value", Type: "choice", Choices: [][2]string{{"1", "Error"}, {"4", "Cron"}}, Required: true}}},

	{ID: NotifyIntegration, Kind: KindAction, Label: "Send a notification through {integration} to {target}",
		Fields: []field{{Name: "integration", Type: "string", Required: true}, {Name: "target", Type: "string"},
			{Name: "digest", Type: "boolean"}, {Name: "page", Type: "boolean"}, {Name: "tags", Type: "string"}, {Name: "notes", Type: "string"},
			{Name: "labels", Type: "list"}, {Name: "assignee", Type: "string"}}},
	{ID: SlackNotify, Kind: KindAction, Label: "Send a Slack notification to {workspace} in {channel}",
		Fields: []field{{Name: "workspace", Type: "string", Required: true}, {Name: "channel", Type: "string"},
			{Name: "channel_id", Type: "string"}, {Name: "tags", Type: "string"}, {Name: "notes", Type: "string"},
			{Name: "digest", Type: "boolean"}, {Name: "page", Type: "boolean"}}},
	{ID: EmailNotify, Kind: KindAction, Label: "Send a notification to {targetType}",
		Fields: []field{{Name: "targetType", Type: "choice", Choices: [][2]string{{"IssueOwners", "Suggested assignees"}, {"Team", "Team"}, {"Member", "Member"}}, Required: true},
			{Name: "targetIdentifier", Type: "string"},
			{Name: "fallthroughType", Type: "choice", Choices: [][2]string{{"ActiveMembers", "Recently active members"}, {"AllMembers", "All members"}, {"NoOne", "No one"}}},
			{Name: "digest", Type: "boolean"}, {Name: "page", Type: "boolean"}}},
	{ID: ServiceNotify, Kind: KindAction, Label: "Send a notification via {service}",
		Fields: []field{{Name: "service", Type: "string", Required: true}}},
	{ID: GitHubTicket, Kind: KindAction, Label: "Create a GitHub issue in {repo}",
		Fields: []field{{Name: "integration", Type: "string", Required: true}, {Name: "repo", Type: "string"},
			{Name: "labels", Type: "list"}, {Name: "assignee", Type: "string"}}},
	{ID: LegacyNotify, Kind: KindAction, Label: "Send a notification to all legacy integrations"},
}

func frequencyFields(max float64) []field {
	return []field{
		{Name: "value", Type: "number", Required: true, Min: 0, Max: max},
		{Name: "interval", Type: "choice", Choices: choices(frequencyIntervals), Required: true},
		{Name: "comparisonType", Type: "choice", Choices: [][2]string{{"count", "count"}, {"percent", "percent"}}},
		{Name: "comparisonInterval", Type: "choice", Choices: choices(comparisonIntervals)},
	}
}

// specByID finds a node kind by its id.
func specByID(id string) *spec {
	for i := range specs {
		if specs[i].ID == id {
			return &specs[i]
		}
	}
	return nil
}
