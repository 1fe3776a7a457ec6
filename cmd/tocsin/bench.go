package main

import (
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tocsin/tocsin/bench"
)

func (c *cli) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a running Tocsin under load",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(c.benchIngestCommand())
	return cmd
}

func (c *cli) benchIngestCommand() *cobra.Command {
	cfg := bench.Config{}
	cmd := &cobra.Command{
		Use:   "ingest --dsn DSN [-c 32] [-n 20000] [--rate 0] [--groups 300] [--duration 0]",
		Short: "Send realistic error events to a DSN and report events/s and latency",
		Long: `Send realistic error events to a DSN's envelope endpoint and report throughput
and latency: about 10 KB Python exceptions (20-frame stack traces with
context and vars, 30 breadcrumbs, request data, tags, user, release) as gzip
envelopes, each with a unique event id, spread over --groups issues.

Without --rate, -c workers send as fast as the server answers (closed loop):
the figure to read is events/s. With --rate, sends are scheduled at fixed
intervals (open loop) and latency counts from the scheduled time, so queueing
behind a slow server shows in the percentiles instead of being hidden.

The run ends after -n events or --duration, whichever comes first; with
--duration alone, -n is not applied. Exits 1 when any request failed or got an
answer other than 2xx or 429 (429s are counted as rate-limited).

  tocsin bench ingest --dsn http://KEY@127.0.0.1:9000/1 -c 32 -n 20000
  tocsin bench ingest --dsn http://KEY@127.0.0.1:9000/1 --rate 500 --duration 60s`,
		Args:                  noArgs,
		DisableFlagsInUseLine: true,
	}
	fs := cmd.Flags()
	fs.StringVar(&cfg.DSN, "dsn", "", "the project's DSN (required)")
	fs.IntVarP(&cfg.Concurrency, "concurrency", "c", 32, "concurrent workers (and kept connections)")
	fs.IntVarP(&cfg.Events, "events", "n", 20000, "events to send")
	fs.Float64Var(&cfg.Rate, "rate", 0, "events per second, scheduled at fixed intervals; 0 sends as fast as possible")
	fs.IntVar(&cfg.Groups, "groups", 300, "distinct issues the events make")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this long (e.g. 60s); 0 means no limit")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if cfg.DSN == "" {
			return usagef("bench ingest: --dsn is required")
		}
		if cfg.Duration > 0 && !fs.Changed("events") {
			cfg.Events = 0
		}
		c.ran = true
		ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
		defer stop()
		res, err := bench.Run(ctx, cfg)
		if err != nil {
			return &usageError{err}
		}
		res.Print(c.stdout)
		if n := res.Failed(); n > 0 {
			return fmt.Errorf("bench ingest: %d of %d requests failed", n, res.Sent)
		}
		return nil
	}
	return cmd
}
