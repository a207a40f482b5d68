package supervisor

import (
	"os"

	"vmlite/internal/binfile"
	"vmlite/internal/initbin"
)

// selfExe is this binary, whose __init role every build has.
const selfExe = "/proc/self/exe"

// initExecutable returns what a guest's __init is cloned from: the small
// embedded vmlite-init (cmd/vmlite-init: cheaper to start than `vmlite
// __init`, bench/README.md), written once per vmlite build into
// InitBinDir (the runtime tree for an older build's plan), or this binary
// itself when the build embeds none or the file cannot be written.
func (s *Supervisor) initExecutable() string {
	size := initbin.Size()
	dir := s.p.Paths.InitBinDir
	if dir == "" {
		dir = s.p.Paths.RunRoot
	}
	if size == 0 || dir == "" {
		return selfExe
	}
	// Traversable by a mapped guest's root, who execs it.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.log.Printf("create %s: %v: cloning __init from vmlite itself", dir, err)
		return selfExe
	}
	path, err := binfile.WriteOut(dir, "init-", size, initbin.WriteTo)
	if err != nil {
		s.log.Printf("write %s: %v: cloning __init from vmlite itself", path, err)
		return selfExe
	}
	return path
}
