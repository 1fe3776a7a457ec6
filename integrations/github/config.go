// Package github files Tocsin issues as GitHub issues, through
// google/go-github: one GitHub issue per Tocsin issue, with follow-ups
// (regressions, resolutions, further alerts) as comments that reopen or
// close it; and it reads GitHub's "issues" webhooks so that closing or
// reopening the GitHub issue resolves or unresolves the Tocsin one.
//
// This file holds the integration's settings.
package github

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Config is a GitHub integration's settings, as stored with the integration
// (INTERFACES.md: token and webhook_secret are secrets).
type Config struct {
	// Token is a personal access token or an app installation token; it
	// needs Issues read and write on the repositories it files into.
	Token string `json:"token"`
	// Owner and Repo name the default repository, used when a rule action
	// names no target.
	Owner string `json:"owner"`
	Repo  string `json:"repo"`
	// Labels are put on every GitHub issue created, before the rule
	// action's own.
	Labels []string `json:"labels,omitempty"`
	// WebhookSecret checks X-Hub-Signature-256 of inbound webhooks; ""
	// means the integration takes none.
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// Installation names the Tocsin deployment (its installation UUID),
	// set by the caller rather than stored: the hidden marker of a filed
	// issue carries it, so that a retry after a lost answer finds the
	// issue this Tocsin filed, and no other's, whatever base_url says.
	Installation string `json:"-"`
}

var (
	// Owners are user or organization logins: letters, digits and
	// hyphens on github.com; GitHub Enterprise Server also allows
	// underscores (logins made from LDAP or SAML names).
	ownerRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,98}[A-Za-z0-9_])?$`)
	repoRE  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// Limits of what GitHub accepts (issue creation answers 422 past them).
const (
	maxLabels     = 100
	maxLabelRunes = 50
)

// Validate says what in c cannot work, all of it at once.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.Token == "":
		errs = append(errs, errors.New("github: token is required"))
	case strings.ContainsFunc(c.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		errs = append(errs, errors.New("github: token contains spaces or control characters"))
	}
	if _, err := parseRepo(c.Owner + "/" + c.Repo); err != nil {
		errs = append(errs, err)
	}
	if err := validLabels(c.Labels); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validLabels checks labels against GitHub's limits.
func validLabels(labels []string) error {
	if len(labels) > maxLabels {
		return fmt.Errorf("github: %d labels, at most %d", len(labels), maxLabels)
	}
	for _, l := range labels {
		if strings.TrimSpace(l) == "" || len([]rune(l)) > maxLabelRunes {
			return fmt.Errorf("github: label %q must be 1 to %d characters", l, maxLabelRunes)
		}
	}
	return nil
}

// repoRef names a repository.
type repoRef struct{ owner, name string }

func (r repoRef) String() string { return r.owner + "/" + r.name }

// parseRepo reads "owner/repo".
func parseRepo(s string) (repoRef, error) {
	owner, name, ok := strings.Cut(s, "/")
	switch {
	case !ok || owner == "" || name == "":
		return repoRef{}, fmt.Errorf("github: repository %q: want owner/repo", s)
	case !ownerRE.MatchString(owner):
		return repoRef{}, fmt.Errorf("github: repository %q: owner is not a GitHub login", s)
	case !repoRE.MatchString(name) || name == "." || name == "..":
		return repoRef{}, fmt.Errorf("github: repository %q: bad repository name", s)
	}
	return repoRef{owner: owner, name: name}, nil
}

// handle is what Notify answers and is given back: "owner/repo#123", in
// lower case because GitHub's names are not case-sensitive (so a webhook's
// repository name matches whatever case the config used).
type handle struct {
	repo   repoRef
	number int
}

func (h handle) String() string {
	return strings.ToLower(h.repo.String()) + "#" + strconv.Itoa(h.number)
}

// parseHandle reads "owner/repo#123"; a bare "123" or "#123" is an issue
// of the default repository def.
func parseHandle(s string, def repoRef) (handle, error) {
	repo, num, ok := strings.Cut(s, "#")
	if !ok {
		repo, num = "", s
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return handle{}, fmt.Errorf("github: handle %q: want owner/repo#number", s)
	}
	h := handle{repo: def, number: n}
	if repo != "" {
		if h.repo, err = parseRepo(repo); err != nil {
			return handle{}, fmt.Errorf("github: handle %q: %w", s, err)
		}
	}
	return h, nil
}

// ParseHandle reads a GitHub issue named by a person linking it by hand,
// "owner/repo#123" or its web address (https://HOST/owner/repo/issues/123,
// any host for GitHub Enterprise Server), and returns it as the handle
// Notify answers and takes, "owner/repo#123" in lower case.
func ParseHandle(s string) (string, error) {
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) != 4 || parts[2] != "issues" {
			return "", fmt.Errorf("github: %q is not the address of an issue", s)
		}
		s = parts[0] + "/" + parts[1] + "#" + parts[3]
	}
	h, err := parseHandle(s, repoRef{})
	if err != nil {
		return "", err
	}
	if h.repo.owner == "" {
		return "", fmt.Errorf("github: handle %q: want owner/repo#number", s)
	}
	return h.String(), nil
}

func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "[redacted]"
}

// String shows the settings with the secrets left out.
func (c Config) String() string {
	return fmt.Sprintf("github %s/%s labels=%q token=%s webhook_secret=%s",
		c.Owner, c.Repo, c.Labels, strconv.Quote(redacted(c.Token)), strconv.Quote(redacted(c.WebhookSecret)))
}

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string { return c.String() }

// LogValue returns the settings as a slog group with the secrets left out.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("owner", c.Owner),
		slog.String("repo", c.Repo),
		slog.Any("labels", c.Labels),
		slog.String("token", redacted(c.Token)),
		slog.String("webhook_secret", redacted(c.WebhookSecret)),
	)
}
