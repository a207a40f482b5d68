package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"vmlite/plan"
)

// A spare is a guest cgroup made before its guest: vmlite/<partition>/
// <spare name> in every hierarchy that can rename a cgroup (the v1 ones:
// cgroup2 has no rename), with a shared supervisor's waiting init stage
// already in it. A start takes it (Adopt) by renaming each directory to
// the guest's leaf, which keeps the processes in it, instead of a mkdir
// and a move of its init per hierarchy: on v1 every cgroup.procs write
// waits for the cgroup threadgroup lock's RCU grace period, ten of them
// per start on a host with ten hierarchies (bench/README.md, "A start with
// headroom"). Hierarchies a spare lacks (the hybrid host's cgroup2
// mount) are made and joined at Adopt as for any guest.
//
// A spare's name says whose it is, spare.ID.PID.N (ID the state root's
// instance, PID its supervisor's), and never has a guest leaf's form
// (plan.IsGuestCgroupName). Its supervisor removes it when it ends; the
// spares of a supervisor that was killed are removed by SweepSpares.

// SpareName is the leaf of a spare: the n-th of supervisor pid, for the
// state root whose guests' leaves end in .id.
func SpareName(id string, pid, n int) string {
	return "spare." + id + "." + strconv.Itoa(pid) + "." + strconv.Itoa(n)
}

// spareOwner returns the supervisor pid in a spare's name for state root
// id, or false when name is no spare of id.
func spareOwner(name, id string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "spare."+id+".")
	if !ok {
		return 0, false
	}
	pidS, nS, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(pidS)
	if err != nil || pid <= 0 {
		return 0, false
	}
	if _, err := strconv.Atoi(nS); err != nil {
		return 0, false
	}
	return pid, true
}

// NewSpare returns the manager of the spare name in partition (a
// <resource><partition>, "" for the default) under fsRoot: its
// directories in the hierarchies that can rename, none made yet. It
// returns nil and no error on a host without such hierarchies (v2).
func NewSpare(fsRoot string, mode Mode, partition, name string) (Manager, error) {
	sp, err := newSpare(fsRoot, mode, partition, name, realDirs{})
	if sp == nil {
		return nil, err // a nil *manager is no nil Manager
	}
	return sp, err
}

func newSpare(fsRoot string, mode Mode, partition, name string, dirs dirOps) (*manager, error) {
	if mode != V1 {
		return nil, nil
	}
	rel, err := RelPath(plan.Cgroup{Partition: partition, Name: name})
	if err != nil {
		return nil, err
	}
	all, err := discover(fsRoot, mode)
	if err != nil {
		return nil, err
	}
	var hs []hierarchy
	for _, h := range all {
		if !h.v2 {
			hs = append(hs, h)
		}
	}
	if len(hs) == 0 {
		return nil, nil
	}
	return newManager(mode, hs, rel, plan.Limits{}, dirs), nil
}

// CreateSpare makes spare's directories (no limits: a guest's come with
// Adopt); on failure it removes what it made.
func CreateSpare(spare Manager) error {
	sp, ok := spare.(*manager)
	if !ok {
		return errors.New("not a spare of this package")
	}
	var made []string
	err := sp.mkdirs(sp.hs, &made)
	if err != nil {
		for i := len(made) - 1; i >= 0; i-- {
			_ = sp.dirs.Rmdir(made[i])
		}
	}
	return err
}

// Adopt makes spare the guest cgroup of m (made by New, not created):
// each of spare's directories is renamed to m's leaf, m's directories in
// the hierarchies spare lacks are made, and m's limits are applied. join
// then moves a process into those other hierarchies only: the spare's
// processes are in the rest already. It may return Warnings (as Create),
// with join set. On any other error nothing was changed: spare is still
// the spare, with its processes, and m has no directory.
func Adopt(m, spare Manager) (join func(pid int) error, err error) {
	g, ok1 := m.(*manager)
	sp, ok2 := spare.(*manager)
	if !ok1 || !ok2 {
		return nil, errors.New("not cgroups of this package")
	}
	if filepath.Dir(g.rel) != filepath.Dir(sp.rel) {
		return nil, fmt.Errorf("spare %s is not in the guest's partition %s", sp.rel, filepath.Dir(g.rel))
	}
	inSpare := map[string]bool{}
	for _, h := range sp.hs {
		inSpare[h.root] = true
	}
	var renamed, rest []hierarchy
	undo := func() error {
		var errs []error
		for i := len(renamed) - 1; i >= 0; i-- {
			h := renamed[i]
			if err := os.Rename(g.leaf(h), sp.leaf(h)); err != nil {
				errs = append(errs, fmt.Errorf("rename cgroup %s back: %w", g.leaf(h), err))
			}
		}
		return errors.Join(errs...)
	}
	for _, h := range g.hs {
		if !inSpare[h.root] {
			rest = append(rest, h)
			continue
		}
		if err := os.Rename(sp.leaf(h), g.leaf(h)); err != nil {
			return nil, errors.Join(fmt.Errorf("rename cgroup %s to %s: %w", sp.leaf(h), filepath.Base(g.rel), err), undo())
		}
		renamed = append(renamed, h)
	}
	if len(renamed) != len(sp.hs) {
		return nil, errors.Join(fmt.Errorf("spare %s has hierarchies the guest lacks", sp.rel), undo())
	}
	var made []string
	err = g.mkdirs(rest, &made)
	if err == nil {
		err = g.apply(g.limits)
	}
	var w Warnings
	if err != nil && !errors.As(err, &w) {
		for i := len(made) - 1; i >= 0; i-- {
			_ = g.dirs.Rmdir(made[i])
		}
		return nil, errors.Join(err, undo())
	}
	join = func(pid int) error {
		for _, h := range rest {
			p := filepath.Join(g.leaf(h), "cgroup.procs")
			if err := g.write(h, p, strconv.Itoa(pid)); err != nil {
				return fmt.Errorf("move pid %d into %s: %w", pid, g.leaf(h), err)
			}
		}
		return nil
	}
	return join, err
}

// SweepSpares removes the spares of state root id in partition whose
// supervisor is gone (killed: one that ends removes its own), with the
// partition's parents that this leaves empty.
func SweepSpares(fsRoot string, mode Mode, partition, id string) error {
	return sweepSpares(fsRoot, mode, partition, id, realDirs{}, supervisorAlive)
}

func sweepSpares(fsRoot string, mode Mode, partition, id string, dirs dirOps, alive func(pid int) bool) error {
	pm, err := newSpare(fsRoot, mode, partition, "probe", dirs)
	if err != nil || pm == nil {
		return err
	}
	seen := map[string]bool{}
	var errs []error
	for _, h := range pm.hs {
		ents, err := os.ReadDir(filepath.Dir(pm.leaf(h)))
		if err != nil {
			continue // no partition here: nothing to sweep
		}
		for _, e := range ents {
			pid, ok := spareOwner(e.Name(), id)
			if !ok || !e.IsDir() || seen[e.Name()] || alive(pid) {
				continue
			}
			seen[e.Name()] = true
			sp, err := newSpare(fsRoot, mode, partition, e.Name(), dirs)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			// Its stage died with the supervisor (parent-death signal);
			// Kill makes sure before the directories go.
			if err := sp.Kill(); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := sp.Destroy(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// supervisorAlive reports whether pid is a live vmlite supervisor: not
// gone, no zombie (a killed one until reaped), and not another program
// that got its pid since.
func supervisorAlive(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid)
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return false
	}
	if i := strings.LastIndexByte(string(b), ')'); i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X' {
		return false
	}
	cmd, err := os.ReadFile(dir + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(string(cmd), "\x00")
	return len(args) > 1 && args[1] == "__supervise"
}
