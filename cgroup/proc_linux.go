package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CgroupFD implements Manager.
func (m *manager) CgroupFD() (int, error) {
	if m.mode != V2 {
		return -1, fmt.Errorf("spawn into cgroup (CLONE_INTO_CGROUP): %w", ErrV1)
	}
	dir := m.leaf(m.hs[0])
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return fd, nil
}

// Kill implements Manager.
func (m *manager) Kill() error {
	deadline := time.Now().Add(m.killTimeout)
	if m.mode == V2 {
		h := m.hs[0]
		if kf := filepath.Join(m.leaf(h), "cgroup.kill"); exists(kf) {
			// One write kills the whole subtree, and the kernel makes sure
			// that nothing forked meanwhile escapes.
			if err := m.write(h, kf, "1"); err != nil {
				return fmt.Errorf("kill cgroup %s: %w", m.leaf(h), err)
			}
			return m.waitEmpty(deadline)
		}
	}
	// Without cgroup.kill a fork racing with the signals could survive:
	// freeze the tree so the process list holds still, kill everything,
	// thaw so the signals are delivered, and repeat until empty.
	for {
		pids, err := m.Procs()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kill guest processes: %w after %v: %v", ErrBusy, m.killTimeout, pids)
		}
		thaw := m.freeze()
		for _, p := range pids {
			if err := unix.Kill(p, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				thaw()
				return fmt.Errorf("kill pid %d: %w", p, err)
			}
		}
		thaw()
		_ = m.waitEmpty(time.Now().Add(200 * time.Millisecond))
	}
}

// freeze stops every process of the subtree (best effort: a freezer that
// does not settle within a second only makes Kill loop once more) and
// returns the function that thaws it.
func (m *manager) freeze() (thaw func()) {
	thaw, _ = m.freezeWithin(time.Second)
	return thaw
}

// freezer returns the hierarchy and files of the freezer: cgroup.freeze
// and cgroup.events on v2, freezer.state on v1; ok false without one.
func (m *manager) freezer() (h hierarchy, file, frozen, thawed, check string, ok bool) {
	if m.mode == V2 {
		return m.hs[0], "cgroup.freeze", "1", "0", "cgroup.events", true
	}
	if h, ok = m.find("freezer"); !ok {
		return h, "", "", "", "", false
	}
	return h, "freezer.state", "FROZEN", "THAWED", "freezer.state", true
}

// freezeWithin asks the kernel to freeze the subtree and waits up to d for
// it to report frozen; thaw always undoes the request.
func (m *manager) freezeWithin(d time.Duration) (thaw func(), err error) {
	h, file, frozen, thawed, check, ok := m.freezer()
	if !ok {
		return func() {}, fmt.Errorf("no freezer: the v1 freezer controller is not mounted")
	}
	p := filepath.Join(m.leaf(h), file)
	if err := m.write(h, p, frozen); err != nil {
		return func() {}, err
	}
	thaw = func() { _ = m.write(h, p, thawed) }
	end := time.Now().Add(d)
	for {
		s, err := readString(filepath.Join(m.leaf(h), check))
		if err != nil {
			return thaw, fmt.Errorf("read %s: %w", check, err)
		}
		if (m.mode == V2 && parseFlatKeyed(s)["frozen"] == 1) || (m.mode != V2 && strings.TrimSpace(s) == "FROZEN") {
			return thaw, nil
		}
		if time.Now().After(end) {
			return thaw, fmt.Errorf("the guest did not freeze within %v (%s: %s)", d, check, strings.TrimSpace(s))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Freeze implements Manager.
func (m *manager) Freeze() error {
	thaw, err := m.freezeWithin(10 * time.Second)
	if err != nil {
		thaw()
	}
	return err
}

// Thaw implements Manager.
func (m *manager) Thaw() error {
	h, file, _, thawed, _, ok := m.freezer()
	if !ok {
		return fmt.Errorf("no freezer: the v1 freezer controller is not mounted")
	}
	return m.write(h, filepath.Join(m.leaf(h), file), thawed)
}

// waitEmpty polls until the subtree has no process or deadline passes.
func (m *manager) waitEmpty(deadline time.Time) error {
	for {
		pids, err := m.Procs()
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for guest processes to exit: %w: %v", ErrBusy, pids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
