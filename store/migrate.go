package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/big"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationTable records which migrations ran.
const migrationTable = "tocsin_schema_version"

func (s *Store) migrator() (*goose.Provider, error) {
	var (
		dialect goose.Dialect
		db      *sql.DB
		dir     string
	)
	switch s.engine {
	case Postgres:
		dialect, db, dir = goose.DialectPostgres, s.poolDB, "migrations/postgres"
	default:
		dialect, db, dir = goose.DialectSQLite3, s.writer, "migrations/sqlite"
	}
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, db, sub,
		goose.WithTableName(migrationTable),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(s.log))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// MigrationStatus reports the applied and the newest known schema versions.
func (s *Store) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	p, err := s.migrator()
	if err != nil {
		return 0, 0, err
	}
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version of %s: %w", s.addr, err)
	}
	return current, latest, nil
}

// Migrate applies the pending migrations under the migration lock and
// returns how many ran. Running it again is harmless.
func (s *Store) Migrate(ctx context.Context) (int, error) {
	var n int
	err := s.withMigrationLock(ctx, func() error {
		var err error
		n, err = s.migrate(ctx)
		return err
	})
	return n, err
}

func (s *Store) migrate(ctx context.Context) (int, error) {
	p, err := s.migrator()
	if err != nil {
		return 0, err
	}
	applied := 0
	for {
		before, err := p.GetDBVersion(ctx)
		if err != nil {
			return applied, fmt.Errorf("read schema version of %s: %w", s.addr, err)
		}
		res, err := p.Up(ctx)
		if pe, ok := errors.AsType[*goose.PartialError](err); ok {
			res = pe.Applied
		}
		for _, r := range res {
			applied++
			s.log.Info("applied migration", "version", r.Source.Version, "duration", r.Duration)
		}
		if err == nil {
			return applied, nil
		}
		// SQLite has no lock held across goose's transactions, so processes
		// starting together on one file may each decide to apply the same
		// migration; the later one fails once the first has committed. When
		// the schema moved on meanwhile, carry on from where it is now; a
		// migration that fails by itself leaves the version where it was.
		if s.engine == SQLite {
			if after, verr := p.GetDBVersion(ctx); verr == nil && after > before {
				continue
			}
		}
		return applied, fmt.Errorf("migrate %s: %w", s.addr, err)
	}
}

// withMigrationLock runs fn while holding the deployment-wide migration
// lock, so that of several processes starting at once exactly one migrates
// and bootstraps. On PostgreSQL it is a session advisory lock keyed by the
// schema. SQLite has no such lock: migrate retries when another process
// migrated first, and bootstrap decides inside its write transaction.
func (s *Store) withMigrationLock(ctx context.Context, fn func() error) error {
	if s.engine != Postgres {
		return fn()
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migration lock on %s: %w", s.addr, err)
	}
	defer conn.Release()
	const key = `hashtext('tocsin.migrate.' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return fmt.Errorf("migration lock on %s: %w", s.addr, err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`); err != nil {
			// Dropping the connection releases a session lock too.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return fn()
}

// BootstrapParams name the first superuser. An empty password is generated.
type BootstrapParams struct {
	AdminEmail    string
	AdminPassword string
}

// Bootstrap is what the first run created.
type Bootstrap struct {
	User *User
	// GeneratedPassword is set when no password was given; it is shown once.
	GeneratedPassword string
	Organization      *Organization
	Team              *Team
	Project           *Project
	Key               *ProjectKey
}

// DefaultAdminEmail is the first superuser's address when none is configured.
const DefaultAdminEmail = "admin@localhost"

// Setup migrates the store and, when it has no users yet, creates the first
// superuser with an organization, a team and a project (with its DSN key),
// all under the migration lock. It returns nil Bootstrap on a store that was
// already set up.
func (s *Store) Setup(ctx context.Context, p *BootstrapParams) (*Bootstrap, error) {
	var b *Bootstrap
	err := s.withMigrationLock(ctx, func() error {
		if _, err := s.migrate(ctx); err != nil {
			return err
		}
		var err error
		b, err = s.bootstrap(ctx, p)
		return err
	})
	return b, err
}

// BootstrapIfEmpty does the first-run bootstrap on a migrated store that has
// no users; nil when there were users already.
func (s *Store) BootstrapIfEmpty(ctx context.Context, p *BootstrapParams) (*Bootstrap, error) {
	var b *Bootstrap
	err := s.withMigrationLock(ctx, func() error {
		var err error
		b, err = s.bootstrap(ctx, p)
		return err
	})
	return b, err
}

func (s *Store) bootstrap(ctx context.Context, p *BootstrapParams) (*Bootstrap, error) {
	email := p.AdminEmail
	if email == "" {
		email = DefaultAdminEmail
	}
	b := &Bootstrap{}
	password := p.AdminPassword
	if password == "" {
		var err error
		if password, err = newPassword(); err != nil {
			return nil, err
		}
		b.GeneratedPassword = password
	}
	err := s.tx(ctx, func(q querier) error {
		var users int
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&users); err != nil {
			return fmt.Errorf("bootstrap: count users: %w", err)
		}
		if users > 0 {
			b = nil
			return nil
		}
		var err error
		if b.User, err = s.userCreate(ctx, q, &UserCreateParams{Email: email, Password: password, IsSuperuser: true}); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if b.Organization, err = s.organizationCreate(ctx, q, &OrganizationCreateParams{
			Slug: "default", Name: "Default", OwnerID: b.User.ID}); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		var memberID int64
		if err := q.queryRow(ctx, `SELECT id FROM members WHERE organization_id = $1 AND user_id = $2`,
			b.Organization.ID, b.User.ID).Scan(&memberID); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if b.Team, err = s.teamCreate(ctx, q, b.Organization.ID, &TeamCreateParams{
			Slug: "default", Name: "Default", MemberID: memberID}); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if b.Project, b.Key, err = s.projectCreate(ctx, q, b.Organization.ID, b.Team.ID, &ProjectCreateParams{
			Slug: "default", Name: "Default", Platform: "other"}); err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// newPassword returns a random 20-character password without look-alike letters.
func newPassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	out := make([]byte, 20)
	for i := range out {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("generate password: %w", err)
		}
		out[i] = alphabet[n.Int64()]
	}
	return string(out), nil
}
