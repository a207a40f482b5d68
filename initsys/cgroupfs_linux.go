package initsys

import (
	"vmlite/cgroup"
)

// detectCgroups reads the host's cgroup mode and v1 hierarchies while the
// host's /sys/fs/cgroup is still in view (a guest sharing the host's root
// gets its own /sys over it): one read of the mount table for both.
func (g *guest) detectCgroups() error {
	mode, host, err := cgroup.DetectMounts()
	if err != nil {
		return stepErr("detect cgroup mode", "", err)
	}
	g.cgMode, g.cgHost = mode, host
	return nil
}

// mountCgroups gives the guest its /sys/fs/cgroup: its own subtree, seen as
// the root through its cgroup namespace (unshared at the start of set-up,
// once the supervisor had put us in the guest's cgroup). A guest without a
// user namespace gets the supervisor's read-only skeleton there
// (cgroup.SkeletonFS: one superblock for all its guests) when it sent one.
// A pre-forked stage taken from its spare cgroup brings the v1
// hierarchies premounted (warm_linux.go).
func (g *guest) mountCgroups() error {
	skeleton := g.cgroupTree
	g.cgroupTree = -1 // MountGuest closes it
	// The hierarchies a waiting stage premounted (MsgWarm), attached
	// instead of mounted; any MountGuest leaves are closed here.
	defer cgroup.ClosePremounts(g.cgPremounts)
	if err := cgroup.MountGuest(g.cgMode, g.cgHost, g.inRoot("/sys/fs/cgroup"), skeleton, g.cgPremounts); err != nil {
		return stepErr("mount /sys/fs/cgroup", "", err)
	}
	return nil
}
