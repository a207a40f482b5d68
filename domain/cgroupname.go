package domain

import (
	"strings"

	"vmlite/internal/lazyre"
)

// CgroupName is the leaf of guest's cgroup in every hierarchy:
// NAME.INSTANCE, INSTANCE being eight hex digits that name the state root
// (state.Layout.InstanceID), so that guests of one name under two state
// roots never share (or kill) a cgroup, as libvirt's NAME.libvirt-lxc and
// machine ids keep its guests apart. The instance always follows the last
// dot, so the name stays readable and the split is unambiguous.
func CgroupName(guest, instance string) string { return guest + "." + instance }

var cgroupLeafRe = lazyre.New(`\.[0-9a-f]{8}$`)

// IsGuestCgroupName reports whether a cgroup path element has the form of
// a guest's leaf (CgroupName): a <resource><partition> element of that form
// would put a guest inside another guest's cgroup.
func IsGuestCgroupName(elem string) bool {
	return cgroupLeafRe.MatchString(elem) && strings.LastIndexByte(elem, '.') > 0
}
