package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/store/storetest"
)

// tenant is one organization with a team, a project and an owner, for tests.
type tenant struct {
	user    *store.User
	org     *store.Organization
	member  *store.Member
	team    *store.Team
	project *store.Project
	key     *store.ProjectKey
}

func newTenant(t *testing.T, s *store.Store, slug string) *tenant {
	t.Helper()
	ctx := context.Background()
	tn := &tenant{}
	var err error
	if tn.user, err = s.UserCreate(ctx, &store.UserCreateParams{Email: slug + "@example.com", Password: "correct horse"}); err != nil {
		t.Fatal(err)
	}
	if tn.org, err = s.OrganizationCreate(ctx, &store.OrganizationCreateParams{Slug: slug, Name: slug, OwnerID: tn.user.ID}); err != nil {
		t.Fatal(err)
	}
	if _, tn.member, err = s.Membership(ctx, tn.user.ID, slug); err != nil {
		t.Fatal(err)
	}
	if tn.team, err = s.TeamCreate(ctx, tn.org.ID, &store.TeamCreateParams{Slug: "ops", Name: "Ops", MemberID: tn.member.ID}); err != nil {
		t.Fatal(err)
	}
	if tn.project, tn.key, err = s.ProjectCreate(ctx, tn.org.ID, tn.team.ID, &store.ProjectCreateParams{Slug: "web", Name: "Web", Platform: "python"}); err != nil {
		t.Fatal(err)
	}
	return tn
}

func TestStore_Migrate(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.OpenUnmigrated(t, e)
			cur, latest, err := s.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if cur != 0 || latest < 1 {
				t.Fatalf("fresh store: version %d of %d, want 0 of >=1", cur, latest)
			}
			n, err := s.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if int64(n) != latest {
				t.Errorf("applied %d migrations, want %d", n, latest)
			}
			if n, err = s.Migrate(ctx); err != nil || n != 0 {
				t.Errorf("second migrate: applied %d, err %v; want 0, nil", n, err)
			}
			if cur, _, err = s.MigrationStatus(ctx); err != nil || cur != latest {
				t.Errorf("after migrate: version %d, err %v; want %d", cur, err, latest)
			}
		})
	}
}

func TestStore_SetupConcurrent(t *testing.T) {
	t.Parallel()
	for _, e := range storetest.Engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := storetest.DatabaseURL(t, e)
			const procs = 4
			results := make([]*store.Bootstrap, procs)
			errs := make([]error, procs)
			var wg sync.WaitGroup
			for i := range procs {
				s, err := store.Open(ctx, store.Options{DatabaseURL: url})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				wg.Go(func() {
					results[i], errs[i] = s.Setup(ctx, &store.BootstrapParams{AdminEmail: "Root@Example.com"})
				})
			}
			wg.Wait()
			var made *store.Bootstrap
			for i := range procs {
				if errs[i] != nil {
					t.Fatalf("setup %d: %v", i, errs[i])
				}
				if results[i] != nil {
					if made != nil {
						t.Fatal("two processes bootstrapped the same store")
					}
					made = results[i]
				}
			}
			if made == nil {
				t.Fatal("no process bootstrapped the empty store")
			}
			if made.User.Email != "root@example.com" || !made.User.IsSuperuser {
				t.Errorf("superuser = %+v", made.User)
			}
			if len(made.GeneratedPassword) < 16 {
				t.Errorf("generated password %q too short", made.GeneratedPassword)
			}
			if len(made.Key.Public) != 32 || len(made.Key.Secret) != 32 {
				t.Errorf("key shapes: %q %q", made.Key.Public, made.Key.Secret)
			}
			s := storetest.Open(t, store.SQLite) // a second, unrelated store stays empty
			if n, _ := s.UserCount(ctx); n != 0 {
				t.Errorf("unrelated store has %d users", n)
			}
			again, err := store.Open(ctx, store.Options{DatabaseURL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if b, err := again.Setup(ctx, &store.BootstrapParams{}); err != nil || b != nil {
				t.Errorf("second start: bootstrap %v, err %v; want none", b, err)
			}
			if _, err := again.UserAuthenticate(ctx, "root@example.com", made.GeneratedPassword); err != nil {
				t.Errorf("generated password does not sign in: %v", err)
			}
		})
	}
}

func TestStore_TenancyIsolation(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		b := newTenant(t, s, "globex")

		if _, _, err := s.Membership(ctx, a.user.ID, b.org.Slug); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("membership of A in B: %v, want ErrNotFound", err)
		}
		if _, _, err := s.Membership(ctx, a.user.ID, fmt.Sprint(b.org.ID)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("membership of A in B by id: %v, want ErrNotFound", err)
		}
		orgs, err := s.OrganizationListForUser(ctx, a.user.ID, store.Page{Limit: 10})
		if err != nil || len(orgs) != 1 || orgs[0].Slug != "acme" {
			t.Errorf("A's organizations = %v, %v", orgs, err)
		}
		// Every read and change scoped by A's organization misses B's objects.
		if _, err := s.ProjectGet(ctx, a.org.ID, fmt.Sprint(b.project.ID)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A reads B's project: %v", err)
		}
		if _, err := s.ProjectUpdate(ctx, a.org.ID, b.project.ID, &store.ProjectUpdateParams{Name: ptr("pwned")}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A renames B's project: %v", err)
		}
		if err := s.ProjectDelete(ctx, a.org.ID, b.project.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A deletes B's project: %v", err)
		}
		if keys, err := s.KeyList(ctx, a.org.ID, b.project.ID, store.Page{Limit: 10}); err != nil || len(keys) != 0 {
			t.Errorf("A lists B's keys: %v, %v", keys, err)
		}
		if _, err := s.KeyGet(ctx, a.org.ID, b.project.ID, b.key.Public); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A reads B's key: %v", err)
		}
		if _, err := s.KeyCreate(ctx, a.org.ID, b.project.ID, &store.KeyCreateParams{}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A adds a key to B's project: %v", err)
		}
		if _, err := s.KeyUpdate(ctx, a.org.ID, b.project.ID, b.key.Public, &store.KeyUpdateParams{IsActive: ptr(false)}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A disables B's key: %v", err)
		}
		if err := s.KeyDelete(ctx, a.org.ID, b.project.ID, b.key.Public); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A deletes B's key: %v", err)
		}
		if _, _, err := s.ProjectCreate(ctx, a.org.ID, b.team.ID, &store.ProjectCreateParams{Slug: "x", Name: "x"}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("A creates a project in B's team: %v", err)
		}
		if _, err := s.TeamGet(ctx, a.org.ID, a.member.ID, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing team: %v", err)
		}
		// B's objects are untouched.
		p, err := s.ProjectGet(ctx, b.org.ID, "web")
		if err != nil || p.Name != "Web" {
			t.Fatalf("B's project after A's attempts: %+v, %v", p, err)
		}
		if k, err := s.KeyGet(ctx, b.org.ID, b.project.ID, b.key.Public); err != nil || !k.IsActive {
			t.Errorf("B's key after A's attempts: %+v, %v", k, err)
		}
		// The same slug may exist in two organizations.
		if p.Slug != a.project.Slug || p.ID == a.project.ID {
			t.Errorf("projects %+v and %+v", p, a.project)
		}
	})
}

func TestStore_Conflicts(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		const n = 8
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = s.OrganizationCreate(ctx, &store.OrganizationCreateParams{Slug: "race", Name: "Race", OwnerID: a.user.ID})
			})
		}
		wg.Wait()
		var ok, conflicts int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Errorf("create: %v", err)
			}
		}
		if ok != 1 || conflicts != n-1 {
			t.Errorf("%d created, %d conflicts; want 1 and %d", ok, conflicts, n-1)
		}
		if _, err := s.TeamCreate(ctx, a.org.ID, &store.TeamCreateParams{Slug: "ops", Name: "Again"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate team: %v", err)
		}
		if _, _, err := s.ProjectCreate(ctx, a.org.ID, a.team.ID, &store.ProjectCreateParams{Slug: "web", Name: "Again"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate project: %v", err)
		}
		if _, err := s.UserCreate(ctx, &store.UserCreateParams{Email: "ACME@example.com", Password: "12345678"}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate email in other case: %v", err)
		}
		// A failed create leaves nothing behind.
		projects, err := s.ProjectList(ctx, a.org.ID, 0, store.Page{Limit: 10})
		if err != nil || len(projects) != 1 {
			t.Errorf("projects after conflict: %d, %v", len(projects), err)
		}
	})
}

func TestStore_Tokens(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		tok, rec, err := s.TokenCreate(ctx, a.user.ID, &store.TokenCreateParams{Scopes: []string{"project:read", "org:read", "org:read"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 64 || rec.Last4 != tok[60:] {
			t.Errorf("token %q, last4 %q", tok, rec.Last4)
		}
		got, u, err := s.TokenAuthenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != a.user.ID || fmt.Sprint(got.Scopes) != "[org:read project:read]" || got.LastUsed == nil {
			t.Errorf("authenticated %+v as %+v", got, u)
		}
		first := "0" // a first character the token does not have
		if tok[0] == '0' {
			first = "1"
		}
		for _, bad := range []string{"", tok[:63], tok + "0", first + tok[1:]} {
			if _, _, err := s.TokenAuthenticate(ctx, bad); !errors.Is(err, store.ErrBadToken) {
				t.Errorf("token %q: %v, want ErrBadToken", bad, err)
			}
		}
		past := time.Now().Add(-time.Minute)
		expired, _, err := s.TokenCreate(ctx, a.user.ID, &store.TokenCreateParams{Scopes: []string{"org:read"}, ExpiresAt: &past})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.TokenAuthenticate(ctx, expired); !errors.Is(err, store.ErrBadToken) {
			t.Errorf("expired token: %v", err)
		}
		if _, _, err := s.TokenCreate(ctx, a.user.ID, &store.TokenCreateParams{Scopes: []string{"root:all"}}); err == nil {
			t.Error("unknown scope accepted")
		}
	})
}

func TestStore_Users(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u, err := s.UserCreate(ctx, &store.UserCreateParams{Email: " Dev@Example.com ", Password: "s3cret-pass", Name: "Dev"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "dev@example.com" {
			t.Errorf("email stored as %q", u.Email)
		}
		if _, err := s.UserAuthenticate(ctx, "DEV@example.com", "s3cret-pass"); err != nil {
			t.Errorf("sign in: %v", err)
		}
		for _, pw := range []string{"wrong-pass", ""} {
			if _, err := s.UserAuthenticate(ctx, "dev@example.com", pw); !errors.Is(err, store.ErrBadCredentials) {
				t.Errorf("password %q: %v", pw, err)
			}
		}
		if _, err := s.UserAuthenticate(ctx, "nobody@example.com", "s3cret-pass"); !errors.Is(err, store.ErrBadCredentials) {
			t.Errorf("unknown user: %v", err)
		}
		for _, p := range []store.UserCreateParams{
			{Email: "not-an-address", Password: "12345678"},
			{Email: "Name <x@example.com>", Password: "12345678"},
			{Email: "short@example.com", Password: "1234"},
		} {
			if _, err := s.UserCreate(ctx, &p); err == nil {
				t.Errorf("created user %+v", p)
			}
		}
		got, err := s.UserGetByEmail(ctx, "dev@EXAMPLE.com")
		if err != nil || got.ID != u.ID || got.LastLogin == nil {
			t.Errorf("get by email: %+v, %v", got, err)
		}
	})
}

func TestStore_Pagination(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		for i := range 7 {
			if _, err := s.TeamCreate(ctx, a.org.ID, &store.TeamCreateParams{Slug: fmt.Sprintf("t%d", i), Name: "T"}); err != nil {
				t.Fatal(err)
			}
		}
		var seen []string
		for off := 0; ; off += 3 {
			teams, err := s.TeamList(ctx, a.org.ID, a.member.ID, store.Page{Limit: 3, Offset: off})
			if err != nil {
				t.Fatal(err)
			}
			for _, tm := range teams {
				seen = append(seen, tm.Slug)
			}
			if len(teams) < 3 {
				break
			}
		}
		if fmt.Sprint(seen) != "[ops t0 t1 t2 t3 t4 t5 t6]" {
			t.Errorf("pages = %v", seen)
		}
	})
}

func TestStore_ProjectKeys(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "acme")
		k, err := s.KeyCreate(ctx, a.org.ID, a.project.ID, &store.KeyCreateParams{Label: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		k2, err := s.KeyUpdate(ctx, a.org.ID, a.project.ID, k.Public, &store.KeyUpdateParams{
			IsActive: ptr(false), RateLimitCount: ptr(100), RateLimitWindow: ptr(60)})
		if err != nil {
			t.Fatal(err)
		}
		if k2.IsActive || k2.RateLimitCount != 100 || k2.RateLimitWindow != 60 || k2.Label != "ci" || k2.Secret != k.Secret {
			t.Errorf("updated key = %+v", k2)
		}
		keys, err := s.KeyList(ctx, a.org.ID, a.project.ID, store.Page{Limit: 10})
		if err != nil || len(keys) != 2 || keys[0].Public != a.key.Public {
			t.Fatalf("keys = %v, %v", keys, err)
		}
		if err := s.KeyDelete(ctx, a.org.ID, a.project.ID, k.Public); err != nil {
			t.Fatal(err)
		}
		if err := s.KeyDelete(ctx, a.org.ID, a.project.ID, k.Public); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		if err := s.ProjectDelete(ctx, a.org.ID, a.project.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.KeyGet(ctx, a.org.ID, a.project.ID, a.key.Public); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("key of deleted project: %v", err)
		}
	})
}

func TestStore_Processes(t *testing.T) {
	t.Parallel()
	storetest.ForEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		start := time.Now()
		p := &store.Process{ID: "w1", Role: "worker", Hostname: "h", PID: 42, Version: "dev", StartedAt: start}
		for range 2 {
			if err := s.ProcessHeartbeat(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.ProcessList(ctx, start.Add(-time.Minute))
		if err != nil || len(list) != 1 || list[0].Role != "worker" || list[0].PID != 42 {
			t.Fatalf("processes = %v, %v", list, err)
		}
		if list, _ := s.ProcessList(ctx, time.Now().Add(time.Minute)); len(list) != 0 {
			t.Errorf("processes heard from in the future: %v", list)
		}
		if err := s.ProcessPrune(ctx, time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.ProcessList(ctx, start.Add(-time.Minute)); len(list) != 0 {
			t.Errorf("pruned processes still listed: %v", list)
		}
		if err := s.ProcessDelete(ctx, "w1"); err != nil {
			t.Fatal(err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
