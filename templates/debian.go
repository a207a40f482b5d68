package templates

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"vmlite/internal/errdefs"
	"vmlite/internal/lazyre"
	"vmlite/state"
)

// Defaults of the Debian template.
const (
	// DefaultSuite is the Debian release debootstrap installs.
	DefaultSuite = "bookworm"
	// DebianMemoryKiB is the default memory limit of a Debian guest (512 MiB).
	DebianMemoryKiB = 512 << 10
	// debootstrapPath is where Debian's debootstrap package installs it.
	debootstrapPath = "/usr/sbin/debootstrap"
)

// DebianPackages are always installed (--include adds to them): systemd as
// init, D-Bus for systemctl and logind, iproute2 for `ip`.
var DebianPackages = []string{"systemd", "systemd-sysv", "dbus", "iproute2"}

// DebianOptions configure BuildDebian.
type DebianOptions struct {
	Suite   string   // Debian release; "" = DefaultSuite
	Include []string // packages beyond DebianPackages
	// Mirror is the Debian archive URL; "" = the host's, read from its APT sources.
	Mirror string
	// RootPassword is written to /etc/shadow as a SHA-512 crypt hash made
	// by vmlite (never by the tree's own chpasswd). Empty: root is locked (no console
	// login; `vmlite exec` still works), unless NoRootPassword.
	RootPassword string
	// NoRootPassword leaves root's password empty: anyone on the console is
	// root. Insecure; for throw-away test guests.
	NoRootPassword bool
	// DHCP makes eth0 ask for a DHCP lease instead of keeping what vmlite set.
	DHCP bool
	// CacheDir keeps pristine debootstrap trees, one per suite, architecture
	// and package list, so that the next build is a copy.
	CacheDir string
	// RefreshCache runs debootstrap again even when the cache has the tree.
	RefreshCache bool
	// Force builds into a directory that is not empty.
	Force bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

var (
	suiteRE   = lazyre.New(`^[a-z][a-z0-9.-]{0,63}$`)
	packageRE = lazyre.New(`^[a-z0-9][a-z0-9+.-]{1,127}$`) // Debian policy 5.6.1
)

// debianPackages returns the sorted, de-duplicated package list, or a user
// error naming a package that is not a valid Debian package name.
func debianPackages(include []string) ([]string, error) {
	pkgs := slices.Clone(DebianPackages)
	for _, p := range include {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !packageRE.MatchString(p) {
			return nil, fmt.Errorf("package %q is not a Debian package name: %w", p, errdefs.ErrInvalid)
		}
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	return slices.Compact(pkgs), nil
}

// CacheKey names the cached debootstrap tree of suite, arch and pkgs:
// debian-SUITE-ARCH-HASH, HASH covering the package list.
func CacheKey(suite, arch string, pkgs []string) string {
	h := sha256.Sum256([]byte(strings.Join(pkgs, ",")))
	return fmt.Sprintf("debian-%s-%s-%s", suite, arch, hex.EncodeToString(h[:])[:12])
}

// debianArch is the Debian architecture name of the running binary.
func debianArch() string {
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	case "mips64le":
		return "mips64el"
	default: // amd64, arm64, riscv64, s390x, loong64 share the name
		return runtime.GOARCH
	}
}

// BuildDebian builds a Debian root filesystem with systemd in dir: a
// pristine debootstrap tree from the cache (made on a miss), copied and
// then configured for a vmlite guest (ConfigureDebian).
func BuildDebian(ctx context.Context, dir string, o DebianOptions) (err error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	if o.Suite == "" {
		o.Suite = DefaultSuite
	}
	if !suiteRE.MatchString(o.Suite) {
		return fmt.Errorf("suite %q is not a Debian release name: %w", o.Suite, errdefs.ErrInvalid)
	}
	if o.RootPassword != "" && o.NoRootPassword {
		return fmt.Errorf("a root password and no root password: choose one: %w", errdefs.ErrInvalid)
	}
	if strings.ContainsAny(o.RootPassword, "\n\x00") {
		return fmt.Errorf("the root password must be one line: %w", errdefs.ErrInvalid)
	}
	if o.CacheDir == "" {
		return fmt.Errorf("no cache directory given: %w", errdefs.ErrInvalid)
	}
	pkgs, err := debianPackages(o.Include)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("the debian template needs root (debootstrap, chroot): %w", errdefs.ErrInvalid)
	}
	created, err := prepareDir(dir, o.Force)
	if err != nil {
		return err
	}
	defer removeIfFailed(dir, created, &err)
	tree, err := debianCache(ctx, o, pkgs, log)
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(log, "template debian: copying %s to %s\n", tree, dir)
	// cp -a keeps owners, modes, hard links, device nodes and xattrs; reflinks
	// make it nearly free where the filesystem has them.
	if err := runLogged(ctx, log, "cp: ", "cp", "-a", "--reflink=auto", tree+"/.", dir+"/"); err != nil {
		return fmt.Errorf("copy the cached tree: %w", err)
	}
	fmt.Fprintf(log, "template debian: copied in %.1fs\n", time.Since(start).Seconds())
	if err := ConfigureDebian(dir, DebianConfig{DHCP: o.DHCP}); err != nil {
		return err
	}
	if err := setRootLogin(ctx, dir, o.RootPassword, o.NoRootPassword); err != nil {
		return err
	}
	switch {
	case o.RootPassword != "":
		fmt.Fprintf(log, "template debian: root password set\n")
	case o.NoRootPassword:
		fmt.Fprintf(log, "template debian: root has NO password: anyone on the console is root\n")
	default:
		fmt.Fprintf(log, "template debian: root is locked (no console login): use --root-password, or vmlite exec\n")
	}
	return nil
}

// debianCache returns the cached pristine tree for o and pkgs, running
// debootstrap into the cache first when it is missing (or RefreshCache).
// Concurrent builds of one key wait for each other on a lock file.
func debianCache(ctx context.Context, o DebianOptions, pkgs []string, log io.Writer) (string, error) {
	if err := os.MkdirAll(o.CacheDir, 0o700); err != nil {
		return "", fmt.Errorf("create cache %s: %w", o.CacheDir, err)
	}
	key := CacheKey(o.Suite, debianArch(), pkgs)
	tree := filepath.Join(o.CacheDir, key)
	lock, err := lockWait(ctx, tree+".lock", func() {
		fmt.Fprintf(log, "template debian: waiting for another vmlite building %s\n", tree)
	})
	if err != nil {
		return "", err
	}
	defer lock.Close()

	if _, err := os.Stat(filepath.Join(tree, "etc/os-release")); err == nil && !o.RefreshCache {
		fmt.Fprintf(log, "template debian: using the cached tree %s\n", tree)
		return tree, nil
	}
	if err := ensureCommand(ctx, debootstrapPath, "debootstrap", log); err != nil {
		return "", err
	}
	mirror := o.Mirror
	if mirror == "" {
		if mirror, err = HostMirror("/", o.Suite); err != nil {
			return "", err
		}
	}
	tmp := tree + ".tmp"
	if err := removeTree(tmp); err != nil { // a crashed earlier build
		return "", err
	}
	fmt.Fprintf(log, "template debian: debootstrap %s from %s (%s), a few minutes; cached in %s\n",
		o.Suite, mirror, strings.Join(pkgs, ","), tree)
	start := time.Now()
	if err := debootstrap(ctx, tmp, tree+".log", o.Suite, mirror, pkgs, log); err != nil {
		if rerr := removeTree(tmp); rerr != nil {
			return "", errors.Join(err, rerr)
		}
		return "", err
	}
	if err := removeTree(tree); err != nil { // the old tree, with RefreshCache
		return "", err
	}
	if err := os.Rename(tmp, tree); err != nil {
		return "", fmt.Errorf("cache debootstrap tree: %w", err)
	}
	fmt.Fprintf(log, "template debian: debootstrap done in %.0fs\n", time.Since(start).Seconds())
	return tree, nil
}

// debootstrap runs debootstrap into target, its full log in logFile and its
// progress (the --debian-installer protocol on fd 3) as lines on log.
func debootstrap(ctx context.Context, target, logFile, suite, mirror string, pkgs []string, log io.Writer) error {
	lf, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("debootstrap log: %w", err)
	}
	defer lf.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("debootstrap progress pipe: %w", err)
	}
	defer pr.Close()
	cmd := exec.CommandContext(ctx, debootstrapPath, "--debian-installer", "--variant=minbase",
		"--arch="+debianArch(), "--include="+strings.Join(pkgs, ","), suite, target, mirror)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.ExtraFiles = []*os.File{pw} // fd 3
	// On cancel, SIGTERM lets debootstrap's exit trap unmount what it
	// mounted in the target; removeTree handles a debootstrap that cannot.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		pw.Close()
		return fmt.Errorf("run debootstrap: %w", err)
	}
	pw.Close()
	var lastErr string
	rep := &progressReporter{w: log, prefix: "template debian: "}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var p DIParser
		forEachLine(pr, func(line string) {
			if ev, ok := p.Feed(line); ok {
				if ev.Kind == 'E' {
					lastErr = ev.Text
				}
				rep.event(ev)
			}
		})
	}()
	werr := cmd.Wait()
	<-done
	if werr != nil {
		if lastErr != "" {
			return fmt.Errorf("debootstrap: %s: %w (full log: %s)", lastErr, werr, logFile)
		}
		return fmt.Errorf("debootstrap: %w (full log: %s)", werr, logFile)
	}
	return nil
}

// lockWait takes the lock file at path, polling while another process holds
// it (waiting is called once, the first time) until ctx ends.
func lockWait(ctx context.Context, path string, waiting func()) (*os.File, error) {
	told := false
	for {
		f, err := state.TryLock(path)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, state.ErrLocked) {
			return nil, err
		}
		if !told {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %s: %w", path, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
