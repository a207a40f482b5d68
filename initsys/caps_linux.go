package initsys

import "vmlite/internal/caps"

// dropCapabilities removes the plan's capabilities from the bounding set, so
// that init and everything it starts can never gain them. A capability the
// host's own bounding set lacks (here CAP_SYS_RESOURCE) is already gone:
// skipped quietly.
func (g *guest) dropCapabilities() error {
	if err := caps.DropBounding(g.p.Capabilities.Drop); err != nil {
		return stepErr("drop capabilities", "/domain/features/capabilities", err)
	}
	return nil
}
