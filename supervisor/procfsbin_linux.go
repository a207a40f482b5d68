package supervisor

import (
	"os"

	"vmlite/internal/binfile"
	"vmlite/internal/procfsbin"
)

// procFSExecutable returns the binary the /proc server is started from:
// the small embedded vmlite-procfs (cmd/vmlite-procfs: the server's
// memory is its own text and data, not vmlite's; bench/README.md),
// written once per vmlite build into InitBinDir beside vmlite-init, or ""
// (vmlite itself, `vmlite __procfs`) when the build embeds none or the
// file cannot be written.
func (s *Supervisor) procFSExecutable() string {
	size := procfsbin.Size()
	dir := s.p.Paths.InitBinDir
	if dir == "" {
		dir = s.p.Paths.RunRoot
	}
	if size == 0 || dir == "" {
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.log.Printf("create %s: %v: the /proc server runs from vmlite itself", dir, err)
		return ""
	}
	path, err := binfile.WriteOut(dir, "procfs-", size, procfsbin.WriteTo)
	if err != nil {
		s.log.Printf("write %s: %v: the /proc server runs from vmlite itself", path, err)
		return ""
	}
	return path
}
