package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/integrations"
	"github.com/tocsin/tocsin/integrations/email"
	"github.com/tocsin/tocsin/store"
)

func (c *cli) checkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check the configuration, the store, SMTP and each integration",
		Long: `Check that Tocsin can run as configured: the settings parse, the store
answers and is migrated, the SMTP server accepts a connection (when
configured) and each integration is reachable. Prints one line per check;
exits 1 when any fails.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.ran = true
			if failed := c.check(cmd.Context()); failed > 0 {
				return fmt.Errorf("check: %d of the checks failed", failed)
			}
			return nil
		},
	}
}

// check runs every check, printing a line each, and returns the failures.
func (c *cli) check(ctx context.Context) int {
	failed := 0
	report := func(name string, err error, okDetail string) {
		switch {
		case err != nil:
			failed++
			fmt.Fprintf(c.stdout, "FAIL  %-13s %s\n", name, oneLine(err.Error()))
		default:
			fmt.Fprintf(c.stdout, "ok    %-13s %s\n", name, okDetail)
		}
	}
	skip := func(name, why string) { fmt.Fprintf(c.stdout, "skip  %-13s %s\n", name, why) }

	cfg, err := loadConfig(c.root.PersistentFlags(), c.getenv)
	if err != nil {
		report("config", err, "")
		return failed
	}
	source := "defaults and environment"
	if cfg.ConfigFile != "" {
		source = cfg.ConfigFile
	}
	report("config", nil, source)

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := openStore(ctx, cfg, newLogger(cfg, io.Discard), nil)
	storeOK := false
	if err != nil {
		report("store", err, "")
	} else {
		defer st.Close()
		cur, latest, err := st.MigrationStatus(ctx)
		switch {
		case err != nil:
			report("store", err, "")
		case cur < latest:
			report("store", fmt.Errorf("%s is at schema version %d of %d: run tocsin upgrade", st.Addr(), cur, latest), "")
		default:
			report("store", nil, fmt.Sprintf("%s, schema version %d", st.Addr(), cur))
			storeOK = true
		}
	}

	if cfg.SMTPURL == "" {
		skip("smtp", "TOCSIN_SMTP_URL not set; email notifications are off")
	} else if srv, err := email.ParseSMTPURL(cfg.SMTPURL); err != nil {
		report("smtp", err, "")
	} else {
		report("smtp", srv.Check(ctx), srv.String())
	}

	if !storeOK {
		skip("integrations", "the store is not usable")
		return failed
	}
	c.checkIntegrations(ctx, cfg, st, report, skip)
	return failed
}

// checkIntegrations asks each integration's service whether its
// credentials work (Slack auth.test, GitHub's repository, Trello's
// member), reporting a line each.
func (c *cli) checkIntegrations(ctx context.Context, cfg Config, st *store.Store,
	report func(string, error, string), skip func(string, string)) {
	key, _, err := secretKey(cfg)
	if err != nil {
		report("integrations", err, "")
		return
	}
	box, err := integrations.NewSecretBox(key)
	if err != nil {
		report("integrations", err, "")
		return
	}
	provs, _, err := providerSet(cfg, key)
	if err != nil {
		report("integrations", err, "")
		return
	}
	names := make([]string, 0, len(provs))
	for n := range provs {
		names = append(names, n)
	}
	sort.Strings(names)
	seen := 0
	for _, name := range names {
		p := provs[name]
		ins, err := st.IntegrationsByProvider(ctx, name)
		if err != nil {
			report("integrations", err, "")
			return
		}
		for _, in := range ins {
			seen++
			label := fmt.Sprintf("%s %d", name, in.ID)
			detail := fmt.Sprintf("%q (organization %d)", in.Name, in.OrganizationID)
			n, err := buildNotifier(p, box, in)
			if err == nil && p.Check != nil {
				cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
				err = p.Check(cctx, n)
				cancel()
			}
			if err == nil && p.Check == nil {
				detail += ", settings valid; this provider cannot be checked without sending"
			}
			report(label, err, detail)
		}
	}
	if seen == 0 {
		skip("integrations", "none configured")
	}
}

// buildNotifier opens an integration's secrets and builds its notifier.
func buildNotifier(p *integrations.Provider, box *integrations.SecretBox, in *store.Integration) (integrations.Notifier, error) {
	config, secrets := map[string]any{}, map[string]any{}
	if err := json.Unmarshal([]byte(in.Config), &config); err != nil {
		return nil, fmt.Errorf("settings do not read: %w", err)
	}
	if len(in.Secrets) > 0 {
		plain, err := box.Open(in.Secrets, in.ID)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(plain, &secrets); err != nil {
			return nil, fmt.Errorf("secrets do not read: %w", err)
		}
	}
	if p.Validate != nil {
		if err := p.Validate(config, secrets); err != nil {
			return nil, err
		}
	}
	return p.Build(config, secrets)
}
