package procfs

import (
	"errors"
	"io"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/internal/testutil"
)

// mountForTest mounts a server of l's registry at l's mountpoint, for the
// test's life.
func mountForTest(t *testing.T, l Layout) (*View, *server) {
	t.Helper()
	testutil.RequireRoot(t)
	mnt := l.Mountpoint()
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	// The host's cgroup tree: only its layout is read (no guest cgroup
	// is made: nothing reads as a guest here).
	mode, err := cgroup.Detect()
	if err != nil {
		t.Fatal(err)
	}
	v := NewView(l, mode, cgroup.DefaultRoot, "/", Boottime)
	conn, srv, err := mount(mnt, v, log.New(io.Discard, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- conn.Serve() }()
	t.Cleanup(func() {
		// The unmount ends the connection, and so Serve.
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("serve did not end with the unmount")
		}
		conn.Close()
	})
	return v, srv
}

func ino(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// The tree as a reader walks it: the host's files at the root, a tree per
// registered guest with inodes of its own, read-only, listed.
func TestServerTree(t *testing.T) {
	l := NewLayout(t.TempDir())
	for _, n := range []string{"b", "a"} {
		if err := l.Register(Entry{Name: n, Partition: "/tree-test", CgroupDir: n}); err != nil {
			t.Fatal(err)
		}
	}
	mountForTest(t, l)
	mnt := l.Mountpoint()
	names := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	if got, want := names(mnt), []string{GuestsDir, "proc", "sys"}; !reflect.DeepEqual(got, want) {
		t.Errorf("the root lists %v, want %v", got, want)
	}
	if got, want := names(filepath.Join(mnt, GuestsDir)), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("guests/ lists %v, want %v", got, want)
	}
	if got, want := names(l.GuestFiles("a")), []string{"proc", "sys"}; !reflect.DeepEqual(got, want) {
		t.Errorf("a guest's tree lists %v, want %v (no guests/ of its own)", got, want)
	}
	if got := names(filepath.Join(l.GuestFiles("a"), "proc")); len(got) != 7 {
		t.Errorf("a guest's proc/ lists %v", got)
	}
	// Each tree its own inodes (what keeps guests' page cache apart).
	seen := map[uint64]string{}
	for _, p := range []string{mnt, l.GuestFiles("a"), l.GuestFiles("b")} {
		for _, f := range Files {
			fp := filepath.Join(p, f)
			i := ino(t, fp)
			if other, ok := seen[i]; ok {
				t.Errorf("%s and %s have the same inode %d", fp, other, i)
			}
			seen[i] = fp
			fi, err := os.Stat(fp)
			if err != nil || fi.Mode() != 0o444 {
				t.Errorf("%s: %v, %v: want a regular file, 0444", fp, fi.Mode(), err)
			}
		}
	}
	// A reader of no guest (this test) reads the host's files.
	mine, err := os.ReadFile(filepath.Join(l.GuestFiles("a"), "proc/meminfo"))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.ReadFile("/proc/meminfo")
	if first := func(b []byte) string { return strings.SplitN(string(b), "\n", 2)[0] }; first(mine) != first(host) {
		t.Errorf("a host reader read %q, the host's is %q", first(mine), first(host))
	}
	for _, p := range []string{
		filepath.Join(mnt, GuestsDir, "nobody"),
		filepath.Join(l.GuestFiles("a"), GuestsDir),
		filepath.Join(mnt, "proc/self"),
		filepath.Join(mnt, "proc/meminfo/x"),
	} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists", p)
		}
	}
	if _, err := os.OpenFile(filepath.Join(mnt, "proc/meminfo"), os.O_WRONLY, 0); !errors.Is(err, syscall.EROFS) {
		t.Errorf("open for writing: %v, want EROFS", err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(l.GuestFiles("b"), &st); err != nil || st.Type != fuseMagic {
		t.Errorf("statfs: type %x, %v", st.Type, err)
	}
}
