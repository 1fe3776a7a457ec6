package api

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tocsin/tocsin/store"
)

const slugHelp = "Enter a valid slug consisting of lowercase letters, numbers, underscores or hyphens. It cannot be entirely numeric."

// checkSlug validates a slug field.
func checkSlug(field, slug string) error {
	if !store.ValidSlug(slug) {
		if len(slug) > store.MaxSlugLength {
			return invalidField(field, "Ensure this field has no more than %d characters.", store.MaxSlugLength)
		}
		return invalidField(field, slugHelp)
	}
	return nil
}

// checkName validates a display name: present, printable, not too long.
func checkName(field, name string, maxLen int) error {
	switch {
	case strings.TrimSpace(name) == "":
		return invalidField(field, "This field may not be blank.")
	case !utf8.ValidString(name):
		return invalidField(field, "must be valid UTF-8")
	case utf8.RuneCountInString(name) > maxLen:
		return invalidField(field, "Ensure this field has no more than %d characters.", maxLen)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return invalidField(field, "must not contain control characters")
	}
	return nil
}

// slugFor returns the given slug, or one derived from the name; field names
// the slug in errors.
func slugFor(slug *string, name string) (string, error) {
	if slug != nil && *slug != "" {
		return *slug, checkSlug("slug", *slug)
	}
	s := store.Slugify(name)
	if s == "" {
		return "", invalidField("slug", "could not derive a slug from the name; give one")
	}
	return s, nil
}

var platformRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

// checkPlatform validates a platform id such as "python" or "javascript-react".
func checkPlatform(p string) error {
	if p != "" && !platformRE.MatchString(p) {
		return invalidField("platform", "Invalid platform")
	}
	return nil
}

// Field length limits, as Sentry's models.
const (
	maxOrgName     = 64
	maxTeamName    = 64
	maxProjectName = 200
	maxKeyName     = 64
)
