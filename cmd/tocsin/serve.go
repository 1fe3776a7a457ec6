package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/delivery"
	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/integrations/providers"
	"github.com/tocsin/tocsin/rules"
	"github.com/tocsin/tocsin/server"
	apiserver "github.com/tocsin/tocsin/server/api"
	"github.com/tocsin/tocsin/store"
	"github.com/tocsin/tocsin/summaries"
	"github.com/tocsin/tocsin/worker"
)

// shutdownTimeout bounds how long in-flight requests may take to finish
// after SIGINT or SIGTERM.
const shutdownTimeout = 30 * time.Second

func (c *cli) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run [web|worker]",
		Short: "Run Tocsin: web, worker and scheduler in one process, or one role",
		Long: `Run Tocsin.

  tocsin run          web + worker + scheduler in one process (the default shape)
  tocsin run web      the HTTP side only (scaled shape, with PostgreSQL)
  tocsin run worker   the background side only; serves /_health/ and /metrics

On an empty store it applies the migrations and creates the first superuser
(TOCSIN_ADMIN_EMAIL / TOCSIN_ADMIN_PASSWORD, or a generated password printed
once) with an organization, a team and a project, then prints the project's DSN.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || (len(args) == 1 && args[0] != "web" && args[0] != "worker") {
				return usagef("run: want no role, \"web\" or \"worker\", got %q", strings.Join(args, " "))
			}
			return nil
		},
		RunE: c.action(func(ctx context.Context, cfg Config, args []string) error {
			role := server.RoleAll
			if len(args) == 1 {
				role = server.Role(args[0])
			}
			return c.serve(ctx, cfg, role)
		}),
	}
}

// serve runs one process until SIGINT or SIGTERM, then stops accepting,
// lets in-flight requests finish and closes the store.
func (c *cli) serve(ctx context.Context, cfg Config, role server.Role) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := newLogger(cfg, c.stderr).With("role", string(role))
	tuneGC()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st, err := openStore(ctx, cfg, log, reg)
	if err != nil {
		return err
	}
	defer st.Close()

	key, generated, err := secretKey(cfg)
	if err != nil {
		return err
	}
	if generated {
		log.Info("generated a secret key; processes of one deployment must share it (TOCSIN_SECRET_KEY or a shared data dir)",
			"file", filepath.Join(cfg.DataDir, secretKeyFile))
	}

	boot, err := st.Setup(ctx, &store.BootstrapParams{AdminEmail: cfg.AdminEmail, AdminPassword: cfg.AdminPassword})
	if err != nil {
		return err
	}

	box, err := integrations.NewSecretBox(key)
	if err != nil {
		return err
	}
	provs, mail, err := providerSet(cfg, key)
	if err != nil {
		return err
	}
	scfg := server.Config{Addr: cfg.Addr, BaseURL: cfg.BaseURL, Role: role, Version: version,
		Integrations: &apiserver.Integrations{Providers: provs, Box: box}}
	// A process that ingests and evaluates rules hands activities over in
	// memory; the outbox still holds them until they are handled.
	var local *worker.Local
	if role == server.RoleAll {
		local = worker.NewLocal(worker.DefaultLocalCapacity)
		scfg.Handoff = local
	}
	srv, err := server.New(scfg, st, reg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	engine, err := rules.NewEngine(st, log, reg, nil)
	if err != nil {
		return err
	}
	deliveries, err := delivery.New(delivery.Config{BaseURL: cfg.BaseURL, Email: mail}, st, box, provs, log, reg)
	if err != nil {
		return err
	}
	wk, err := worker.New(worker.Config{Role: string(role), Version: version,
		EventRetentionDays: cfg.EventRetentionDays,
		Local:              local,
		Handlers:           []worker.ActivityHandler{engine, delivery.NewStatusSync(st)},
		Periodic: []worker.Periodic{
			{Name: "rules sweep", Interval: time.Minute, Run: engine.Sweep},
			{Name: "deliveries", Interval: time.Second, Run: deliveries.Run},
			{Name: "summaries", Interval: 15 * time.Second, Run: summaries.NewRunner(st, log, nil).Run},
		},
	}, st, log, reg)
	if err != nil {
		return err
	}
	if err := wk.Start(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		_ = srv.Stop(stopCtx)
		return err
	}
	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer cancel()
			_ = srv.Stop(stopCtx)
			wk.Stop(stopCtx)
			return err
		}
		defer stopDebug()
	}
	c.banner(cfg, role, srv.Addr().String(), st, boot)
	log.Info("started", "addr", srv.Addr().String(), "store", st.Addr(), "version", version)

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: finishing in-flight requests", "timeout", shutdownTimeout)
	case serveErr = <-srv.Done():
		log.Error("http server failed", "err", serveErr)
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Stop(stopCtx); err != nil {
		log.Warn("stop", "err", err)
	}
	wk.Stop(stopCtx)
	log.Info("stopped")
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}

// banner tells a person at the terminal where Tocsin is, and after the first
// run what was created: the sign-in and the project's DSN. It is written in
// one write, so that a script reading the output never sees half of it.
func (c *cli) banner(cfg Config, role server.Role, listen string, st *store.Store, boot *store.Bootstrap) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	var b strings.Builder
	switch role {
	case server.RoleWorker:
		fmt.Fprintf(&b, "Tocsin worker running; health and metrics at %s/_health/ (store: %s)\n", "http://"+listen, st.Addr())
	default:
		fmt.Fprintf(&b, "Tocsin is running at %s/ (store: %s)\n", base, st.Addr())
	}
	if boot != nil {
		fmt.Fprintf(&b, "\nFirst run: created organization %q, team %q and project %q.\n",
			boot.Organization.Slug, boot.Team.Slug, boot.Project.Slug)
		fmt.Fprintf(&b, "  DSN:      %s\n", boot.Key.DSN(base))
		fmt.Fprintf(&b, "  Sign in:  %s\n", boot.User.Email)
		if boot.GeneratedPassword != "" {
			fmt.Fprintf(&b, "  Password: %s   (generated; shown only this once)\n", boot.GeneratedPassword)
		}
		b.WriteString("\n")
	}
	_, _ = io.WriteString(c.stdout, b.String())
}

// providerSet builds the integration providers of this deployment and the
// built-in email notifier (nil when TOCSIN_SMTP_URL is not set).
func providerSet(cfg Config, secretKey string) (map[string]*integrations.Provider, integrations.Notifier, error) {
	o := providers.Options{SlackAPIURL: cfg.SlackAPIURL, GitHubAPIURL: cfg.GitHubAPIURL, TrelloAPIURL: cfg.TrelloAPIURL,
		AllowPrivateWebhooks: cfg.AllowPrivateWebhooks, MailFrom: cfg.MailFrom,
		InstallationUUID: installationUUID(secretKey)}
	var mail integrations.Notifier
	if cfg.SMTPURL != "" {
		s, err := email.ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return nil, nil, fmt.Errorf("smtp: %w", err)
		}
		o.SMTP = &s
		if mail, err = providers.Email(o); err != nil {
			return nil, nil, err
		}
	}
	return providers.New(o), mail, nil
}

// installationUUID names this deployment in outgoing webhooks, stable
// across restarts and processes because it derives from the secret key.
func installationUUID(secretKey string) string {
	sum := sha256.Sum256([]byte("tocsin installation " + secretKey))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// gcPercent is the garbage collector's target when GOGC is not set. Ingest
// allocates a decoded event per request and keeps little: at Go's default
// of 100 the collector took a tenth of the CPU under load; at 200 it takes
// half that, for a peak heap of tens of megabytes more.
const gcPercent = 200

// tuneGC sets gcPercent unless the operator chose a GOGC.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
