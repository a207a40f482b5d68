package initsys

import (
	"fmt"
	"os"

	"vmlite/cgroup"
	"vmlite/plan"
)

// guest is the set-up state of __init: the plan and where the new root is
// while it is being built (before pivot_root).
type guest struct {
	p *plan.Plan
	// root is the host path of the guest's root until pivotRoot, "/" after it
	// (and always "/" for a guest that shares the host's root).
	root string
	// rootTree is an idmapped mount tree of the rootfs from the supervisor, or -1.
	rootTree int
	// consolePaths are the host paths of the console pty slaves.
	consolePaths []string
	// attachDir is where the root tree is attached before pivot_root.
	attachDir string
	// hostNodes are O_PATH fds of host device nodes and console slaves,
	// opened before anything covers /dev (a guest sharing the host's root
	// mounts its own /dev over it). Mounts use /proc/self/fd/N as source.
	hostNodes map[string]int
	// mountTrees are the supervisor's clones of the bind mounts' host trees,
	// aligned with the plan's Mounts, -1 where there is none.
	mountTrees []int
	// devNodes are the supervisor's copies of host device nodes owned by a
	// mapped guest's root, by host path.
	devNodes map[string]int
	// maskTree is the supervisor's clone of its empty read-only tmpfs for
	// the masked directories, -1 when there is none or once attached.
	maskTree int
	// cgroupTree is the supervisor's clone of its cgroup skeleton
	// (cgroup.SkeletonFS), -1 when there is none or once used.
	cgroupTree int
	// procFSTrees are the supervisor's read-only clones of the guest's
	// files on the /proc server, by procFSFiles entry.
	procFSTrees map[string]int
	// joinPending is set while the supervisor still moves us into part of
	// the guest's cgroup (plan.MsgGo's JoinPending).
	joinPending bool
	// restPending is set until MsgRest came (plan.MsgGo's RestPending).
	restPending bool
	// warm is what a pre-forked stage did before the guest came (MsgWarm).
	warm warmth
	// cgPremounts are warm's premounted v1 hierarchies that mountCgroups
	// has not attached yet (nil: none).
	cgPremounts map[string]int
	// cgMode is the host's cgroup mode; cgHost its v1 hierarchies.
	cgMode cgroup.Mode
	cgHost []cgroup.Mount
	// rootFile is a handle on root, which guest paths are resolved from
	// before pivot_root (inroot_linux.go).
	rootFile *os.File
}

// nodeSource is the mount source for host node p.
func (g *guest) nodeSource(p string) string {
	if fd, ok := g.hostNodes[p]; ok {
		return fmt.Sprintf("/proc/self/fd/%d", fd)
	}
	return p
}

// stepErr wraps err as a failed step.
func stepErr(step, xmlPath string, err error) error {
	return &plan.StepFailure{Step: step, XMLPath: xmlPath, Err: err}
}

// userStepErr is a failed step the user fixes (rootfs content, XML).
func userStepErr(step, xmlPath string, err error) error {
	return &plan.StepFailure{Step: step, XMLPath: xmlPath, Err: err, User: true}
}

// shared reports whether the guest shares the host's root filesystem.
func (g *guest) shared() bool { return g.p.Rootfs.Path == "" }
