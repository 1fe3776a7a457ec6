package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// Overrides are kept per organization, project and integration; the most
// specific one applies, and another organization's scope is refused.
func TestStore_Templates(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, b := newTenant(t, s, "acme"), newTenant(t, s, "globex")
		in, err := s.IntegrationCreate(ctx, &store.Integration{OrganizationID: a.org.ID, Provider: "email", Name: "Mail",
			Config: `{}`}, func(int64) ([]byte, error) { return nil, nil })
		if err != nil {
			t.Fatal(err)
		}
		put := func(project, integration *int64, body string) {
			t.Helper()
			if _, err := s.TemplatePut(ctx, &store.MessageTemplate{OrganizationID: a.org.ID, ProjectID: project,
				IntegrationID: integration, Name: "email/notification.txt", Body: body}); err != nil {
				t.Fatal(err)
			}
		}
		put(nil, nil, "org")
		put(&a.project.ID, nil, "project")
		put(nil, nil, "org again") // replaces
		for _, tc := range []struct {
			project, integration *int64
			want                 string
		}{
			{nil, nil, "org again"},
			{&a.project.ID, nil, "project"},
			{&a.project.ID, &in.ID, "project"},
		} {
			got, err := s.TemplatesFor(ctx, a.org.ID, tc.project, tc.integration)
			if err != nil {
				t.Fatal(err)
			}
			if got["email/notification.txt"] != tc.want {
				t.Errorf("for project %v integration %v: %q, want %q", tc.project, tc.integration, got["email/notification.txt"], tc.want)
			}
		}
		put(nil, &in.ID, "integration")
		if got, _ := s.TemplatesFor(ctx, a.org.ID, &a.project.ID, &in.ID); got["email/notification.txt"] != "integration" {
			t.Errorf("the integration's override does not win: %v", got)
		}
		if list, _ := s.TemplateList(ctx, a.org.ID); len(list) != 3 {
			t.Errorf("%d overrides listed, want 3", len(list))
		}
		if err := s.TemplateDelete(ctx, a.org.ID, nil, &in.ID, "email/notification.txt"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TemplateGet(ctx, a.org.ID, nil, &in.ID, "email/notification.txt"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after delete: %v, want not found", err)
		}
		// Another organization's project or integration.
		if _, err := s.TemplatePut(ctx, &store.MessageTemplate{OrganizationID: b.org.ID, ProjectID: &a.project.ID,
			Name: "email/notification.txt", Body: "x"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organization's project: %v, want not found", err)
		}
		if _, err := s.TemplatePut(ctx, &store.MessageTemplate{OrganizationID: b.org.ID, IntegrationID: &in.ID,
			Name: "email/notification.txt", Body: "x"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another organization's integration: %v, want not found", err)
		}
	})
}
