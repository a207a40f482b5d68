package state

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
)

// InstanceID names this state root among all the roots on the host: eight
// hex digits of a hash of its runtime tree's absolute, symlink-free path.
// Host-wide names that must not collide between roots carry it (a guest's
// cgroup is NAME.ID): two roots may each run a guest called "web", as two
// libvirt connections may.
func (l Layout) InstanceID() string {
	p, err := filepath.Abs(l.Run)
	if err != nil {
		p = l.Run
	}
	// The run tree may not exist yet (before Ensure): resolve what exists.
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	sum := sha256.Sum256([]byte(filepath.Clean(p)))
	return hex.EncodeToString(sum[:4])
}
