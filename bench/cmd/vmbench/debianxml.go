package main

import (
	"regexp"
	"strconv"
	"strings"
)

// The Debian template prints a domain without <idmap> (--no-idmap); the
// debian section derives its variants from that one document.

// sysAdminFeature keeps CAP_SYS_ADMIN in a guest without <idmap>, which
// vmlite drops by default (internal/caps.UnmappedDrop): systemd cannot
// mount its API filesystems without it ("Failed to mount tmpfs at
// /run/lock: Operation not permitted"). LXC and nspawn keep it in such a
// guest too, so this is the like-for-like configuration.
const sysAdminFeature = `<features><capabilities policy="default"><sys_admin state="on"/></capabilities></features>`

// idmapElement maps the guest's 65536 ids to host ids from 100000 on, as
// `vmlite template debian` does by default; vmlite attaches the rootfs
// through an idmapped mount, so the tree is not chowned.
const idmapElement = `<idmap><uid start="0" target="100000" count="65536"/><gid start="0" target="100000" count="65536"/></idmap>`

var memoryRE = regexp.MustCompile(`<memory unit="KiB">[0-9]+</memory>`)

// afterOS inserts elem right after the domain's </os>.
func afterOS(xml, elem string) string {
	return strings.Replace(xml, "</os>", "</os>\n  "+elem, 1)
}

// featuresRE is the template's <features> block: since main's ebf1a06
// `vmlite template debian --no-idmap` keeps CAP_SYS_ADMIN itself.
var featuresRE = regexp.MustCompile(`(?s)\n?[ \t]*<features>.*?</features>`)

// withSysAdmin is xml with CAP_SYS_ADMIN kept (no user namespace), unless
// the template already keeps it.
func withSysAdmin(xml string) string {
	if strings.Contains(xml, "<sys_admin") {
		return xml
	}
	return afterOS(xml, sysAdminFeature)
}

// withIDMap is xml with the template's default <idmap> and without a
// <features> block: a mapped guest has CAP_SYS_ADMIN in its own user
// namespace anyway, and the template's default XML has none.
func withIDMap(xml string) string {
	return afterOS(featuresRE.ReplaceAllLiteralString(xml, ""), idmapElement)
}

// withMemoryKiB is xml with its memory limit set to kib.
func withMemoryKiB(xml string, kib int64) string {
	return memoryRE.ReplaceAllLiteralString(xml, `<memory unit="KiB">`+strconv.FormatInt(kib, 10)+`</memory>`)
}
