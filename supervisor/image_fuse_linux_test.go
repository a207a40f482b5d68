package supervisor

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vmlite/plan"
)

// TestQSDArgs: qemu-storage-daemon's command line for an image, with
// commas in paths doubled (qemu's option syntax) and read-only images
// opened and exported read-only.
func TestQSDArgs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		img    plan.Image
		export string
		ro     bool
		want   []string
	}{
		{"writable", plan.Image{File: "/img/a.qcow2", Driver: "nbd", Format: "qcow2"}, "/run/g/image1.fuse", false, []string{
			"--blockdev", "driver=file,node-name=file,filename=/img/a.qcow2",
			"--blockdev", "driver=qcow2,node-name=image,file=file",
			"--export", "type=fuse,id=export,node-name=image,mountpoint=/run/g/image1.fuse,writable=on",
		}},
		{"read-only", plan.Image{File: "/img/b.vmdk", Driver: "nbd", Format: "vmdk"}, "/run/g/image2.fuse", true, []string{
			"--blockdev", "driver=file,node-name=file,filename=/img/b.vmdk,read-only=on",
			"--blockdev", "driver=vmdk,node-name=image,file=file,read-only=on",
			"--export", "type=fuse,id=export,node-name=image,mountpoint=/run/g/image2.fuse,writable=off",
		}},
		{"commas", plan.Image{File: "/img/a,driver=raw.qcow2", Driver: "nbd", Format: "qcow2"}, "/run/g,x/image3.fuse", false, []string{
			"--blockdev", "driver=file,node-name=file,filename=/img/a,,driver=raw.qcow2",
			"--blockdev", "driver=qcow2,node-name=image,file=file",
			"--export", "type=fuse,id=export,node-name=image,mountpoint=/run/g,,x/image3.fuse,writable=on",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := qsdArgs(&tc.img, tc.export, tc.ro); !slices.Equal(got, tc.want) {
				t.Errorf("qsdArgs:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestOrphanExport: the export a dead supervisor's qemu-storage-daemon
// serves is found from its command line, and only in the guest's own
// runtime directory.
func TestOrphanExport(t *testing.T) {
	img := &plan.Image{File: "/img/a.qcow2", Driver: "nbd", Format: "qcow2"}
	qsd := func(export string) []string {
		return append([]string{"/usr/bin/qemu-storage-daemon"}, qsdArgs(img, export, false)...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ours", qsd("/run/g/image1.fuse"), "/run/g/image1.fuse"},
		{"comma in the path", qsd("/run/g,h/image2.fuse"), ""},
		{"another guest's", qsd("/run/other/image1.fuse"), ""},
		{"not an export file", qsd("/run/g/root"), ""},
		{"another program", []string{"/bin/sleep", "--export", "mountpoint=/run/g/image1.fuse"}, ""},
		{"no export", []string{"qemu-storage-daemon", "--export"}, ""},
		{"empty", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := orphanExport(tc.args, "/run/g"); got != tc.want {
				t.Errorf("orphanExport(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
	if got := orphanExport(qsd("/run/g,h/image2.fuse"), "/run/g,h"); got != "/run/g,h/image2.fuse" {
		t.Errorf("a runtime directory with a comma: %q", got)
	}
}

// FuzzOrphanExport: whatever the paths, the export qsdArgs writes into a
// command line is the one orphanExport reads back, and a command line
// never makes it panic or name a file outside the runtime directory.
func FuzzOrphanExport(f *testing.F) {
	f.Add("/run/g", "image1.fuse", "/img/a.qcow2")
	f.Add("/run/g,h", "image2.fuse", "/img/a,,b")
	f.Add("/run/g", "image,mountpoint=/etc/x.fuse", "x")
	f.Fuzz(func(t *testing.T, runDir, base, file string) {
		export := filepath.Join(runDir, base)
		args := append([]string{"qemu-storage-daemon"}, qsdArgs(&plan.Image{File: file, Format: "qcow2"}, export, false)...)
		got := orphanExport(args, runDir)
		if got != "" && filepath.Dir(got) != runDir {
			t.Fatalf("orphanExport named %q outside %q", got, runDir)
		}
		ours := filepath.Dir(export) == runDir && strings.HasPrefix(filepath.Base(export), "image") && strings.HasSuffix(export, ".fuse") && !strings.Contains(export, "\x00")
		if ours && got != export {
			t.Fatalf("orphanExport(%q) = %q, want %q", args, got, export)
		}
		_ = orphanExport(strings.Split(runDir+"\x00"+base+"\x00"+file, "\x00"), runDir)
	})
}
