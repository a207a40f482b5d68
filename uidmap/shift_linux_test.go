package uidmap

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
	"vmlite/plan"
)

// owned is a path of the test tree and the ids it is made with.
type owned struct {
	path     string
	uid, gid uint32
}

// makeTree builds a tree with directories, files of several owners, a
// setuid file, a symlink to a file outside the tree, a hard link and a file
// with a POSIX ACL and a file capability.
func makeTree(t *testing.T) (tree, outside string, files []owned) {
	t.Helper()
	base := t.TempDir()
	tree = filepath.Join(base, "tree")
	outside = filepath.Join(base, "outside")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(outside, []byte("not in the tree"), 0o644))
	must(os.MkdirAll(filepath.Join(tree, "etc", "deep", "er"), 0o755))
	files = []owned{
		{".", 0, 0}, {"etc", 0, 0}, {"etc/deep", 1000, 100}, {"etc/deep/er", 33, 33},
		{"etc/passwd", 0, 0}, {"etc/deep/user", 1000, 1000}, {"etc/nobody", 65534, 65534},
		{"suid", 0, 0}, {"acl", 0, 0}, {"capfile", 0, 0},
	}
	for _, f := range files[4:] {
		must(os.WriteFile(filepath.Join(tree, f.path), []byte(f.path), 0o644))
	}
	must(unix.Chmod(filepath.Join(tree, "suid"), 0o4755))
	must(os.Link(filepath.Join(tree, "etc/deep/user"), filepath.Join(tree, "hardlink")))
	must(os.Symlink(outside, filepath.Join(tree, "link-out")))
	files = append(files, owned{"link-out", 0, 0})
	for _, f := range files {
		must(os.Lchown(filepath.Join(tree, f.path), int(f.uid), int(f.gid)))
	}
	must(unix.Chmod(filepath.Join(tree, "suid"), 0o4755)) // chown cleared it
	must(unix.Setxattr(filepath.Join(tree, "acl"), xattrACL, acl(
		[3]uint32{0x01, 6, 0xffffffff}, [3]uint32{aclUser, 6, 1000}, [3]uint32{0x04, 4, 0xffffffff},
		[3]uint32{0x10, 6, 0xffffffff}, [3]uint32{0x20, 4, 0xffffffff}), 0))
	capv := make([]byte, 20)
	binary.LittleEndian.PutUint32(capv, 0x02000001) // v2, effective
	binary.LittleEndian.PutUint32(capv[4:], 1<<10)  // CAP_NET_BIND_SERVICE
	must(unix.Setxattr(filepath.Join(tree, "capfile"), xattrCap, capv, 0))
	return tree, outside, files
}

// checkTree asserts that every file's stored ids are its original ones
// under map m, and what chown would lose survived.
func checkTree(t *testing.T, tree, outside string, files []owned, m plan.IDMap) {
	t.Helper()
	u, g := NewTranslator(plan.IDMap{}, m, UID), NewTranslator(plan.IDMap{}, m, GID)
	for _, f := range files {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(tree, f.path), &st); err != nil {
			t.Fatal(err)
		}
		wu, _ := u.Map(f.uid)
		wg, _ := g.Map(f.gid)
		if st.Uid != wu || st.Gid != wg {
			t.Errorf("%s: %d:%d, want %d:%d (map %s)", f.path, st.Uid, st.Gid, wu, wg, String(m))
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(tree, "suid"), &st); err != nil || st.Mode&0o7777 != 0o4755 {
		t.Errorf("suid mode %o, %v", st.Mode&0o7777, err)
	}
	if err := unix.Stat(outside, &st); err != nil || st.Uid != 0 {
		t.Errorf("the symlink's target outside the tree changed owner: %d, %v", st.Uid, err)
	}
	a := getxattr(filepath.Join(tree, "acl"), xattrACL)
	wantUser, _ := u.Map(1000)
	if len(a) != 44 || binary.LittleEndian.Uint32(a[4+8+4:]) != wantUser {
		t.Errorf("acl user entry %x, want uid %d", a, wantUser)
	}
	if c := getxattr(filepath.Join(tree, "capfile"), xattrCap); len(c) < 8 || binary.LittleEndian.Uint32(c[4:]) != 1<<10 {
		t.Errorf("file capability lost: %x", c)
	}
}

func TestShiftTree(t *testing.T) {
	testutil.RequireRoot(t)
	tree, outside, files := makeTree(t)
	dir := filepath.Join(t.TempDir(), "idshift")
	m1 := both(one(0, 100000, 65536))
	m2 := both([]plan.IDRange{{Start: 0, Target: 200000, Count: 1000}, {Start: 1000, Target: 300000, Count: 64536}})

	s, err := shiftNow(dir, tree, m1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Changed != len(files)+0 || s.Unmapped != 0 {
		t.Errorf("first shift: %+v (want %d changed: the hard link is one inode)", s, len(files))
	}
	checkTree(t, tree, outside, files, m1)
	if rec, ok, err := ReadRecord(dir, tree); err != nil || !ok || !Equal(rec.Map, m1) {
		t.Fatalf("record after shift: %+v, %v, %v", rec, ok, err)
	}
	if s, err := shiftNow(dir, tree, m1); err != nil || s.Changed != 0 {
		t.Errorf("same map again: %+v, %v; want nothing done", s, err)
	}
	if _, err := shiftNow(dir, tree, m2); err != nil {
		t.Fatal(err)
	}
	checkTree(t, tree, outside, files, m2)

	// Interrupted, then resumed towards the same target.
	failAfter = 4
	_, err = shiftNow(dir, tree, plan.IDMap{})
	failAfter = 0
	if !errors.Is(err, errInjected) {
		t.Fatalf("interrupted shift: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyOf(t, tree)+".journal")); err != nil {
		t.Fatalf("no journal after an interrupted shift: %v", err)
	}
	s, err = shiftNow(dir, tree, plan.IDMap{})
	if err != nil || !s.Resumed {
		t.Fatalf("resume: %+v, %v", s, err)
	}
	checkTree(t, tree, outside, files, plan.IDMap{})

	// Interrupted, then asked for another map: the pending shift finishes
	// first, then the new one runs from there.
	failAfter = 3
	_, err = shiftNow(dir, tree, m1)
	failAfter = 0
	if !errors.Is(err, errInjected) {
		t.Fatalf("interrupted shift: %v", err)
	}
	s, err = shiftNow(dir, tree, m2)
	if err != nil || !s.Resumed || !Equal(s.From, m1) {
		t.Fatalf("resume then re-shift: %+v, %v", s, err)
	}
	checkTree(t, tree, outside, files, m2)
	if _, err := os.Stat(filepath.Join(dir, keyOf(t, tree)+".journal")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal left after a completed shift: %v", err)
	}

	// Back to the identity: every id is the original again.
	if _, err := shiftNow(dir, tree, plan.IDMap{}); err != nil {
		t.Fatal(err)
	}
	checkTree(t, tree, outside, files, plan.IDMap{})
}

// TestShiftUnmapped: an id the map cannot carry ends as nobody, counted.
func TestShiftUnmapped(t *testing.T) {
	testutil.RequireRoot(t)
	tree := t.TempDir()
	f := filepath.Join(tree, "far")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(f, 70000, 70000); err != nil {
		t.Fatal(err)
	}
	s, err := shiftNow(filepath.Join(t.TempDir(), "rec"), tree, both(one(0, 100000, 65536)))
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(f, &st); err != nil || st.Uid != 100000+OverflowID || s.Unmapped != 1 {
		t.Errorf("far: uid %d, stats %+v, %v", st.Uid, s, err)
	}
}

// TestShiftOtherTreeAtPath: a record of a tree that was replaced by another
// at the same path does not apply to the new one.
func TestShiftOtherTreeAtPath(t *testing.T) {
	testutil.RequireRoot(t)
	base := t.TempDir()
	tree, dir := filepath.Join(base, "t"), filepath.Join(base, "rec")
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := shiftNow(dir, tree, both(one(0, 100000, 65536))); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(tree); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(tree, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadRecord(dir, tree); ok || err != nil {
		t.Errorf("record of the old tree applied to the new one (%v)", err)
	}
	if old, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(old) != 1 {
		t.Errorf("records: %v, want the old tree's only", old)
	}
}

// TestShiftLargeTree: directories larger than one batch, many directories,
// and the time it takes (logged: the shift runs at boot).
func TestShiftLargeTree(t *testing.T) {
	testutil.RequireRoot(t)
	tree := t.TempDir()
	n := 0
	for d := 0; d < 200; d++ {
		dir := filepath.Join(tree, "d"+strconv.Itoa(d))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		files := 10
		if d == 0 {
			files = batchSize*2 + 7 // three batches
		}
		for f := 0; f < files; f++ {
			if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(f)), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	start := time.Now()
	s, err := shiftNow(filepath.Join(t.TempDir(), "rec"), tree, both(one(0, 100000, 65536)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shifted %d inodes in %v", s.Inodes, time.Since(start).Round(time.Millisecond))
	if s.Inodes != n+200+1 || s.Changed != s.Inodes {
		t.Errorf("stats %+v, want %d inodes", s, n+201)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(tree, "d0", strconv.Itoa(batchSize*2+6)), &st); err != nil || st.Uid != 100000 {
		t.Errorf("last file of the big directory: uid %d, %v", st.Uid, err)
	}
}

// keyOf is tree's record name stem.
func keyOf(t *testing.T, tree string) string {
	t.Helper()
	_, id, err := treeIdentity(tree)
	if err != nil {
		t.Fatal(err)
	}
	return id.key()
}

// TestShiftAliasAndNesting: a tree reached by another path has the same
// record (no second shift); a tree inside a shifted one is refused.
func TestShiftAliasAndNesting(t *testing.T) {
	testutil.RequireRoot(t)
	base := t.TempDir()
	tree, dir := filepath.Join(base, "t"), filepath.Join(base, "rec")
	if err := os.MkdirAll(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	alias := filepath.Join(base, "alias")
	if err := os.Mkdir(alias, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(tree, alias, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(alias, unix.MNT_DETACH) })
	m := both(one(0, 100000, 65536))
	if _, err := shiftNow(dir, tree, m); err != nil {
		t.Fatal(err)
	}
	if s, err := shiftNow(dir, alias, m); err != nil || s.Changed != 0 {
		t.Errorf("the same tree through a bind mount: %+v, %v; want nothing to do", s, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(tree, "sub"), &st); err != nil || st.Uid != 100000 {
		t.Errorf("sub: uid %d (%v), want 100000 (shifted once)", st.Uid, err)
	}
	if _, err := shiftNow(dir, filepath.Join(tree, "sub"), m); err == nil {
		t.Error("a tree inside a shifted tree was shifted separately")
	}
	if _, err := shiftNow(dir, base, m); err == nil {
		t.Error("a tree around a shifted tree was shifted")
	}
}

// TestShiftSkipsBindMounts: a bind mount below the tree, even of the same
// filesystem, is another tree: its files keep their owners.
func TestShiftSkipsBindMounts(t *testing.T) {
	testutil.RequireRoot(t)
	base := t.TempDir()
	tree, outside := filepath.Join(base, "t"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(tree, "mnt"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "host-file")
	if err := os.WriteFile(secret, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(outside, filepath.Join(tree, "mnt"), "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(filepath.Join(tree, "mnt"), unix.MNT_DETACH) })
	s, err := shiftNow(filepath.Join(base, "rec"), tree, both(one(0, 100000, 65536)))
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(secret, &st); err != nil || st.Uid != 0 {
		t.Errorf("a file of the bind-mounted host directory got uid %d (%v)", st.Uid, err)
	}
	if s.Inodes != 1 { // the tree's root; mnt is covered by the other mount
		t.Errorf("stats %+v, want the root only", s)
	}
}

// shiftNow shifts and lets go of the tree's lock at once.
func shiftNow(dir, tree string, to plan.IDMap) (Stats, error) {
	s, lock, err := Shift(dir, tree, to)
	if lock != nil {
		lock.Close()
	}
	return s, err
}

// TestShiftInUse: while one guest holds a tree, another may use it with the
// same owners but not shift it to others.
func TestShiftInUse(t *testing.T) {
	testutil.RequireRoot(t)
	tree, dir := t.TempDir(), filepath.Join(t.TempDir(), "rec")
	m1, m2 := both(one(0, 100000, 65536)), both(one(0, 200000, 65536))
	_, held, err := Shift(dir, tree, m1)
	if err != nil || held == nil {
		t.Fatalf("Shift: %v, lock %v", err, held)
	}
	if _, err := shiftNow(dir, tree, m1); err != nil {
		t.Errorf("the same owners while held: %v", err)
	}
	if _, err := shiftNow(dir, tree, m2); !errors.Is(err, ErrInUse) {
		t.Errorf("other owners while held: %v, want ErrInUse", err)
	}
	held.Close()
	if _, err := shiftNow(dir, tree, m2); err != nil {
		t.Errorf("other owners once released: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(tree, &st); err != nil || st.Uid != 200000 {
		t.Errorf("tree uid %d (%v), want 200000", st.Uid, err)
	}
}
