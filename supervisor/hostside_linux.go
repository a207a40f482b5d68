package supervisor

import (
	"errors"
	"os"
	"path/filepath"

	"vmlite/guestnet"
	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// hostSideOfBoot does what must happen between clone and release: cgroup
// membership on v1 hosts and the host side of the guest's network.
func (s *Supervisor) hostSideOfBoot(pid int) error {
	if s.adopted {
		// A taken stage is moved by pid into what its spare lacked (the
		// cgroup2 tree), which waits for an RCU grace period: that runs
		// while __init sets the guest up, which waits for it before its
		// cgroup namespace (plan.MsgJoined, boot).
		join := s.pidJoin()
		done := make(chan error, 1)
		go func() { done <- join(pid) }()
		s.pendingJoin = done
	} else if err := s.joinCgroup(pid); err != nil {
		return err
	}
	if len(s.p.Interfaces) == 0 {
		return nil // lo is brought up by __init itself
	}
	undo, err := guestnet.Setup(s.p.Interfaces, pid)
	if err != nil {
		return &plan.StepFailure{Step: "set up network", Err: err, User: errdefs.IsUserError(err)}
	}
	s.bootRevert.Add("remove network links", undo)
	return nil
}

// rootTree returns a detached clone of the root filesystem for __init to
// attach (hostTree: idmapped, or shifted on disk, for a mapped guest); -1
// for a guest that shares the host's root. Cloning also spares __init (a
// mapped root for mapped guests) a walk down the rootfs's path, whose
// parents it may not be allowed to enter.
func (s *Supervisor) rootTree(pid int) (int, error) {
	if s.p.Rootfs.Path == "" {
		return -1, nil
	}
	if s.p.Rootfs.Overlay != nil {
		return s.overlayTree(pid)
	}
	if img := s.p.Rootfs.Image; img != nil {
		return s.imageTree(img, s.p.Rootfs.ReadOnly, s.p.Rootfs.XMLPath, s.p.Rootfs.IDMapped, pid)
	}
	return s.hostTree(s.p.Rootfs.Path, s.p.Rootfs.XMLPath, s.p.Rootfs.IDMapped, pid)
}

// attachDir makes the empty directory where __init attaches the root tree:
// in the guest's runtime directory (mode 0711 down from the run root, so a
// mapped root can reach it), owned by the guest's root.
func (s *Supervisor) attachDir() (string, error) {
	if s.p.Rootfs.Path == "" {
		return "", nil
	}
	dir := filepath.Join(s.p.Paths.RunDir, "root")
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", &plan.StepFailure{Step: "create root attach point", Err: err}
	}
	uid, gid := s.p.IDMap.HostRoot()
	// Lchown: the directory is handed to the guest's root; a link there
	// (nobody else writes the runtime directory) is never followed.
	if err := os.Lchown(dir, int(uid), int(gid)); err != nil {
		return "", &plan.StepFailure{Step: "create root attach point", Err: err}
	}
	return dir, nil
}
