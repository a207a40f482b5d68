package supervisor

import (
	"slices"
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
