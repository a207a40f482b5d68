// Package cli is vmlite's command-line interface: one file per command, each
// a constructor returning a *cobra.Command that closes over the shared *App.
//
// Exit status: 0 ok, 2 user error (bad XML, unknown guest, bad flags),
// 1 anything else. Commands return errors; only Run prints them.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"vmlite/internal/errdefs"
	"vmlite/service"
	"vmlite/state"
)

// Exit statuses.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUser  = 2
)

// App is what every command shares: the state layout and the output streams.
type App struct {
	Root   string // --root / VMLITE_ROOT; "" = system paths
	Layout state.Layout
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// svc does every operation on guests and networks (see Svc).
	svc *service.Service
	// exitCode lets a command (exec) pass through a status of its own.
	exitCode *int
}

// SetExitCode makes Run return code instead of the default status for a nil error.
func (a *App) SetExitCode(code int) { a.exitCode = &code }

// commands holds every user-facing command's constructor. Each command's file
// registers itself (register(newXCmd) from an init func), so that adding a
// command touches only its own file; cobra sorts them for help.
var commands []func(*App) *cobra.Command

func register(c func(*App) *cobra.Command) { commands = append(commands, c) }

// NewRoot builds the command tree for app.
func NewRoot(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "vmlite",
		Short: "Run system containers described by libvirt LXC domain XML",
		Long: `vmlite runs system containers: guests that boot a real init as PID 1, with their
own hostname, addresses, limits and UID mapping, described by libvirt LXC
domain XML (<domain type='lxc'>).

Definitions live under /var/lib/vmlite, logs under /var/log/vmlite and
runtime state under /run/vmlite; --root DIR or VMLITE_ROOT moves all of it
under DIR (DIR/lib, DIR/log, DIR/run).

Exit status: 0 ok, 2 user error (bad XML, unknown guest, bad flags), 1 other errors.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("root") {
				if env := os.Getenv("VMLITE_ROOT"); env != "" {
					app.Root = env
				}
			}
			app.Layout = state.NewLayout(app.Root)
			return nil
		},
	}
	root.PersistentFlags().StringVar(&app.Root, "root", "", "keep all state under `DIR` (default: system paths; env VMLITE_ROOT)")
	root.SetIn(app.Stdin)
	root.SetOut(app.Stdout)
	root.SetErr(app.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %w", errdefs.ErrInvalid, err)
	})
	for _, c := range commands {
		root.AddCommand(c(app))
	}
	return root
}

// Run runs the CLI with args (without the program name) and returns the exit status.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := &App{Stdin: stdin, Stdout: stdout, Stderr: stderr}
	root := NewRoot(app)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		if app.exitCode != nil {
			return *app.exitCode
		}
		return ExitOK
	}
	fmt.Fprintf(stderr, "vmlite: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errdefs.IsUserError(err) || isCobraUsageError(err) {
		return ExitUser
	}
	return ExitError
}

// Svc is the service on a's layout, which does every operation on guests
// and networks.
func (a *App) Svc() *service.Service {
	if a.svc == nil || a.svc.Layout() != a.Layout {
		a.svc = service.New(service.Options{Layout: a.Layout})
	}
	return a.svc
}

// ctx is the context of the service calls: the CLI has no deadline of its
// own (a stop is bounded by its --timeout).
func (a *App) ctx() context.Context { return context.Background() }

// exitError carries an exit status chosen by a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// isCobraUsageError recognises cobra's own argument errors (unknown command,
// wrong argument count), which it does not type.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// userErrorf returns an invalid-argument error (exit status 2).
func userErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errdefs.ErrInvalid, fmt.Sprintf(format, args...))
}
