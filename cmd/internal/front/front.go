// Package front serves the commands whose speed a user or a script feels
// on every call (stop, shutdown, destroy, console, and start from a file
// into a running shared supervisor) without vmlite's service layer: while
// the guest runs, a control request or a console attach is all the first
// four do, and a start is its plan (start.go). It is what the front
// binary (cmd/vmlite-front, installed as `vmlite`) runs before anything
// else; that binary links none
// of vmlite's heavy packages (the image store and registry client, FUSE,
// TLS and SSH, nftables, BPF, netlink, the supervisor, cobra), whose package
// initialisers every command of the full binary pays, and execs the full
// binary (vmlite-core, cmd/vmlite) for everything else. The full binary
// runs Run first too, so that both behave alike.
//
// Run takes a command line only in forms it parses exactly as the full
// CLI does, and hands back (handled false, nothing done or printed) every
// other one: another command, --help, a flag it does not know, a value
// that does not parse, a guest whose supervisor does not answer (not
// running, orphaned, not defined) or refuses the request, a start that
// is not the common case (start.go). The full CLI then gives the answer
// it always gave.
package front

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"vmlite/console"
	"vmlite/internal/errdefs"
	"vmlite/state"
	"vmlite/supervisor/ctl"
)

// commandFlags are the flags of the commands Run serves, each with
// whether it takes a value (a bool flag does not).
var commandFlags = map[string]map[string]bool{
	"stop":     {"timeout": true},
	"shutdown": {"timeout": true}, // stop's alias (virsh shutdown)
	"destroy":  {},
	"console":  {"devname": true, "escape": true, "linger": true, "detach-on-eof": false, "lossless": false},
	"start":    {"console": false},
	"create":   {"console": false}, // start's alias (virsh create FILE)
}

// cmdline is a parsed command line of one of those commands.
type cmdline struct {
	root    string // --root
	rootSet bool
	cmd     string
	name    string
	flags   map[string]string // the command's flags given, last wins
}

// parse reads args as cobra and pflag would for the commands above: long
// flags only (--f v, --f=v; bool flags take no separate value), --root
// before or after the command, the command's flags after it, exactly one
// argument. ok false for anything else.
func parse(args []string) (c cmdline, ok bool) {
	c.flags = map[string]string{}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-" || !strings.HasPrefix(a, "-") {
			pos = append(pos, a)
			continue
		}
		if a == "--" || !strings.HasPrefix(a, "--") {
			return c, false // the end of flags, or a shorthand (-h)
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		takesValue, known := false, false
		if name == "root" {
			takesValue, known = true, true
		} else if len(pos) > 0 {
			takesValue, known = commandFlags[pos[0]][name]
		}
		if !known {
			return c, false
		}
		switch {
		case !takesValue && !hasVal:
			val = "true"
		case !takesValue:
			if _, err := strconv.ParseBool(val); err != nil {
				return c, false
			}
		case !hasVal:
			if i+1 == len(args) {
				return c, false
			}
			i++
			val = args[i]
		}
		if name == "root" {
			c.root, c.rootSet = val, true
		} else {
			c.flags[name] = val
		}
	}
	if len(pos) != 2 {
		return c, false
	}
	if _, ok := commandFlags[pos[0]]; !ok {
		return c, false
	}
	c.cmd, c.name = pos[0], pos[1]
	return c, true
}

// layout is the state layout of c: --root, else VMLITE_ROOT.
func (c cmdline) layout() state.Layout {
	root := c.root
	if !c.rootSet {
		root = os.Getenv("VMLITE_ROOT")
	}
	return state.NewLayout(root)
}

// Run serves args (the command line without the program name) if it can;
// handled false means that nothing was done and the full CLI is to run
// the same arguments.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int, handled bool) {
	c, ok := parse(args)
	if !ok {
		return 0, false
	}
	switch c.cmd {
	case "console":
		return runConsole(c, stdin, stdout, stderr)
	case "start", "create":
		return runStart(c, stdout, stderr)
	}
	if !plainName(c.name) {
		return 0, false
	}
	return runStop(c, stdout, stderr)
}

// plainName: a name that can be a guest's (the service refuses the rest,
// with its own message).
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

func runStop(c cmdline, stdout, stderr io.Writer) (int, bool) {
	req := ctl.Request{Op: ctl.OpStop}
	if c.cmd == "destroy" {
		req.Op = ctl.OpDestroy
	}
	if v, ok := c.flags["timeout"]; ok {
		d, err := ParseSeconds(v)
		if err != nil {
			return 0, false
		}
		req.Timeout = d
	}
	start := time.Now()
	resp, err := ctl.Stop(c.layout().ControlSocket(c.name), req, ctl.CallWait(req))
	switch {
	case errors.Is(err, ctl.ErrNoSupervisor), err != nil && resp != nil:
		// No supervisor answers (the full CLI cleans up an orphan or
		// says why the guest is not running), or it refused: nothing
		// was done either way.
		return 0, false
	case err != nil:
		fmt.Fprintf(stderr, "vmlite: %v\n", err)
		return 1, true
	}
	if req.Op == ctl.OpDestroy {
		fmt.Fprintln(stdout, Destroyed(c.name))
	} else {
		fmt.Fprintln(stdout, Stopped(c.name, resp.Forced, time.Since(start)))
	}
	return 0, true
}

// Stopped is what `vmlite stop` prints for a guest its supervisor shut
// down (forced: killed after the stop timeout).
func Stopped(name string, forced bool, took time.Duration) string {
	how := "shut down"
	if forced {
		how = "killed after its stop timeout"
	}
	return fmt.Sprintf("Guest %s %s (%v)", name, how, took.Round(time.Millisecond))
}

// Destroyed is what `vmlite destroy` prints for a running guest.
func Destroyed(name string) string { return fmt.Sprintf("Guest %s destroyed", name) }

// ParseSeconds reads a duration flag given in seconds, as virsh users type
// it (--timeout 30), or as a Go duration (30s, 2m).
func ParseSeconds(v string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if !(n >= 0 && n <= 1e9) { // also NaN
			return 0, fmt.Errorf("%q: seconds must be between 0 and 1e9", v)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: not a duration: use seconds (30) or a Go duration (30s, 2m)", v)
	}
	return d, nil
}

// ConsoleFlags are the options of `vmlite console`.
type ConsoleFlags struct {
	Devname     string
	Escape      string
	DetachOnEOF bool
	Linger      time.Duration
	Lossless    bool
}

// DefaultConsoleFlags are the flags' defaults.
func DefaultConsoleFlags() ConsoleFlags { return ConsoleFlags{Devname: "console0", Escape: "^]"} }

// Options checks fl and returns the attach options for guest name.
func (fl ConsoleFlags) Options(name string, stderr io.Writer) (console.AttachOptions, error) {
	esc, escOn, err := console.ParseEscape(fl.Escape)
	if err != nil {
		return console.AttachOptions{}, fmt.Errorf("%w: --escape: %w", errdefs.ErrInvalid, err)
	}
	if fl.Linger < 0 {
		return console.AttachOptions{}, fmt.Errorf("%w: --linger must not be negative", errdefs.ErrInvalid)
	}
	if !ConsoleName(fl.Devname) {
		return console.AttachOptions{}, fmt.Errorf("%w: --devname %q: want consoleN (console0, console1 and so on)", errdefs.ErrInvalid, fl.Devname)
	}
	return console.AttachOptions{
		Name:        name,
		Device:      fl.Devname,
		Escape:      esc,
		NoEscape:    !escOn,
		DetachOnEOF: fl.DetachOnEOF,
		Linger:      fl.Linger,
		Stderr:      stderr,
		Lossless:    fl.Lossless,
	}, nil
}

// ConsoleName reports whether dev names a console: consoleN.
func ConsoleName(dev string) bool {
	n, ok := strings.CutPrefix(dev, "console")
	if !ok || n == "" {
		return false
	}
	for _, r := range n {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ConsoleResult is what an attach's end means to the CLI: nil after a
// detach or when the guest stopped (its message is out), else the error
// to report.
func ConsoleResult(name, dev string, err error) error {
	switch {
	case err == nil, errors.Is(err, console.ErrGuestStopped):
		return nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("console %s of guest %q: the socket is gone (did the guest just stop?): %w", dev, name, err)
	}
	return fmt.Errorf("console %s of guest %q: %w", dev, name, err)
}

func runConsole(c cmdline, stdin io.Reader, stdout, stderr io.Writer) (int, bool) {
	fl := DefaultConsoleFlags()
	for k, v := range c.flags {
		var err error
		switch k {
		case "devname":
			fl.Devname = v
		case "escape":
			fl.Escape = v
		case "linger":
			fl.Linger, err = time.ParseDuration(v)
		case "detach-on-eof":
			fl.DetachOnEOF, err = strconv.ParseBool(v)
		case "lossless":
			fl.Lossless, err = strconv.ParseBool(v)
		}
		if err != nil {
			return 0, false
		}
	}
	opts, err := fl.Options(c.name, stderr)
	if err != nil {
		return 0, false
	}
	err = console.Attach(context.Background(), c.layout().ConsoleSocket(c.name, fl.Devname), stdin, stdout, opts)
	if errors.Is(err, console.ErrConnect) {
		// Nobody listens: the full CLI says why (not running, no such
		// console, an orphan). Nothing has been read or printed yet.
		return 0, false
	}
	if err := ConsoleResult(c.name, fl.Devname, err); err != nil {
		fmt.Fprintf(stderr, "vmlite: %v\n", err)
		return 1, true
	}
	return 0, true
}
