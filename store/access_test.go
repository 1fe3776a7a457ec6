package store

import "testing"

func TestGrants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		scopes []string
		role   Role
		want   []string
		ok     bool
	}{
		{"scope and role", []string{"project:write"}, RoleAdmin, []string{"project:write"}, true},
		{"role lacks it", []string{"project:write"}, RoleMember, []string{"project:write"}, false},
		{"token lacks it", []string{"project:read"}, RoleOwner, []string{"project:write", "project:admin"}, false},
		{"any of", []string{"org:admin"}, RoleOwner, []string{"org:write", "org:admin"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Grants(tt.scopes, tt.role, tt.want...); got != tt.ok {
				t.Errorf("Grants(%v, %s, %v) = %v", tt.scopes, tt.role, tt.want, got)
			}
		})
	}
}

func TestSlugs(t *testing.T) {
	t.Parallel()
	for slug, ok := range map[string]bool{"acme": true, "a-b_c9": true, "123": false, "": false, "Acme": false,
		"-x": false, "x y": false, "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijk": false} {
		if ValidSlug(slug) != ok {
			t.Errorf("ValidSlug(%q) = %v", slug, !ok)
		}
	}
	for name, want := range map[string]string{"My Project!": "my-project", "  Ops  Team ": "ops-team", "2024": "n2024", "日本": ""} {
		if got := Slugify(name); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", name, got, want)
		}
	}
}
