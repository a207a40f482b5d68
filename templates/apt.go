package templates

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"vmlite/internal/errdefs"
)

// ensureCommand returns nil when path exists. Otherwise it installs pkg with
// apt-get when running as root, and returns an error saying what to install
// when not.
func ensureCommand(ctx context.Context, path, pkg string, log io.Writer) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s is missing: install the Debian package %s (apt-get install %s) or run vmlite as root to have it installed: %w",
			path, pkg, pkg, errdefs.ErrNotFound)
	}
	fmt.Fprintf(log, "installing %s with apt-get (%s is missing)\n", pkg, path)
	install := []string{"install", "-y", "-q", "--no-install-recommends", pkg}
	if err := runLogged(ctx, log, "apt-get: ", "apt-get", install...); err != nil {
		// The package lists may be missing or stale (a fresh machine).
		if uerr := runLogged(ctx, log, "apt-get: ", "apt-get", "update", "-q"); uerr != nil {
			return fmt.Errorf("install %s: apt-get update: %w", pkg, uerr)
		}
		if err := runLogged(ctx, log, "apt-get: ", "apt-get", install...); err != nil {
			return fmt.Errorf("install %s: %w", pkg, err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("installed %s but %s is still missing: %w", pkg, path, err)
	}
	return nil
}

// runLogged runs name with args, copying each line of its output to log
// with prefix. The error names the command and its last output line.
func runLogged(ctx context.Context, log io.Writer, prefix, name string, args ...string) error {
	return runLines(ctx, name, args, nil, func(line string) { fmt.Fprintf(log, "%s%s\n", prefix, line) })
}

// runLines runs name with args (extra environment env added), calling each
// for every line of its combined output.
func runLines(ctx context.Context, name string, args, env []string, each func(string)) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	cmd.Env = append(cmd.Env, env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", name, err)
	}
	done := make(chan string)
	go func() {
		last := ""
		forEachLine(pr, func(line string) {
			if line != "" {
				last = line
			}
			each(line)
		})
		done <- last
	}()
	err := cmd.Wait()
	pw.Close()
	last := <-done
	if err != nil {
		if last != "" {
			return fmt.Errorf("%s %s: %w (last output: %s)", name, strings.Join(args, " "), err, last)
		}
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// forEachLine calls each for every line read from r (without the line end),
// draining r to EOF even past an over-long line, so a child writing to the
// other end never blocks.
func forEachLine(r io.Reader, each func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		each(strings.TrimRight(sc.Text(), "\r"))
	}
	_, _ = io.Copy(io.Discard, r)
}
