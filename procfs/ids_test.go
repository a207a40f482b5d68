package procfs

import (
	"path"
	"testing"
)

// pathOf is the path of entry local from its tree's top.
func pathOf(local int) string {
	if local == 0 {
		return ""
	}
	return path.Join(pathOf(tree[local].parent), tree[local].name)
}

func TestTree(t *testing.T) {
	if tree[0].parent != -1 || tree[0].file != -1 {
		t.Fatalf("entry 0 is not the top: %+v", tree[0])
	}
	if nodeID(0, 0) != 1 {
		t.Fatalf("the root's node id is %d, FUSE's root is 1", nodeID(0, 0))
	}
	files := 0
	for local, e := range tree {
		if e.file >= 0 {
			files++
			if got := pathOf(local); got != Files[e.file] {
				t.Errorf("entry %d is %q, want %q", local, got, Files[e.file])
			}
		}
	}
	if files != len(Files) {
		t.Errorf("%d files in the tree, want %d", files, len(Files))
	}
	if pathOf(guestsLocal) != GuestsDir {
		t.Errorf("guests entry is %q", pathOf(guestsLocal))
	}
	for _, tc := range []struct {
		slot  uint64
		dir   string
		name  string
		found bool
	}{
		{0, "", "proc", true},
		{0, "", GuestsDir, true},
		{3, "", GuestsDir, false}, // a guest's tree has no guests/
		{3, "", "sys", true},
		{0, "proc", "meminfo", true},
		{7, "sys/devices/system/cpu", "online", true},
		{0, "proc", "self", false},
		{0, "proc/meminfo", "x", false}, // a file has no entries
		{0, "", "..", false},
	} {
		dir := -1
		for local := range tree {
			if pathOf(local) == tc.dir {
				dir = local
			}
		}
		c := childOf(tc.slot, dir, tc.name)
		if (c >= 0) != tc.found {
			t.Errorf("slot %d: %s/%s found at %d, want found %v", tc.slot, tc.dir, tc.name, c, tc.found)
		}
		if c >= 0 && pathOf(c) != path.Join(tc.dir, tc.name) {
			t.Errorf("slot %d: %s/%s is entry %d, %q", tc.slot, tc.dir, tc.name, c, pathOf(c))
		}
	}
}

func TestNodeIDs(t *testing.T) {
	for _, slot := range []uint64{0, 1, 2, 1000, maxSlot} {
		for local := range tree {
			slot2, local2, ok := splitID(nodeID(slot, local))
			if want := visible(slot, local); ok != want {
				t.Errorf("slot %d entry %d: ok %v, want %v", slot, local, ok, want)
			}
			if ok && (slot2 != slot || local2 != local) {
				t.Errorf("slot %d entry %d came back as %d, %d", slot, local, slot2, local2)
			}
		}
	}
	for _, id := range []uint64{0, uint64(len(tree)) + 1, 1<<localBits + uint64(guestsLocal) + 1} {
		if s, l, ok := splitID(id); ok {
			t.Errorf("node id %d names slot %d entry %d", id, s, l)
		}
	}
}

// FuzzSplitID: any node id the kernel sends either names an entry that
// exists, whose id it is, or none.
func FuzzSplitID(f *testing.F) {
	for _, id := range []uint64{0, 1, 2, 15, 16, 33, 1 << 63, ^uint64(0)} {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id uint64) {
		slot, local, ok := splitID(id)
		if !ok {
			return
		}
		if local < 0 || local >= len(tree) || !visible(slot, local) {
			t.Fatalf("id %d: slot %d entry %d accepted", id, slot, local)
		}
		if nodeID(slot, local) != id {
			t.Fatalf("id %d: slot %d entry %d is id %d", id, slot, local, nodeID(slot, local))
		}
	})
}
