package initsys

import (
	"vmlite/cgroup"
)

// mountCgroups gives the guest its /sys/fs/cgroup: its own subtree, seen as
// the root through its cgroup namespace (unshared at the start of set-up,
// once the supervisor had put us in the guest's cgroup).
func (g *guest) mountCgroups() error {
	mode, err := cgroup.Detect()
	if err != nil {
		return stepErr("mount /sys/fs/cgroup", "", err)
	}
	if err := cgroup.MountGuest(mode, g.inRoot("/sys/fs/cgroup")); err != nil {
		return stepErr("mount /sys/fs/cgroup", "", err)
	}
	return nil
}
