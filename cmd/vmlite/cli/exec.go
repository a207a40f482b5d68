package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/creack/pty"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"vmlite/cgroup"
	"vmlite/enter"
	"vmlite/internal/errdefs"
	"vmlite/plan"
)

func init() { register(newExecCmd) }

func newExecCmd(app *App) *cobra.Command {
	var user string
	var tty, noTTY bool
	cmd := &cobra.Command{
		Use:   "exec NAME [--user U] [-t|-T] -- CMD [ARG...]",
		Short: "Run a command inside a running guest; its exit status is vmlite's",
		Long: `Run CMD inside a running guest: in all its namespaces (the user namespace
too), its cgroup and its root, with the guest's capability bounding set.
With a terminal on stdin the command gets a pty of its own (-T: never, -t:
always); otherwise it runs on vmlite's own stdin/stdout/stderr. The exit
status is the command's (128+N when a signal N ended it).`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return userErrorf("usage: vmlite exec NAME [--user U] -- CMD [ARG...]")
			}
			mode := ttyAuto
			if tty {
				mode = ttyOn
			}
			if noTTY {
				mode = ttyOff
			}
			code, err := app.execIn(args[0], args[1:], user, mode)
			if err != nil {
				return err
			}
			app.SetExitCode(code)
			return nil
		},
	}
	cmd.Flags().StringVarP(&user, "user", "u", "", "run as this guest user (name, uid, or user:group)")
	cmd.Flags().BoolVarP(&tty, "tty", "t", false, "always allocate a pty")
	cmd.Flags().BoolVarP(&noTTY, "no-tty", "T", false, "never allocate a pty")
	return cmd
}

type ttyMode int

const (
	ttyAuto ttyMode = iota
	ttyOn
	ttyOff
)

// execIn runs argv in the guest and returns its exit status.
func (a *App) execIn(name string, argv []string, user string, mode ttyMode) (int, error) {
	g, err := a.Svc().Running(a.ctx(), name)
	if err != nil {
		return 0, err
	}
	if g.Plan == nil || g.State == nil || g.State.InitPID <= 0 {
		return 0, fmt.Errorf("guest %q is still starting: %w", name, errdefs.ErrNotRunning)
	}
	p := g.Plan
	termEnv := os.Getenv("TERM")
	if termEnv == "" {
		termEnv = "linux"
	}
	in, isFile := a.Stdin.(*os.File)
	usePty := mode == ttyOn || (mode == ttyAuto && isFile && term.IsTerminal(int(in.Fd())))
	cfg := &enter.Config{
		InitPID:   g.State.InitPID,
		InitStart: g.State.InitStart,
		UserNS:    p.IDMap.Enabled(),
		User:      user,
		Env: []string{"PATH=" + plan.DefaultPath, "TERM=" + termEnv,
			"HOME=/root", "container=vmlite"},
		Argv:        argv,
		Drop:        p.Capabilities.Drop,
		CgroupProcs: cgroupProcsFiles(p),
		TTY:         usePty,
	}
	// The helper and the second stage report set-up errors on this pipe;
	// the command's exec closes it.
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer statusR.Close()
	cmd, err := enter.Command(cfg, statusW)
	if err != nil {
		statusW.Close()
		return 0, err
	}
	statusMsg := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(statusR, 64<<10))
		statusMsg <- string(b)
	}()
	var code int
	if usePty {
		code, err = runWithPty(cmd, p, in, a.Stdout)
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = a.Stdin, a.Stdout, a.Stderr
		code, err = runForwarding(cmd)
	}
	statusW.Close()
	if err != nil {
		return 0, err
	}
	if msg := strings.TrimSpace(<-statusMsg); msg != "" {
		if m, ok := strings.CutPrefix(msg, "user: "); ok {
			return 0, userErrorf("exec in %s: %s", name, m)
		}
		return 0, fmt.Errorf("exec in %s: %s", name, strings.TrimPrefix(msg, "error: "))
	}
	return code, nil
}

// runForwarding runs cmd, passing SIGINT/SIGTERM/SIGHUP on, and returns its
// exit status.
func runForwarding(cmd *exec.Cmd) (int, error) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start exec helper: %w", err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	return exitCode(cmd, err)
}

func exitCode(cmd *exec.Cmd, err error) (int, error) {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 0, err
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return cmd.ProcessState.ExitCode(), nil
}

// runWithPty gives the command a pty of its own and relays the user's
// terminal to it in raw mode.
func runWithPty(cmd *exec.Cmd, p *plan.Plan, in *os.File, out io.Writer) (int, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return 0, fmt.Errorf("allocate pty: %w", err)
	}
	defer master.Close()
	uid, gid := p.IDMap.HostRoot()
	_ = slave.Chown(int(uid), int(gid))
	if in != nil && term.IsTerminal(int(in.Fd())) {
		_ = pty.InheritSize(in, master)
		old, err := term.MakeRaw(int(in.Fd()))
		if err == nil {
			defer func() { _ = term.Restore(int(in.Fd()), old) }()
		}
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				_ = pty.InheritSize(in, master)
			}
		}()
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		return 0, fmt.Errorf("start exec helper: %w", err)
	}
	slave.Close()
	if in != nil {
		go func() { _, _ = io.Copy(master, in) }()
	}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, master) // ends with EIO once the command and its children closed the pty
		close(copied)
	}()
	err = cmd.Wait()
	<-copied
	return exitCode(cmd, err)
}

// cgroupProcsFiles lists the cgroup.procs files of the guest's cgroup in
// every hierarchy: the command runs under the guest's limits, and stop and
// destroy find it there.
func cgroupProcsFiles(p *plan.Plan) []string {
	m, err := cgroup.Open(p.Cgroup)
	if err != nil {
		return nil
	}
	var out []string
	for _, dir := range m.Paths() {
		out = append(out, filepath.Join(dir, "cgroup.procs"))
	}
	sort.Strings(out)
	return out
}
