package supervisor

import (
	"log"

	"vmlite/cgroup"
	"vmlite/initsys"
	"vmlite/internal/devcg"
)

// restrictDevices installs the guest's device allow-list in its cgroup
// before anything runs there: the standard nodes, the ptys and the XML's
// <hostdev>s (package devcg). On cgroup v2 hosts there is no devices
// controller to write; that needs a BPF device program, which vmlite does
// not load yet: the guest is then held by its capabilities alone (no
// CAP_MKNOD; no CAP_SYS_ADMIN to mount a devtmpfs without a user
// namespace; a user namespace's mounts are nodev). docs/security.md.
func (s *Supervisor) restrictDevices(m cgroup.Manager) error {
	dir, ok := m.Paths()["devices"]
	if !ok {
		log.Printf("no cgroup v1 devices controller: device allow-list not installed (capabilities only)")
		return nil
	}
	rules := append([]devcg.Rule(nil), devcg.Standard...)
	for _, d := range s.p.Devices {
		r, err := devcg.ForNode(d.HostPath)
		if err != nil {
			return &initsys.StepError{Step: "allow " + d.HostPath, XMLPath: d.XMLPath, Err: err, User: true}
		}
		rules = append(rules, r)
	}
	if err := devcg.ApplyV1(dir, rules); err != nil {
		return &initsys.StepError{Step: "install device allow-list", Err: err}
	}
	return nil
}
