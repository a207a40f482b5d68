package main

import (
	"strings"
	"testing"
)

// debianTmpl is what `vmlite template debian --no-idmap` printed.
const debianTmpl = `<domain type="lxc">
  <name>vmb-deb</name>
  <memory unit="KiB">524288</memory>
  <os>
    <type>exe</type>
    <init>/sbin/init</init>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <filesystem type="mount">
      <source dir="/var/tmp/vmbench-1/deb-base"></source>
      <target dir="/"></target>
    </filesystem>
  </devices>
</domain>`

// debianTmplSysAdmin is what `vmlite template debian --no-idmap` prints
// since main's ebf1a06: it keeps CAP_SYS_ADMIN itself.
const debianTmplSysAdmin = `<domain type="lxc">
  <name>vmb-deb</name>
  <memory unit="KiB">524288</memory>
  <os>
    <type>exe</type>
    <init>/sbin/init</init>
  </os>
  <features>
    <capabilities policy="default">
      <sys_admin state="on"></sys_admin>
    </capabilities>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <filesystem type="mount">
      <source dir="/var/tmp/vmbench-1/deb-base"></source>
      <target dir="/"></target>
    </filesystem>
  </devices>
</domain>`

func TestDebianXMLVariants(t *testing.T) {
	tests := []struct {
		name      string
		got       string
		want, not []string
	}{
		{"sys_admin", withSysAdmin(debianTmpl), []string{"</os>\n  " + sysAdminFeature + "\n  <on_poweroff>"}, []string{"<idmap>"}},
		{"idmap", withIDMap(debianTmpl), []string{"</os>\n  " + idmapElement, `target="100000" count="65536"`}, []string{"sys_admin"}},
		{"sys_admin already kept", withSysAdmin(debianTmplSysAdmin), []string{"<sys_admin state=\"on\"></sys_admin>"}, []string{sysAdminFeature}},
		{"idmap drops the template's features", withIDMap(debianTmplSysAdmin), []string{"</os>\n  " + idmapElement + "\n  <on_poweroff>"}, []string{"<features>", "sys_admin", "capabilities"}},
		{"memory", withMemoryKiB(debianTmpl, 4<<20), []string{`<memory unit="KiB">4194304</memory>`}, []string{"524288"}},
		{"memory and sys_admin", withMemoryKiB(withSysAdmin(debianTmpl), 1024), []string{`<memory unit="KiB">1024</memory>`, "sys_admin"}, nil},
		{"renamed guest keeps the variant", guestXML(withIDMap(debianTmpl), "vmb-vi-df", "/r"), []string{"<name>vmb-vi-df</name>", `<source dir="/r">`, "<idmap>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range tt.want {
				if !strings.Contains(tt.got, w) {
					t.Errorf("missing %q in\n%s", w, tt.got)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(tt.got, n) {
					t.Errorf("unexpected %q in\n%s", n, tt.got)
				}
			}
			if strings.Count(tt.got, "<domain") != 1 || strings.Count(tt.got, "<features>") > 1 || !strings.HasSuffix(tt.got, "</domain>") {
				t.Errorf("not one domain:\n%s", tt.got)
			}
		})
	}
}
