package store

import (
	"fmt"
	"slices"
	"strings"
)

// Role is a member's role in an organization, as Sentry names them.
type Role string

// The organization roles, weakest first.
const (
	RoleMember  Role = "member"
	RoleAdmin   Role = "admin"
	RoleManager Role = "manager"
	RoleOwner   Role = "owner"
)

// Roles lists the roles weakest first.
var Roles = []Role{RoleMember, RoleAdmin, RoleManager, RoleOwner}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// AllScopes are Sentry's API scope names; tokens carry a subset of them.
var AllScopes = []string{
	"org:read", "org:write", "org:admin", "org:integrations",
	"project:read", "project:write", "project:admin", "project:releases",
	"team:read", "team:write", "team:admin",
	"member:read", "member:write", "member:admin",
	"event:read", "event:write", "event:admin",
	"alerts:read", "alerts:write",
}

// roleScopes follows Sentry's default role definitions
// (src/sentry/conf/server.py SENTRY_ROLES): what each role may do.
var roleScopes = map[Role][]string{
	RoleMember: {
		"event:read", "event:write", "event:admin", "project:releases", "project:read",
		"org:read", "member:read", "team:read", "alerts:read", "alerts:write",
	},
	RoleAdmin: {
		"event:read", "event:write", "event:admin", "org:read", "member:read",
		"project:read", "project:write", "project:admin", "project:releases",
		"team:read", "team:write", "team:admin", "org:integrations",
		"alerts:read", "alerts:write",
	},
	RoleManager: {
		"event:read", "event:write", "event:admin", "member:read", "member:write",
		"member:admin", "project:read", "project:write", "project:admin",
		"project:releases", "team:read", "team:write", "team:admin", "org:read",
		"org:write", "org:integrations", "alerts:read", "alerts:write",
	},
	RoleOwner: AllScopes,
}

// Scopes returns what the role allows.
func (r Role) Scopes() []string { return slices.Clone(roleScopes[r]) }

// ValidateScopes checks that every scope is one of Sentry's scope names and
// returns them sorted without duplicates.
func ValidateScopes(scopes []string) ([]string, error) {
	out := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		sc = strings.TrimSpace(sc)
		if !slices.Contains(AllScopes, sc) {
			return nil, fmt.Errorf("unknown scope %q (want one of %s)", sc, strings.Join(AllScopes, ", "))
		}
		out = append(out, sc)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Grants reports whether the token scopes, limited by the member's role,
// include any of the wanted scopes. A token never does more than its owner's
// role allows in that organization, whatever scopes it was created with.
func Grants(tokenScopes []string, role Role, anyOf ...string) bool {
	allowed := roleScopes[role]
	for _, want := range anyOf {
		if slices.Contains(tokenScopes, want) && slices.Contains(allowed, want) {
			return true
		}
	}
	return false
}

// EffectiveScopes is the intersection of a token's scopes and a role's.
func EffectiveScopes(tokenScopes []string, role Role) []string {
	var out []string
	for _, sc := range roleScopes[role] {
		if slices.Contains(tokenScopes, sc) {
			out = append(out, sc)
		}
	}
	slices.Sort(out)
	return out
}
