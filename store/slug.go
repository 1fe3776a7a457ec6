package store

import (
	"regexp"
	"strings"
)

// MaxSlugLength is Sentry's slug limit.
const MaxSlugLength = 50

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidSlug reports whether s is a usable slug: lowercase letters, digits,
// '-' and '_', at most 50 characters, and not only digits (Sentry resolves
// all-digit path parts as ids).
func ValidSlug(s string) bool {
	if len(s) == 0 || len(s) > MaxSlugLength || !slugRE.MatchString(s) {
		return false
	}
	return strings.Trim(s, "0123456789") != ""
}

// Slugify derives a slug from a display name, as Sentry does when a client
// gives only a name. It may return "" when nothing usable remains.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > MaxSlugLength {
		s = strings.TrimRight(s[:MaxSlugLength], "-")
	}
	if s != "" && strings.Trim(s, "0123456789") == "" {
		s = "n" + s
		if len(s) > MaxSlugLength {
			s = s[:MaxSlugLength]
		}
	}
	return s
}

// Page selects a slice of a list: Limit rows after Offset.
type Page struct {
	Limit  int
	Offset int
}
