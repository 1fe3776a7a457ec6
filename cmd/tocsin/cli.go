package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // the command line or the configuration is wrong
)

// usageError marks an error as bad usage (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// cli holds what every command shares: its streams, the environment and
// the root command's flags.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	root   *cobra.Command
	// ran is set once a command's own code starts; errors before that come
	// from parsing the command line.
	ran bool
}

// run executes one command line and returns the process exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	c.root = c.rootCommand()
	c.root.SetArgs(args)
	err := c.root.ExecuteContext(context.Background())
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "tocsin: "+oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) || !c.ran {
		return exitUsage
	}
	return exitFailure
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "tocsin",
		Short: "Tocsin: a self-hosted error tracker and alert hub that speaks Sentry's protocol",
		Long: `Tocsin takes errors from the official Sentry SDKs, groups them into issues,
evaluates alert rules and pushes notifications to Slack, GitHub, Trello,
email and webhooks.

Start it with the embedded store:  tocsin run
Settings come from flags, then TOCSIN_* environment variables, then the
config file (tocsin init writes one), then defaults.`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetIn(c.stdin)
	root.SetVersionTemplate("tocsin {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.CompletionOptions.DisableDefaultCmd = true
	registerFlags(root.PersistentFlags())
	root.AddCommand(c.runCommand(), c.initCommand(), c.upgradeCommand(), c.createUserCommand(),
		c.tokenCommand(), c.checkCommand(), c.benchCommand())
	return root
}

// noArgs rejects positional arguments as bad usage.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q (see %s --help)", cmd.CommandPath(), args[0], cmd.CommandPath())
	}
	return nil
}

// action wraps a command's code: it marks the start of the command proper
// and loads the configuration.
func (c *cli) action(fn func(ctx context.Context, cfg Config, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c.ran = true
		cfg, err := loadConfig(c.root.PersistentFlags(), c.getenv)
		if err != nil {
			return &usageError{err}
		}
		return fn(cmd.Context(), cfg, args)
	}
}

// isTerminal reports whether r is an interactive terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
