package launch

import (
	"fmt"
	"path/filepath"

	"libvirt.org/go/libvirtxml"

	"vmlite/plan"
	"vmlite/state"
)

// buildShared resolves <lxc:namespace> to the host paths of the namespaces
// the guest joins: another running vmlite guest's (its init's), a process's,
// or a named network namespace (ip netns).
func buildShared(p *plan.Plan, x *libvirtxml.Domain, l state.Layout, add func(path, msg, value string)) {
	ns := x.LXCNamespace
	if ns == nil {
		return
	}
	for _, sh := range []struct {
		kind, elem string
		m          *libvirtxml.DomainLXCNamespaceMap
	}{{"net", "sharenet", ns.ShareNet}, {"ipc", "shareipc", ns.ShareIPC}, {"uts", "shareuts", ns.ShareUTS}} {
		if sh.m == nil {
			continue
		}
		xp := "/domain/lxc:namespace/lxc:" + sh.elem
		var path string
		switch sh.m.Type {
		case "netns":
			path = filepath.Join("/var/run/netns", sh.m.Value)
		case "pid":
			path = fmt.Sprintf("/proc/%s/ns/%s", sh.m.Value, sh.kind)
		case "name":
			if sh.m.Value == p.Name {
				add(xp+"/@value", "a guest cannot share its own namespaces; fix: name another running guest", sh.m.Value)
				continue
			}
			st, err := state.Read(l.StateFile(sh.m.Value))
			if err != nil || st.Status != state.Running || st.InitPID <= 0 {
				add(xp+"/@value", "no running vmlite guest has this name; fix: start it first (vmlite list)", sh.m.Value)
				continue
			}
			path = fmt.Sprintf("/proc/%d/ns/%s", st.InitPID, sh.kind)
		}
		p.Share = append(p.Share, plan.SharedNamespace{Kind: sh.kind, Path: path, XMLPath: xp})
	}
}
