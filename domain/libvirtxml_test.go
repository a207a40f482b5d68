package domain

import (
	"strings"
	"testing"

	"vmlite/internal/uuid"
)

func TestLibvirtXML(t *testing.T) {
	in := `<domain type='lxc'><name>n</name><uuid>8369F1AC7E46E8694CA5759D51478066</uuid><memory unit='MiB'>256</memory>
<os><type>exe</type><init>/sbin/init</init></os>
<devices><interface type='ethernet'/><interface type='ethernet'><mac address='52:54:00:a:b:c'/></interface>
<console/><console type='pty'><target type='serial' port='1'/></console></devices></domain>`
	d, _, err := Parse("in", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := d.Marshal()
	mac := uuid.MAC("8369f1ac-7e46-e869-4ca5-759d51478066", 0)
	for _, tc := range []struct {
		name string
		live *Live
		want []string
		not  []string
	}{
		{"inactive", nil, []string{
			`<uuid>8369f1ac-7e46-e869-4ca5-759d51478066</uuid>`,
			`<memory unit="KiB">262144</memory>`, `<currentMemory unit="KiB">262144</currentMemory>`,
			`<vcpu placement="static">1</vcpu>`, `<type arch="` + HostArch() + `">exe</type>`,
			`<mac address="` + mac + `">`, `<mac address="52:54:00:0a:0b:0c">`,
			`<console type="pty">`, `<target type="lxc" port="0">`, `<target type="lxc" port="1">`,
			`<on_poweroff>destroy</on_poweroff>`, `<on_reboot>restart</on_reboot>`, `<on_crash>destroy</on_crash>`,
		}, []string{"id=", "<alias", "<source path", "tty="}},
		{"live", &Live{ID: 4242, ConsolePTYs: []string{"/dev/pts/7", "/dev/pts/8"}}, []string{
			`<domain type="lxc" id="4242">`,
			`<console type="pty" tty="/dev/pts/7">`, `<source path="/dev/pts/7">`, `<alias name="console0">`,
			`<source path="/dev/pts/8">`, `<alias name="console1">`,
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := d.LibvirtXML(tc.live)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("lacks %s:\n%s", w, s)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(s, w) {
					t.Errorf("has %s:\n%s", w, s)
				}
			}
			// What vmlite prints, vmlite reads back unchanged in meaning.
			d2, _, err := Parse("out", b)
			if err != nil {
				t.Fatalf("normalised XML does not parse: %v\n%s", err, s)
			}
			b2, err := d2.LibvirtXML(tc.live)
			if err != nil || string(b2) != s {
				t.Errorf("not stable: %v\n%s\n---\n%s", err, s, b2)
			}
		})
	}
	if after, _ := d.Marshal(); string(after) != string(before) {
		t.Errorf("LibvirtXML changed the domain")
	}
}
