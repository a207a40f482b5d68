package plan

import "strings"

// CgroupName is the leaf of guest's cgroup in every hierarchy:
// NAME.INSTANCE, INSTANCE being eight hex digits that name the state root
// (state.Layout.InstanceID), so that guests of one name under two state
// roots never share (or kill) a cgroup, as libvirt's NAME.libvirt-lxc and
// machine ids keep its guests apart. The instance always follows the last
// dot, so the name stays readable and the split is unambiguous.
//
// It lives in the contract because the front end (domain's partition
// check), the builder and the cgroup library all need it, and the cgroup
// library (linked into vmlite-init) must not import the XML front end.
func CgroupName(guest, instance string) string { return guest + "." + instance }

// IsGuestCgroupName reports whether a cgroup path element has the form of
// a guest's leaf (CgroupName): a <resource><partition> element of that form
// would put a guest inside another guest's cgroup.
func IsGuestCgroupName(elem string) bool {
	dot := strings.LastIndexByte(elem, '.')
	if dot <= 0 || len(elem)-dot-1 != 8 {
		return false
	}
	for _, c := range elem[dot+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
