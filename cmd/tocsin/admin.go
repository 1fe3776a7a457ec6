package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tocsin/tocsin/store"
)

func (c *cli) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Write a commented config file with a fresh secret key",
		Long: `Write DIR/tocsin.toml (DIR defaults to the current directory): every setting
with a comment, and a freshly generated secret key. It never overwrites a file.
Use it with: tocsin --config DIR/tocsin.toml run`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("init: want at most one directory, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c.ran = true
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			path, err := writeConfigFile(dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Wrote %s. Start Tocsin with:\n  tocsin --config %s run\n", path, path)
			return nil
		},
	}
}

func (c *cli) upgradeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upgrade [--noinput]",
		Short: "Apply the store's migrations (safe to repeat)",
		Long: `Apply pending migrations to the configured store. Running it again does
nothing. On an interactive terminal with an empty store it offers to create
the first superuser (with an organization, a team and a project); --noinput
never asks.`,
		Args: noArgs,
	}
	noInput := cmd.Flags().Bool("noinput", false, "never prompt")
	cmd.RunE = c.action(func(ctx context.Context, cfg Config, _ []string) error {
		st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard), nil)
		if err != nil {
			return err
		}
		defer st.Close()
		n, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		cur, _, err := st.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Applied %d migrations; %s is at schema version %d.\n", n, st.Addr(), cur)
		if *noInput || !isTerminal(c.stdin) {
			return nil
		}
		users, err := st.UserCount(ctx)
		if err != nil || users > 0 {
			return err
		}
		in := bufio.NewReader(c.stdin)
		if ans := c.prompt(in, "The store has no users. Create a superuser now? [Y/n] "); ans != "" && !strings.HasPrefix(strings.ToLower(ans), "y") {
			return nil
		}
		email := c.prompt(in, "Email ["+store.DefaultAdminEmail+"]: ")
		if email == "" {
			email = store.DefaultAdminEmail
		}
		password, err := c.readNewPassword()
		if err != nil {
			return err
		}
		boot, err := st.BootstrapIfEmpty(ctx, &store.BootstrapParams{AdminEmail: email, AdminPassword: password})
		if err != nil {
			return err
		}
		if boot != nil {
			fmt.Fprintf(c.stdout, "Created superuser %s with organization %q and project %q.\nDSN: %s\n",
				boot.User.Email, boot.Organization.Slug, boot.Project.Slug, boot.Key.DSN(cfg.BaseURL))
		}
		return nil
	})
	return cmd
}

func (c *cli) prompt(in *bufio.Reader, question string) string {
	fmt.Fprint(c.stdout, question)
	line, _ := in.ReadString('\n')
	return strings.TrimSpace(line)
}

// readNewPassword asks for a password twice without echoing it.
func (c *cli) readNewPassword() (string, error) {
	f, ok := c.stdin.(*os.File)
	if !ok {
		return "", errors.New("password: stdin is not a terminal")
	}
	for range 3 {
		fmt.Fprint(c.stdout, "Password: ")
		pw, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if err := store.ValidatePassword(string(pw)); err != nil {
			fmt.Fprintln(c.stdout, err)
			continue
		}
		fmt.Fprint(c.stdout, "Password (again): ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(pw) != string(again) {
			fmt.Fprintln(c.stdout, "The passwords differ.")
			continue
		}
		return string(pw), nil
	}
	return "", errors.New("no password given")
}

func (c *cli) createUserCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "createuser --email E --password P [--superuser] [--org SLUG --role ROLE]",
		Short: "Create a user, optionally as a member of an organization",
		Args:  noArgs,
	}
	email := cmd.Flags().String("email", "", "the user's email address (required)")
	password := cmd.Flags().String("password", "", "the password; prompted for on a terminal when left out")
	superuser := cmd.Flags().Bool("superuser", false, "make the user a superuser")
	org := cmd.Flags().String("org", "", "add the user to this organization (slug)")
	role := cmd.Flags().String("role", string(store.RoleMember), "role in --org: member, admin, manager or owner")
	cmd.RunE = c.action(func(ctx context.Context, cfg Config, _ []string) error {
		if *email == "" {
			return usagef("createuser: --email is required")
		}
		if _, err := store.NormalizeEmail(*email); err != nil {
			return usagef("createuser: --email: %v", err)
		}
		if !store.Role(*role).Valid() {
			return usagef("createuser: --role %q: want member, admin, manager or owner", *role)
		}
		pw := *password
		if pw == "" {
			if !isTerminal(c.stdin) {
				return usagef("createuser: --password is required when stdin is not a terminal")
			}
			var err error
			if pw, err = c.readNewPassword(); err != nil {
				return err
			}
		}
		if err := store.ValidatePassword(pw); err != nil {
			return usagef("createuser: --password: %v", err)
		}
		st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard), nil)
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := st.Migrate(ctx); err != nil {
			return err
		}
		u, err := st.UserCreate(ctx, &store.UserCreateParams{Email: *email, Password: pw, IsSuperuser: *superuser})
		if err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("createuser: a user with email %s already exists", *email)
			}
			return fmt.Errorf("createuser: %w", err)
		}
		kind := "user"
		if u.IsSuperuser {
			kind = "superuser"
		}
		fmt.Fprintf(c.stdout, "Created %s %s.\n", kind, u.Email)
		if *org != "" {
			o, err := st.OrganizationGetBySlug(ctx, *org)
			if err != nil {
				return fmt.Errorf("createuser: organization %s: %w", *org, err)
			}
			if _, err := st.MemberCreate(ctx, o.ID, u.ID, store.Role(*role)); err != nil {
				return fmt.Errorf("createuser: add to %s: %w", *org, err)
			}
			fmt.Fprintf(c.stdout, "Added %s to organization %s as %s.\n", u.Email, o.Slug, *role)
		}
		return nil
	})
	return cmd
}

func (c *cli) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	create := &cobra.Command{
		Use:   "create --user E [--scope S]...",
		Short: "Create an API token and print it alone on stdout",
		Long: `Create an API token for a user and print it alone on stdout, for scripts:

  export SENTRY_AUTH_TOKEN=$(tocsin token create --user admin@localhost)

--scope takes Sentry's scope names (org:read, project:write, event:admin, …)
and may repeat or hold a comma-separated list. Without it the token gets
every scope the user's role allows. A token never does more than its user's
role in an organization allows, whatever its scopes.`,
		Args: noArgs,
	}
	user := create.Flags().String("user", "", "the user's email address (required)")
	scopes := create.Flags().StringSlice("scope", nil, "a scope to grant (repeatable)")
	name := create.Flags().String("name", "", "a name to tell the token apart")
	create.RunE = c.action(func(ctx context.Context, cfg Config, _ []string) error {
		if *user == "" {
			return usagef("token create: --user is required")
		}
		if len(*scopes) > 0 {
			if _, err := store.ValidateScopes(*scopes); err != nil {
				return usagef("token create: --scope: %v", err)
			}
		}
		st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard), nil)
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := st.Migrate(ctx); err != nil {
			return err
		}
		u, err := st.UserGetByEmail(ctx, *user)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("token create: no user with email %s", *user)
			}
			return err
		}
		grant := *scopes
		if len(grant) == 0 {
			if grant, err = defaultScopes(ctx, st, u); err != nil {
				return err
			}
		}
		tok, _, err := st.TokenCreate(ctx, u.ID, &store.TokenCreateParams{Name: *name, Scopes: grant})
		if err != nil {
			return fmt.Errorf("token create: %w", err)
		}
		fmt.Fprintln(c.stdout, tok)
		return nil
	})
	cmd.AddCommand(create)
	return cmd
}

// defaultScopes are what the user's strongest role allows; all scopes for a
// superuser; a member's for a user in no organization yet.
func defaultScopes(ctx context.Context, st *store.Store, u *store.User) ([]string, error) {
	if u.IsSuperuser {
		return store.AllScopes, nil
	}
	role, err := st.MaxRole(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if role == "" {
		role = store.RoleMember
	}
	return role.Scopes(), nil
}
