package detachedfs

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
)

// TestTmpfs: the options, the read-only superblock and the mount
// attributes are the new tmpfs's; a bad option is refused naming it.
func TestTmpfs(t *testing.T) {
	testutil.RequireRoot(t)
	for _, tc := range []struct {
		name  string
		opts  [][2]string
		ro    bool
		attrs int
		mode  uint32
		mkdir error // from a mkdir in it
	}{
		{"writable", [][2]string{{"mode", "0700"}}, false, unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC, 0o700, nil},
		{"read-only superblock", [][2]string{{"mode", "0555"}, {"size", "4k"}}, true, unix.MOUNT_ATTR_NOSUID, 0o555, unix.EROFS},
		{"read-only mount", [][2]string{{"mode", "0755"}}, false, unix.MOUNT_ATTR_RDONLY, 0o755, unix.EROFS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mnt, err := Tmpfs(tc.opts, tc.ro, tc.attrs)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(mnt)
			var st unix.Statfs_t
			if err := unix.Fstatfs(mnt, &st); err != nil || st.Type != unix.TMPFS_MAGIC {
				t.Fatalf("statfs: type %#x, %v; want tmpfs", st.Type, err)
			}
			var fi unix.Stat_t
			if err := unix.Fstat(mnt, &fi); err != nil || fi.Mode&0o7777 != tc.mode {
				t.Errorf("mode %o, %v; want %o", fi.Mode&0o7777, err, tc.mode)
			}
			if err := unix.Mkdirat(mnt, "d", 0o755); !errors.Is(err, tc.mkdir) {
				t.Errorf("mkdir in it: %v, want %v", err, tc.mkdir)
			}
		})
	}
	if _, err := Tmpfs([][2]string{{"nosuchoption", "1"}}, false, 0); err == nil || !errors.Is(err, unix.EINVAL) {
		t.Errorf("a bad option: %v, want EINVAL from fsconfig nosuchoption", err)
	}
}
