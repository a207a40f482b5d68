package procfs

import (
	"os"
	"path/filepath"
	"testing"

	"vmlite/internal/runfile"
)

// The server lock tells a running server: held (by anyone but the asker)
// is alive, free is dead.
func TestAliveAndRegistry(t *testing.T) {
	l := NewLayout(t.TempDir())
	if err := os.MkdirAll(l.Dir, 0o711); err != nil {
		t.Fatal(err)
	}
	if l.Alive() {
		t.Fatal("alive without a server")
	}
	lk, err := runfile.Lock(l.ServerLock())
	if err != nil {
		t.Fatal(err)
	}
	if !l.Alive() {
		t.Fatal("not alive while the server lock is held")
	}
	// With a live server Attach only registers: nothing is spawned.
	if err := l.Attach(Entry{Name: "a", Partition: "/machine", CgroupDir: "a.1"}, filepath.Join(t.TempDir(), "log")); err != nil {
		t.Fatal(err)
	}
	if err := l.Register(Entry{Name: "b", CgroupDir: "b.1", InitPID: 7}); err != nil {
		t.Fatal(err)
	}
	if err := l.Register(Entry{Name: "c", CgroupDir: "../x"}); err == nil {
		t.Error("an entry whose cgroup leaves vmlite's tree was registered")
	}
	// Half-written files and entries under another name are not guests.
	_ = os.WriteFile(filepath.Join(l.GuestsDir(), ".a.tmp1"), []byte(`{"name":"z"}`), 0o600)
	_ = os.WriteFile(filepath.Join(l.GuestsDir(), "d"), []byte(`{"name":"e","cgroupName":"e"}`), 0o600)
	ents, err := l.Entries()
	if err != nil || len(ents) != 2 || ents[0].Name != "a" || ents[1].Name != "b" || ents[1].InitPID != 7 {
		t.Fatalf("entries %+v, %v", ents, err)
	}
	if err := l.Leave("a"); err != nil {
		t.Fatal(err)
	}
	if err := l.Unregister("nope"); err != nil {
		t.Fatal(err)
	}
	lk.Close()
	if l.Alive() {
		t.Fatal("alive after the server lock went")
	}
}

func TestMatch(t *testing.T) {
	a, b := &served{e: Entry{Name: "a"}}, &served{e: Entry{Name: "b"}}
	byRel := map[string]*served{"vmlite/machine/a.1": a, "vmlite/other/deep/b.1": b}
	for path, want := range map[string]*served{
		"/vmlite/machine/a.1":                    a,
		"/vmlite/machine/a.1/init.scope":         a,
		"/vmlite/machine/a.1/system.slice/x.svc": a,
		"/vmlite/other/deep/b.1":                 b,
		"/vmlite/machine/a.10":                   nil,
		"/vmlite/machine":                        nil,
		"/":                                      nil,
		"/user.slice":                            nil,
	} {
		if got := match(byRel, path); got != want {
			t.Errorf("match(%q) = %v, want %v", path, got, want)
		}
	}
}

// BenchmarkAttachRunning is the start-path cost when the server runs: the
// host-wide lock, one small registry file, the liveness check.
func BenchmarkAttachRunning(b *testing.B) {
	l := NewLayout(b.TempDir())
	_ = os.MkdirAll(l.Dir, 0o711)
	lk, err := runfile.Lock(l.ServerLock())
	if err != nil {
		b.Fatal(err)
	}
	defer lk.Close()
	log := filepath.Join(b.TempDir(), "log")
	for b.Loop() {
		if err := l.Attach(Entry{Name: "g", Partition: "/machine", CgroupDir: "g.1"}, log); err != nil {
			b.Fatal(err)
		}
	}
}
