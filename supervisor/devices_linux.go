package supervisor

import (
	"slices"

	"vmlite/cgroup"
	"vmlite/cgroup/devices"
	"vmlite/plan"
)

// restrictDevices installs the guest's device allow-list in its cgroup
// before anything runs there: the standard nodes, the ptys and the XML's
// <hostdev>s (package cgroup/devices). A host with the v1 devices controller (v1 or
// hybrid) gets the v1 list only; a v2 host, whose unified tree has no
// devices files, gets the same list as a BPF device program attached to
// the guest's cgroup (devices.ApplyV2: it lives as long as the cgroup, so
// there is nothing to undo). Where that program cannot be loaded (a kernel
// without CONFIG_CGROUP_BPF), a guest given CAP_MKNOD or <hostdev>s is
// refused; any other is held by its capabilities alone (no CAP_MKNOD; no
// CAP_SYS_ADMIN to mount a devtmpfs without a user namespace; a user
// namespace's mounts are nodev), with a warning. docs/security.md.
func (s *Supervisor) restrictDevices(m cgroup.Manager) error {
	paths := m.Paths()
	v1, hasV1 := paths["devices"]
	v2, hasV2 := paths["unified"]
	if !hasV1 && !hasV2 {
		s.log.Printf("no cgroup v1 devices controller and no cgroup2 tree: device allow-list not installed (capabilities only)")
		return nil
	}
	rules, err := deviceRules(s.p.Devices)
	if err != nil {
		return err
	}
	if hasV1 {
		if err := devices.ApplyV1(v1, rules); err != nil {
			return &plan.StepFailure{Step: "install device allow-list", Err: err}
		}
		return nil
	}
	if err := devices.ApplyV2(v2, rules); err != nil {
		if len(s.p.Devices) > 0 || !slices.Contains(s.p.Capabilities.Drop, "CAP_MKNOD") {
			return &plan.StepFailure{Step: "install device allow-list (cgroup v2 BPF device program; needed for <mknod state='on'/> and <hostdev>)", Err: err}
		}
		s.log.Printf("warning: device allow-list not installed (capabilities only): %v", err)
	}
	return nil
}

// deviceRules is the allow-list of a guest with devs: the standard nodes
// and one rule per device, with its access.
func deviceRules(devs []plan.Device) ([]devices.Rule, error) {
	rules := append([]devices.Rule(nil), devices.Standard...)
	for _, d := range devs {
		r, err := devices.ForNode(d.HostPath)
		if err != nil {
			return nil, &plan.StepFailure{Step: "allow " + d.HostPath, XMLPath: d.XMLPath, Err: err, User: true}
		}
		r.Access = d.Access()
		rules = append(rules, r)
	}
	return rules, nil
}
