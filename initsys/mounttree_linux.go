package initsys

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmlite/plan"
)

// pickRights resolves indexes into the received fds (-1 or out of range:
// none).
func pickRights(idx, fds []int) []int {
	out := make([]int, len(idx))
	for i, j := range idx {
		out[i] = -1
		if j >= 0 && j < len(fds) {
			out[i] = fds[j]
		}
	}
	return out
}

// mountTree is the supervisor's tree for the plan's i-th mount, or -1.
func (g *guest) mountTree(i int) int {
	if i < len(g.mountTrees) {
		return g.mountTrees[i]
	}
	return -1
}

// attachTree attaches a bind mount's tree, cloned (and for a mapped guest
// idmapped) by the supervisor, at its guest target. Attaching by fd also
// spares the guest's mapped root the walk down the host source's path.
func (g *guest) attachTree(i int, m plan.Mount) error {
	tree := g.mountTrees[i]
	step := fmt.Sprintf("mount %s on %s", m.Kind, m.Target)
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return stepErr(step, m.XMLPath, &os.SyscallError{Syscall: "fstat", Err: err})
	}
	t, err := g.mountPoint(m.Target, st.Mode&unix.S_IFMT != unix.S_IFDIR, 0o755)
	if err != nil {
		return userStepErr(step, m.XMLPath, err)
	}
	err = unix.MoveMount(tree, "", int(t.f.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	t.Close()
	if err != nil {
		return stepErr(step, m.XMLPath, &os.PathError{Op: "move_mount", Path: m.Target, Err: err})
	}
	unix.Close(tree)
	g.mountTrees[i] = -1
	if m.ReadOnly {
		if err := remountReadOnly(g.inRoot(m.Target)); err != nil {
			return stepErr(step, m.XMLPath, err)
		}
	}
	return nil
}
