package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"vmlite/cmd/internal/front"
	"vmlite/console"
	"vmlite/internal/errdefs"
)

func init() { register(newConsoleCmd) }

func newConsoleCmd(app *App) *cobra.Command {
	fl := front.DefaultConsoleFlags()
	cmd := &cobra.Command{
		Use:   "console NAME",
		Short: "Attach to a running guest's console",
		Long: `Attach the terminal to a running guest's console: see its output (first the
recent output the guest printed before, up to 128 KiB, then the live stream)
and type to it. Any number of clients can attach to the same console at once;
all see the output and any can type. The guest's window size follows the
terminal.

Press Ctrl-] to detach: the guest and the other clients keep running. When the
guest stops, the client prints "guest NAME stopped" and exits.

Without a terminal (stdin or stdout a pipe or a file) console works for
scripts: the notices go to stderr, so stdout carries only the guest's output.
The end of piped input does not detach, because the output of the last
command arrives after it; use --detach-on-eof (with --linger), the escape
character in the input, or a signal (timeout(1)) to end the session.

A client too slow for the guest's output loses what does not fit its 256 KiB
queue (it sees "[vmlite: N bytes of console output dropped ...]"), so that
it never slows the guest. --lossless turns that around for scripts that must
see every byte: the guest's console waits for this client (its writes block,
and every client and the log get the output late but complete), and a
lossless client that reads nothing for 30 seconds is disconnected, exit 1.

Exit status: 0 after a detach or when the guest stopped, 1 when the console
socket is gone or the connection breaks, 2 for an unknown or stopped guest.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.runConsole(args[0], fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.Devname, "devname", fl.Devname, "the console to attach to: console0 is /dev/console, consoleN is the guest's /dev/ttyN")
	f.StringVar(&fl.Escape, "escape", fl.Escape, "the detach key: ^X (caret notation), one character, or none")
	f.BoolVar(&fl.DetachOnEOF, "detach-on-eof", false, "detach when piped input ends")
	f.DurationVar(&fl.Linger, "linger", 0, "with --detach-on-eof, wait until the guest has been silent for this long before detaching")
	f.BoolVar(&fl.Lossless, "lossless", false, fmt.Sprintf("never drop output this client is too slow for: hold the guest's console back instead (exit 1 if it stops reading for %v)", console.DefaultLosslessStall))
	return cmd
}

// attachConsole attaches to console dev of a running guest with the default
// options (vmlite start --console).
func (a *App) attachConsole(name, dev string) error {
	fl := front.DefaultConsoleFlags()
	fl.Devname = dev
	return a.runConsole(name, fl)
}

// runConsole is `vmlite console` when the front (cmd/internal/front) left
// it here: the guest's console socket did not answer, so the service says
// why, or a flag is wrong; and `vmlite start --console`.
func (a *App) runConsole(name string, fl front.ConsoleFlags) error {
	opts, err := fl.Options(name, a.Stderr)
	if err != nil {
		return err
	}
	sock, err := a.consoleSocket(name, fl.Devname)
	if err != nil {
		return err
	}
	return front.ConsoleResult(name, fl.Devname, console.Attach(context.Background(), sock, a.Stdin, a.Stdout, opts))
}

// consoleSocket finds the socket of console dev of the running guest name.
func (a *App) consoleSocket(name, dev string) (string, error) {
	g, err := a.Svc().Running(a.ctx(), name)
	if err != nil {
		return "", err
	}
	// The plan lists the guest's consoles; name the existing ones when dev
	// is not among them. Without a readable plan, the socket decides.
	if g.Plan != nil && len(g.Plan.Consoles) > 0 {
		var names []string
		for _, c := range g.Plan.Consoles {
			if c.Name == dev {
				return a.Layout.ConsoleSocket(name, dev), nil
			}
			names = append(names, c.Name)
		}
		return "", fmt.Errorf("guest %q has no console %s (it has %s): %w", name, dev, strings.Join(names, ", "), errdefs.ErrNotFound)
	}
	return a.Layout.ConsoleSocket(name, dev), nil
}

// anyExists reports whether any of paths exists.
func anyExists(paths ...string) bool {
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			return true
		}
	}
	return false
}
