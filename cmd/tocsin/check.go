package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/integrations/email"
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
		}
	}

	if cfg.SMTPURL == "" {
		skip("smtp", "TOCSIN_SMTP_URL not set; email notifications are off")
	} else if srv, err := email.ParseSMTPURL(cfg.SMTPURL); err != nil {
		report("smtp", err, "")
	} else {
		report("smtp", srv.Check(ctx), srv.String())
	}

	skip("integrations", "none configured")
	return failed
}
