package launch

import (
	"fmt"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/plan"
)

// Defaults for limits the XML leaves open.
const (
	// MinMemoryBytes is the least memory limit a guest starts with: vmlite's
	// set-up of the guest (vmlite-init) runs in the guest's cgroup before
	// the guest's init, and 1 MiB was enough for it on Linux 6.1.
	MinMemoryBytes = 2 << 20
	// DefaultPidsMax stops a fork bomb in one guest from exhausting the
	// host's pids (pid_max is 32768 on many hosts); vmlite:pids overrides it.
	DefaultPidsMax = 4096
	// defaultPartition is the cgroup parent without <resource><partition>.
	defaultPartition = "/machine"
)

// buildCgroup fills the cgroup placement and limits from the XML (the
// mapping is domain.XMLLimits) with the start's defaults and minimum.
func buildCgroup(p *plan.Plan, x *libvirtxml.Domain, d *domain.Domain) error {
	p.Cgroup.Partition = defaultPartition
	if x.Resource != nil && x.Resource.Partition != "" {
		p.Cgroup.Partition = x.Resource.Partition
	}
	l, err := domain.XMLLimits(x)
	if err != nil {
		return err
	}
	if l.MemoryBytes > 0 && l.MemoryBytes < MinMemoryBytes {
		// The kernel would not refuse it: the guest's set-up, which runs in
		// its cgroup, would be killed at the limit ("signal: killed").
		return fmt.Errorf("a memory limit of %d bytes is below the %d MiB a guest needs to start (its set-up runs inside the limit); fix: give it at least %d MiB, e.g. <memory unit='MiB'>64</memory>",
			l.MemoryBytes, MinMemoryBytes>>20, MinMemoryBytes>>20)
	}
	l.PidsMax = DefaultPidsMax
	if d.Meta.PidsMax != 0 {
		l.PidsMax = d.Meta.PidsMax
	}
	p.Cgroup.Limits = l
	return nil
}
