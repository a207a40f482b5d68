package procfs

import (
	"fmt"
	"strings"
)

// The served tree, the same for the host's readers (at the mount's root)
// and for each guest (at guests/NAME): a top directory, the directories
// of Files and Files themselves, plus guests/ at the root alone. Each
// entry has a local index; a node id is
//
//	(slot << localBits | local) + 1
//
// where slot 0 is the host's tree (the root is then node id 1, FUSE's
// root) and slots from 1 are the guests' trees, one per registered guest
// (server.slots). So a node id names its entry with no table per node.

// treeEntry is one entry of the tree.
type treeEntry struct {
	name   string
	parent int // local index of its directory; -1 for the top
	file   int // index in Files; -1 for a directory
}

// localBits is the width of the local index in a node id.
const localBits = 5

// maxSlot is the highest slot a node id can hold.
const maxSlot = 1<<(64-localBits) - 2

var tree, guestsLocal = buildTree(Files)

// buildTree lays out the tree of files (relative paths): local 0 is the
// top, then the directories and files in the order of files, then
// guests/.
func buildTree(files []string) ([]treeEntry, int) {
	t := []treeEntry{{parent: -1, file: -1}}
	find := func(parent int, name string) int {
		for i, e := range t {
			if e.parent == parent && e.name == name {
				return i
			}
		}
		return -1
	}
	for i, f := range files {
		parts := strings.Split(f, "/")
		dir := 0
		for _, p := range parts[:len(parts)-1] {
			c := find(dir, p)
			if c < 0 {
				t = append(t, treeEntry{name: p, parent: dir, file: -1})
				c = len(t) - 1
			}
			dir = c
		}
		t = append(t, treeEntry{name: parts[len(parts)-1], parent: dir, file: i})
	}
	t = append(t, treeEntry{name: GuestsDir, parent: 0, file: -1})
	if len(t) > 1<<localBits {
		panic(fmt.Sprintf("procfs: %d tree entries do not fit in %d bits", len(t), localBits))
	}
	return t, len(t) - 1
}

// nodeID is the node id of entry local of the tree in slot.
func nodeID(slot uint64, local int) uint64 { return (slot<<localBits | uint64(local)) + 1 }

// splitID returns the slot and the local index a node id names; false
// for an id no entry has.
func splitID(id uint64) (slot uint64, local int, ok bool) {
	if id == 0 {
		return 0, 0, false
	}
	slot, local = (id-1)>>localBits, int((id-1)&(1<<localBits-1))
	return slot, local, local < len(tree) && visible(slot, local)
}

// visible reports whether the tree in slot has entry local: guests/ is
// the host's tree's alone.
func visible(slot uint64, local int) bool { return local != guestsLocal || slot == 0 }

// childOf returns the local index of the entry name in directory local of
// the tree in slot, -1 if none.
func childOf(slot uint64, local int, name string) int {
	for c, e := range tree {
		if e.parent == local && e.name == name && visible(slot, c) {
			return c
		}
	}
	return -1
}
