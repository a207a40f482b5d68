package fuseraw

import (
	"testing"
	"unsafe"
)

// TestABISizes: the structs are the kernel's sizes (include/uapi/linux/fuse.h).
func TestABISizes(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"fuse_in_header", unsafe.Sizeof(InHeader{}), 40},
		{"fuse_out_header", unsafe.Sizeof(outHeader{}), 16},
		{"fuse_attr", unsafe.Sizeof(Attr{}), 88},
		{"fuse_entry_out", unsafe.Sizeof(EntryOut{}), 128},
		{"fuse_attr_out", unsafe.Sizeof(AttrOut{}), 104},
		{"fuse_open_out", unsafe.Sizeof(OpenOut{}), 16},
		{"fuse_getattr_in", unsafe.Sizeof(getattrIn{}), 16},
		{"fuse_open_in", unsafe.Sizeof(openIn{}), 8},
		{"fuse_read_in", unsafe.Sizeof(readIn{}), 40},
		{"fuse_release_in", unsafe.Sizeof(releaseIn{}), 24},
		{"fuse_init_in (7.31's part)", unsafe.Sizeof(initIn{}), 16},
		{"fuse_init_out", unsafe.Sizeof(initOut{}), 64},
		{"fuse_kstatfs", unsafe.Sizeof(statfsOut{}), 80},
		{"fuse_dirent", unsafe.Sizeof(dirent{}), 24},
		{"fuse_notify_inval_entry_out", unsafe.Sizeof(notifyInvalEntryOut{}), 16},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d bytes, the kernel's is %d", c.name, c.got, c.want)
		}
	}
}
