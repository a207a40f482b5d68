package domain

import (
	"reflect"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"vmlite/plan"
)

func limitsDomain(t *testing.T, inner string) *libvirtxml.Domain {
	t.Helper()
	var x libvirtxml.Domain
	if err := x.Unmarshal(`<domain type='lxc'><name>g</name>` + inner + `</domain>`); err != nil {
		t.Fatalf("unmarshal %s: %v", inner, err)
	}
	return &x
}

// TestXMLLimits: every element the mapping reads, alone and in the
// combinations whose order matters.
func TestXMLLimits(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name, xml string
		want      plan.Limits
	}{
		{"none", ``, plan.Limits{}},
		{"memory", `<memory unit='MiB'>64</memory>`, plan.Limits{MemoryBytes: 64 * mib}},
		{"memory default KiB", `<memory>65536</memory>`, plan.Limits{MemoryBytes: 64 * mib}},
		{"currentMemory lower", `<memory unit='MiB'>64</memory><currentMemory unit='MiB'>32</currentMemory>`, plan.Limits{MemoryBytes: 32 * mib}},
		{"currentMemory higher", `<memory unit='MiB'>64</memory><currentMemory unit='MiB'>128</currentMemory>`, plan.Limits{MemoryBytes: 64 * mib}},
		{"currentMemory alone", `<currentMemory unit='MiB'>32</currentMemory>`, plan.Limits{MemoryBytes: 32 * mib}},
		{"hard_limit wins", `<memory unit='MiB'>64</memory><memtune><hard_limit unit='MiB'>128</hard_limit></memtune>`, plan.Limits{MemoryBytes: 128 * mib}},
		{"soft_limit", `<memtune><soft_limit unit='MiB'>16</soft_limit></memtune>`, plan.Limits{MemorySoftBytes: 16 * mib}},
		{"swap_hard_limit", `<memtune><swap_hard_limit unit='GiB'>1</swap_hard_limit></memtune>`, plan.Limits{SwapBytes: 1024 * mib}},
		{"shares", `<cputune><shares>512</shares></cputune>`, plan.Limits{CPUShares: 512}},
		{"period quota", `<cputune><period>50000</period><quota>25000</quota></cputune>`, plan.Limits{CPUPeriodUS: 50000, CPUQuotaUS: 25000}},
		{"vcpu quota", `<vcpu>2</vcpu>`, plan.Limits{CPUPeriodUS: DefaultCPUPeriodUS, CPUQuotaUS: 2 * DefaultCPUPeriodUS}},
		{"vcpu in period", `<vcpu>3</vcpu><cputune><period>10000</period></cputune>`, plan.Limits{CPUPeriodUS: 10000, CPUQuotaUS: 30000}},
		{"vcpu under quota", `<vcpu>3</vcpu><cputune><quota>5000</quota></cputune>`, plan.Limits{CPUQuotaUS: 5000}},
		{"vcpu under no quota", `<vcpu>3</vcpu><cputune><quota>-1</quota></cputune>`, plan.Limits{CPUQuotaUS: -1}},
		{"cpuset", `<vcpu cpuset='0-1'>1</vcpu>`, plan.Limits{CPUSet: "0-1", CPUPeriodUS: DefaultCPUPeriodUS, CPUQuotaUS: DefaultCPUPeriodUS}},
		{"blkio weight", `<blkiotune><weight>300</weight></blkiotune>`, plan.Limits{BlkioWeight: 300}},
		{"blkio device", `<blkiotune><device><path>/dev/sda</path><weight>200</weight><read_bytes_sec>1</read_bytes_sec><write_bytes_sec>2</write_bytes_sec><read_iops_sec>3</read_iops_sec><write_iops_sec>4</write_iops_sec></device></blkiotune>`,
			plan.Limits{BlkioDevices: []plan.BlkioDevice{{Path: "/dev/sda", Weight: 200, ReadBps: 1, WriteBps: 2, ReadIops: 3, WriteIops: 4}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := XMLLimits(limitsDomain(t, tc.xml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("XMLLimits(%s) =\n%+v, want\n%+v", tc.xml, got, tc.want)
			}
		})
	}
	if _, err := XMLLimits(limitsDomain(t, `<memtune><hard_limit unit='parsec'>1</hard_limit></memtune>`)); err == nil || !strings.Contains(err.Error(), "unknown unit") {
		t.Fatalf("a bad unit: %v, want unknown unit", err)
	}
}

// TestLimitsRoundTrip: each element read into Limits and written back
// gives the same XML (sizes as libvirt writes them, in KiB), and writing
// the zero Limits removes the element.
func TestLimitsRoundTrip(t *testing.T) {
	type rw struct {
		read  func(*libvirtxml.Domain) (plan.Limits, error)
		write func(*libvirtxml.Domain, plan.Limits)
	}
	memtune := rw{Memtune, SetMemtune}
	cputune := rw{func(x *libvirtxml.Domain) (plan.Limits, error) { return Cputune(x), nil }, SetCputune}
	blkio := rw{func(x *libvirtxml.Domain) (plan.Limits, error) { return Blkiotune(x), nil }, SetBlkiotune}
	for _, tc := range []struct {
		name, xml string
		rw        rw
	}{
		{"hard_limit", `<memtune><hard_limit unit="KiB">65536</hard_limit></memtune>`, memtune},
		{"soft_limit", `<memtune><soft_limit unit="KiB">1024</soft_limit></memtune>`, memtune},
		{"swap_hard_limit", `<memtune><swap_hard_limit unit="KiB">2048</swap_hard_limit></memtune>`, memtune},
		{"memtune all", `<memtune><hard_limit unit="KiB">4096</hard_limit><soft_limit unit="KiB">1024</soft_limit><swap_hard_limit unit="KiB">8192</swap_hard_limit></memtune>`, memtune},
		{"shares", `<cputune><shares>512</shares></cputune>`, cputune},
		{"period", `<cputune><period>50000</period></cputune>`, cputune},
		{"quota", `<cputune><quota>25000</quota></cputune>`, cputune},
		{"no quota", `<vcpu>2</vcpu><cputune><quota>-1</quota></cputune>`, cputune},
		{"cputune all", `<cputune><shares>100</shares><period>10000</period><quota>5000</quota></cputune>`, cputune},
		{"blkio weight", `<blkiotune><weight>300</weight></blkiotune>`, blkio},
		{"blkio devices", `<blkiotune><device><path>/dev/sda</path><weight>200</weight><read_iops_sec>3</read_iops_sec><write_iops_sec>4</write_iops_sec><read_bytes_sec>1</read_bytes_sec><write_bytes_sec>2</write_bytes_sec></device><device><path>/dev/sdb</path><read_bytes_sec>7</read_bytes_sec></device></blkiotune>`, blkio},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := limitsDomain(t, tc.xml)
			l, err := tc.rw.read(in)
			if err != nil {
				t.Fatal(err)
			}
			out := limitsDomain(t, tc.xml)
			out.MemoryTune, out.CPUTune, out.BlockIOTune = nil, nil, nil
			tc.rw.write(out, l)
			want, err := in.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got, err := out.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("round trip of %s gave %s", want, got)
			}
			tc.rw.write(out, plan.Limits{})
			if out.MemoryTune != nil || out.CPUTune != nil || out.BlockIOTune != nil {
				t.Fatalf("writing no limits left %+v %+v %+v", out.MemoryTune, out.CPUTune, out.BlockIOTune)
			}
		})
	}
}

// TestSetCputuneNoQuota: without a <vcpu> count "no quota" is no
// element, the form with every value at its default.
func TestSetCputuneNoQuota(t *testing.T) {
	x := limitsDomain(t, `<cputune><quota>-1</quota></cputune>`)
	SetCputune(x, Cputune(x))
	if x.CPUTune != nil {
		t.Fatalf("cputune = %+v, want none", x.CPUTune)
	}
}

// TestSetCputuneKeepsOtherChildren: <cputune> stays when it holds more
// than the three values the mapping owns.
func TestSetCputuneKeepsOtherChildren(t *testing.T) {
	x := limitsDomain(t, `<cputune><shares>5</shares><vcpupin vcpu='0' cpuset='0'/></cputune>`)
	SetCputune(x, plan.Limits{})
	if x.CPUTune == nil || x.CPUTune.Shares != nil || len(x.CPUTune.VCPUPin) != 1 {
		t.Fatalf("cputune = %+v", x.CPUTune)
	}
}
