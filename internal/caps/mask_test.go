package caps

import "testing"

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  uint64
		err   bool
	}{
		{nil, 0, false},
		{[]string{"CAP_CHOWN"}, 1, false},
		{[]string{"sys_admin", "CAP_SYS_CHROOT"}, 1<<21 | 1<<18, false},
		{[]string{"CAP_CHECKPOINT_RESTORE"}, 1 << 40, false},
		{[]string{"CAP_NOPE"}, 0, true},
	} {
		got, err := Mask(tc.names)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Mask(%v) = %#x, %v; want %#x, error %v", tc.names, got, err, tc.want, tc.err)
		}
	}
}
