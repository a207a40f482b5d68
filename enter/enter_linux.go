package enter

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"

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
	// The main goroutine is locked to the main thread (initsys's init), the
	// thread that execs: the bounding set we narrow here is what nsenter
	// and the command inherit.
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
	return unix.Exec(c.Nsenter, Args(c), c.Env)
}

// nsenterNeeds are the capabilities nsenter must hold to enter a guest
// without a user namespace (setns(2) and its chroot need them in the host's
// user namespace). They stay in the bounding set even when the guest lacks
// them (caps.UnmappedDrop takes CAP_SYS_ADMIN from guests without <idmap>),
// so the command run there holds them too: without a trusted exec after
// setns (nsenter only execs by path, and every path then is the guest's),
// they cannot be shed in between. docs/security.md says so: exec into an
// untrusted unmapped guest runs the guest's binaries with them.
var nsenterNeeds = map[string]bool{"CAP_SYS_ADMIN": true, "CAP_SYS_CHROOT": true}

// Args is the nsenter command line for c.
func Args(c *Config) []string {
	a := []string{"nsenter", "--target", strconv.Itoa(c.InitPID),
		"--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--root", "--wd"}
	if c.UserNS {
		a = append(a, "--user")
	}
	a = append(a, "--setuid", strconv.Itoa(c.UID), "--setgid", strconv.Itoa(c.GID), "--")
	return append(a, c.Argv...)
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
