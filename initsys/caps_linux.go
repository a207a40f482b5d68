package initsys

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmlite/internal/caps"
)

// dropCapabilities removes the plan's capabilities from the bounding set, so
// that init and everything it starts can never gain them. A capability the
// host's own bounding set lacks (here CAP_SYS_RESOURCE) is already gone:
// skipped quietly.
func (g *guest) dropCapabilities() error {
	for _, name := range g.p.Capabilities.Drop {
		c, ok := caps.ByName(name)
		if !ok {
			return stepErr("drop capabilities", "/domain/features/capabilities", fmt.Errorf("unknown capability %s", name))
		}
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if errors.Is(err, unix.EINVAL) || (err == nil && in == 0) {
			continue // unknown to this kernel, or not in the bounding set
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return stepErr("drop capabilities", "/domain/features/capabilities", &os.SyscallError{Syscall: "prctl(PR_CAPBSET_DROP " + name + ")", Err: err})
		}
	}
	return nil
}
