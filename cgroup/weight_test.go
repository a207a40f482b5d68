package cgroup

import (
	"os"
	"path/filepath"
	"testing"

	"vmlite/plan"
)

// TestBlkioWeightFake: the weight is read back from the file the kernel
// shows, whoever wrote it (v1's bare number, v2's "default N" line), and
// a host without a weight file reads 0.
func TestBlkioWeightFake(t *testing.T) {
	for _, tc := range []struct {
		mode       Mode
		file, body string
		want       uint64
	}{
		{V1, "blkio/blkio.bfq.weight", "700\n", 700},
		{V1, "blkio/blkio.weight", "250\n", 250},
		{V2, "io.weight", "default 300\n8:0 500\n", 300},
		{V2, "io.bfq.weight", "default 120\n", 120},
	} {
		t.Run(tc.mode.String()+"/"+filepath.Base(tc.file), func(t *testing.T) {
			root, f := fakeHost(t, tc.mode, []string{"cpu", "io", "memory", "pids"}, "io.weight")
			m := newFake(t, root, f, plan.Cgroup{Name: "g"})
			if err := m.Create(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Destroy() })
			if w, err := m.BlkioWeight(); err != nil || (tc.mode == V2 && w != 0) {
				t.Fatalf("before any weight file: %d, %v", w, err)
			}
			p := filepath.Join(m.leaf(m.hs[0]), tc.file)
			if tc.mode == V1 {
				h, rest := filepath.Dir(tc.file), filepath.Base(tc.file)
				p = filepath.Join(root, h, m.rel, rest)
				_ = os.Remove(filepath.Join(root, h, m.rel, "blkio.bfq.weight"))
			}
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			if w, err := m.BlkioWeight(); err != nil || w != tc.want {
				t.Errorf("BlkioWeight = %d, %v; want %d", w, err, tc.want)
			}
		})
	}
	if _, err := parseWeight("8:0 500\n"); err == nil {
		t.Error("a weight file with no default line parsed")
	}
}
