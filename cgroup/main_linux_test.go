package cgroup

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a small helper process instead of
// running tests (runc's integration tests use the same re-exec trick).
const helperEnv = "VMLITE_CGROUP_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "alloc":
		helperAlloc()
	case "mountguest":
		helperMountGuest()
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// waitRelease blocks until the parent has moved us into the cgroup and
// writes a line.
func waitRelease() {
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(3)
	}
}

// helperAlloc allocates and touches 200 MiB; in a 64 MiB cgroup the kernel
// kills it before it can say "survived".
func helperAlloc() {
	waitRelease()
	b := make([]byte, 200<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	fmt.Println("survived", len(b))
	os.Exit(0)
}

// guestReport is what the mountguest helper saw from inside.
type guestReport struct {
	Error      string            `json:"error,omitempty"`
	Cgroup     string            `json:"cgroup"`     // /proc/thread-self/cgroup
	Entries    map[string]string `json:"entries"`    // name -> "dir" or "link:TARGET"
	Mounts     map[string]string `json:"mounts"`     // relative mount point -> "fstype ro|rw"
	Limit      string            `json:"limit"`      // the guest's memory limit as the guest reads it
	SeesSelf   bool              `json:"seesSelf"`   // its pid is in the root's cgroup.procs
	LimitWrite string            `json:"limitWrite"` // the error raising its own memory limit gave
	Writable   map[string]string `json:"writable"`   // dir -> "" or the mkdir error
	UserNS     bool              `json:"userns"`
}

// helperMountGuest runs MountGuest the way the guest's init side will: in
// its own mount namespace (Cloneflags), then, on one locked thread, in a
// new cgroup namespace entered after the parent moved it into its cgroup.
func helperMountGuest() {
	runtime.LockOSThread()
	rep := guestReport{Entries: map[string]string{}, Mounts: map[string]string{}, Writable: map[string]string{}}
	defer func() {
		_ = json.NewEncoder(os.Stdout).Encode(rep)
		os.Exit(0)
	}()
	fail := func(err error) { rep.Error = err.Error() }
	mode, err := ParseMode(os.Args[1])
	if err != nil {
		fail(err)
		return
	}
	target := os.Args[2]
	waitRelease()
	// Nothing we mount may reach the host's mount namespace.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		fail(fmt.Errorf("make / private: %w", err))
		return
	}
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		fail(fmt.Errorf("unshare cgroup ns: %w", err))
		return
	}
	skeleton := -1
	var pre map[string]int
	if len(os.Args) > 3 && strings.Contains(os.Args[3], "premount") && mode == V1 {
		// As a pre-forked init stage makes them while it waits.
		if pre, err = PremountV1(); err != nil {
			fail(err)
			return
		}
		defer ClosePremounts(pre)
	}
	if len(os.Args) > 3 && strings.HasPrefix(os.Args[3], "skeleton") {
		// As the supervisor makes it, before the guest's namespaces.
		if skeleton, err = SkeletonFS(); err != nil {
			fail(err)
			return
		}
	}
	// As __init does: the hierarchies from its mode's detection.
	var host []Mount
	if mode == V1 {
		if _, host, err = DetectMounts(); err != nil {
			fail(err)
			return
		}
	}
	if err := MountGuest(mode, host, target, skeleton, pre); err != nil {
		fail(err)
		return
	}
	rep.UserNS, _ = inUserNS()
	b, _ := os.ReadFile("/proc/thread-self/cgroup")
	rep.Cgroup = string(b)
	ents, _ := os.ReadDir(target)
	for _, e := range ents {
		if e.Type()&os.ModeSymlink != 0 {
			l, _ := os.Readlink(filepath.Join(target, e.Name()))
			rep.Entries[e.Name()] = "link:" + l
		} else {
			rep.Entries[e.Name()] = "dir"
		}
	}
	mi, _ := os.ReadFile("/proc/thread-self/mountinfo")
	ms, _ := ParseMountInfo(string(mi))
	for _, m := range ms {
		if rel, err := filepath.Rel(target, m.MountPoint); err == nil && !strings.HasPrefix(rel, "..") {
			rw := "rw"
			if strings.HasPrefix(m.Options, "ro") {
				rw = "ro"
			}
			rep.Mounts[rel] = m.FSType + " " + rw
		}
	}
	memDir, limitFile := filepath.Join(target, "memory"), "memory.limit_in_bytes"
	if mode == V2 {
		memDir, limitFile = target, "memory.max"
	}
	rep.Limit, _ = readString(filepath.Join(memDir, limitFile))
	if rep.Limit != "" {
		rep.LimitWrite = "<no error>"
		if err := writeFile(filepath.Join(memDir, limitFile), "1073741824"); err != nil {
			rep.LimitWrite = err.Error()
		}
	}
	procsDir := filepath.Join(target, "systemd")
	if mode == V2 {
		procsDir = target
	}
	procs, _ := readString(filepath.Join(procsDir, "cgroup.procs"))
	rep.SeesSelf = contains(strings.Fields(procs), strconv.Itoa(os.Getpid()))
	for _, d := range []string{".", "memory", "systemd", "unified"} {
		p := filepath.Join(target, d, "probe")
		err := os.Mkdir(p, 0o755)
		if err == nil {
			_ = os.Remove(p)
			rep.Writable[d] = ""
		} else if !errors.Is(err, os.ErrNotExist) {
			rep.Writable[d] = err.Error()
		}
	}
}
