package front

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// CoreName is the file name of the full binary (cmd/vmlite): every role
// and every command, which the front binary execs for all it does not
// serve itself.
const CoreName = "vmlite-core"

// Core finds the full binary: beside the front one (`make build` puts
// both in bin/) or in ../libexec/vmlite (`make install`).
func Core() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find %s: %w", CoreName, err)
	}
	dir := filepath.Dir(exe)
	tried := []string{filepath.Join(dir, CoreName), filepath.Join(dir, "..", "libexec", "vmlite", CoreName)}
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil {
		return "", fmt.Errorf("find %s: %w", CoreName, err)
	}
	for _, p := range tried {
		var st unix.Stat_t
		if unix.Access(p, unix.X_OK) != nil || unix.Stat(p, &st) != nil {
			continue
		}
		if st.Dev == self.Dev && st.Ino == self.Ino {
			// A copy of the front under the core's name would exec itself
			// for ever.
			return "", fmt.Errorf("%s is this front binary, not the full vmlite (make build)", p)
		}
		return p, nil
	}
	return "", fmt.Errorf("the full vmlite binary %s is missing: looked for %s and %s (make build and make install put it there)", CoreName, tried[0], tried[1])
}
