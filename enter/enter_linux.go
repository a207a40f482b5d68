package enter

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"vmlite/internal/caps"
)

// Main is the __exec role: it never returns on success (exec).
func Main() int {
	var c Config
	if err := json.Unmarshal([]byte(os.Getenv(envConfig)), &c); err != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: bad helper configuration: %v\n", err)
		return 125
	}
	if err := run(&c); err != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: %v\n", err)
		return 125
	}
	return 0 // not reached
}

func run(c *Config) error {
	pid := strconv.Itoa(os.Getpid())
	for _, f := range c.CgroupProcs {
		if err := os.WriteFile(f, []byte(pid), 0); err != nil {
			return fmt.Errorf("join the guest's cgroup: %w", err)
		}
	}
	// nsenter needs CAP_SYS_ADMIN and CAP_SYS_CHROOT to enter (setns and
	// its chroot), which an unmapped guest may lack; so the bounding set is
	// narrowed in two steps: here everything but those two, and inside the
	// guest, by our own second stage (InsideRole), the rest. The second
	// stage is this binary, exec'd through an inherited fd, so nothing of
	// the guest's runs before the drop.
	for _, name := range c.Drop {
		n, ok := caps.ByName(name)
		if !ok || nsenterNeeds[caps.Canonical(name)] {
			continue
		}
		err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0)
		if err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop %s: %w", name, err)
		}
	}
	// No O_CLOEXEC: nsenter and its child inherit it, and the child execs
	// it by /proc/self/fd/N, which resolves in the guest's /proc to this
	// very file on the host. Only a static binary can run there (the
	// guest has no loader of ours); a dynamic build (CGO_ENABLED=1) falls
	// back to nsenter running the command itself, with the capabilities
	// nsenter needs left in the bounding set.
	c.SelfFD = -1
	if static() {
		self, err := unix.Open("/proc/self/exe", unix.O_RDONLY, 0)
		if err != nil {
			return fmt.Errorf("open own binary: %w", err)
		}
		c.SelfFD = self
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	env := append(append([]string(nil), c.Env...), envConfig+"="+string(b))
	return unix.Exec(c.Nsenter, Args(c), env)
}

// nsenterNeeds are the capabilities nsenter must hold to enter a guest
// without a user namespace; the second stage drops them inside.
var nsenterNeeds = map[string]bool{"CAP_SYS_ADMIN": true, "CAP_SYS_CHROOT": true}

// Args is the nsenter command line for c: it enters as root and runs the
// second stage, which switches to the command's user after dropping
// capabilities (a setuid binary then cannot regain them).
func Args(c *Config) []string {
	a := []string{"nsenter", "--target", strconv.Itoa(c.InitPID),
		"--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--root", "--wd"}
	if c.UserNS {
		a = append(a, "--user")
	}
	if c.SelfFD < 0 {
		a = append(a, "--setuid", strconv.Itoa(c.UID), "--setgid", strconv.Itoa(c.GID), "--")
		return append(a, c.Argv...)
	}
	a = append(a, "--setuid", "0", "--setgid", "0", "--")
	return append(a, fmt.Sprintf("/proc/self/fd/%d", c.SelfFD), InsideRole)
}

// static reports whether this binary has no ELF interpreter.
func static() bool {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// MainInside is the second stage, running in the guest: it drops the
// guest's capabilities from the bounding set, takes the command's ids and
// execs the command. It returns only on failure (126: not executable,
// 127: not found, as shells do).
func MainInside() int {
	var c Config
	if err := json.Unmarshal([]byte(os.Getenv(envConfig)), &c); err != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: bad helper configuration: %v\n", err)
		return 125
	}
	unix.Close(c.SelfFD)
	// Not dumpable while it still holds what the guest may not: the guest's
	// processes cannot ptrace it in that window.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	for _, name := range c.Drop {
		if n, ok := caps.ByName(name); ok {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
				fmt.Fprintf(os.Stderr, "vmlite exec: drop %s: %v\n", name, err)
				return 125
			}
		}
	}
	if err := unix.Setgroups([]int{c.GID}); err != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: setgroups: %v\n", err)
		return 125
	}
	if err := unix.Setresgid(c.GID, c.GID, c.GID); err != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: setgid %d: %v\n", c.GID, err)
		return 125
	}
	if err := unix.Setresuid(c.UID, c.UID, c.UID); err != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: setuid %d: %v\n", c.UID, err)
		return 125
	}
	if len(c.Argv) == 0 {
		fmt.Fprintln(os.Stderr, "vmlite exec: no command")
		return 125
	}
	for _, e := range c.Env {
		if k, v, ok := strings.Cut(e, "="); ok && k == "PATH" {
			os.Setenv("PATH", v)
		}
	}
	path, err := exec.LookPath(c.Argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmlite exec: %s: not found in the guest\n", c.Argv[0])
		return 127
	}
	err = unix.Exec(path, c.Argv, c.Env)
	fmt.Fprintf(os.Stderr, "vmlite exec: %s: %v\n", path, err)
	if errors.Is(err, unix.ENOENT) {
		return 127
	}
	return 126
}

// Command builds the helper process for c; the caller sets its stdio.
func Command(c *Config) (*exec.Cmd, error) {
	if c.Nsenter == "" {
		p, err := exec.LookPath("nsenter")
		if err != nil {
			return nil, fmt.Errorf("vmlite exec needs nsenter (util-linux): %w", err)
		}
		c.Nsenter = p
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"vmlite", Role},
		Env:  append(os.Environ(), envConfig+"="+string(b)),
	}, nil
}
