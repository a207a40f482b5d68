package initsys

import (
	"os"

	"golang.org/x/sys/unix"
)

// StdDeviceNodes are the host paths of the standard nodes every guest gets
// (the supervisor copies them for a mapped guest).
func StdDeviceNodes() []string {
	out := make([]string, len(stdDevices))
	for i, n := range stdDevices {
		out[i] = "/dev/" + n
	}
	return out
}

// pickNodes resolves the supervisor's node indexes into received fds.
func pickNodes(idx map[string]int, fds []int) map[string]int {
	out := map[string]int{}
	for p, j := range idx {
		if j >= 0 && j < len(fds) {
			out[p] = fds[j]
		}
	}
	return out
}

// attachNode attaches the supervisor's copy of host node hostPath (owned by
// the guest's root) at dst; ok is false when there is none (unmapped
// guests: the host's node is bound instead).
func (g *guest) attachNode(hostPath, dst string) (ok bool, err error) {
	fd, found := g.devNodes[hostPath]
	if !found {
		return false, nil
	}
	t, err := g.mountPoint(dst, true, 0o755)
	if err != nil {
		return true, err
	}
	defer t.Close()
	if err := unix.MoveMount(fd, "", int(t.f.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return true, &os.PathError{Op: "move_mount", Path: dst, Err: err}
	}
	unix.Close(fd)
	delete(g.devNodes, hostPath)
	return true, nil
}
