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
	noop := func() {}
	var h hierarchy
	var file, frozen, thawed, check string
	switch {
	case m.mode == V2:
		h, file, frozen, thawed = m.hs[0], "cgroup.freeze", "1", "0"
		check = "cgroup.events"
	default:
		var ok bool
		if h, ok = m.find("freezer"); !ok {
			return noop
		}
		file, frozen, thawed, check = "freezer.state", "FROZEN", "THAWED", "freezer.state"
	}
	p := filepath.Join(m.leaf(h), file)
	if err := m.write(h, p, frozen); err != nil {
		return noop
	}
	end := time.Now().Add(time.Second)
	for time.Now().Before(end) {
		s, err := readString(filepath.Join(m.leaf(h), check))
		if err != nil {
			break
		}
		if (m.mode == V2 && parseFlatKeyed(s)["frozen"] == 1) || (m.mode != V2 && strings.TrimSpace(s) == "FROZEN") {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return func() { _ = m.write(h, p, thawed) }
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
