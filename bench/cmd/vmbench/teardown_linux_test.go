package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeVmlite is a vmlite for the clean-up's calls: its guests are the
// lines "NAME STATE" of $VMLITE_ROOT/guests; the first listing adds those
// of $VMLITE_ROOT/late (a start that was in flight); destroy removes a
// guest unless it is in $VMLITE_ROOT/stuck; one call at a time.
const fakeVmlite = `#!/bin/sh
g="$VMLITE_ROOT/guests"
exec 9>"$VMLITE_ROOT/lock"
flock 9 # the clean-up destroys several at once
case "$1" in
list)
	if [ -f "$VMLITE_ROOT/late" ] && [ ! -f "$VMLITE_ROOT/listed" ]; then
		: > "$VMLITE_ROOT/listed"; cat "$VMLITE_ROOT/late" >> "$g"
	fi
	printf '['; sep=''
	while read -r n s; do printf '%s{"name":"%s","state":"%s"}' "$sep" "$n" "$s"; sep=','; done < "$g"
	printf ']\n' ;;
destroy)
	grep -qx "$2" "$VMLITE_ROOT/stuck" 2>/dev/null && { echo "cannot destroy $2" >&2; exit 1; }
	grep -v "^$2 " "$g" > "$g.new"; mv "$g.new" "$g" ;;
start)
	echo "$2 running" >> "$g" ;;
esac
`

// fakePeer is a vmlite peer on the fake binary with guests (NAME STATE
// lines), late ones and stuck ones.
func fakePeer(t *testing.T, work string, guests, late, stuck []string) *vmlitePeer {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vmlite")
	root := filepath.Join(work, "vmlite-root")
	for path, lines := range map[string][]string{bin: {fakeVmlite}, filepath.Join(root, "guests"): guests, filepath.Join(root, "late"): late, filepath.Join(root, "stuck"): stuck} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(lines, "\n")
		if len(lines) > 0 && path != bin {
			text += "\n"
		}
		if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &vmlitePeer{label: "vmlite", bin: bin, root: root}
}

// TestDestroyAll: the clean-up destroys every guest not shut off,
// including one whose start was in flight at the first listing, and says
// which it could not.
func TestDestroyAll(t *testing.T) {
	p := fakePeer(t, t.TempDir(), []string{"vmb-a running", "vmb-b starting", "vmb-def shutoff"}, []string{"vmb-late running"}, nil)
	if left := p.destroyAll(time.Minute); len(left) != 0 {
		t.Errorf("left %v", left)
	}
	if names, err := p.activeGuests(); err != nil || len(names) != 0 {
		t.Errorf("after destroyAll: %v, %v", names, err)
	}
	stuck := fakePeer(t, t.TempDir(), []string{"vmb-a running", "vmb-s running"}, nil, []string{"vmb-s"})
	if left := stuck.destroyAll(0); strings.Join(left, ",") != "vmb-s" {
		t.Errorf("left %v, want vmb-s", left)
	}
}

// TestCleanupKeepsRootOfRunningGuests: the run's clean-up destroys its
// guests before it removes the scratch directory with their state root,
// and keeps it (a leftover in the results) while one still runs; once it
// has begun, no command that starts a guest runs: a start waits for its
// end (a section's goroutine stops there), then fails.
func TestCleanupKeepsRootOfRunningGuests(t *testing.T) {
	defer func(w time.Duration) { teardownWait = w }(teardownWait)
	teardownWait = 0
	t.Cleanup(func() {
		live.Lock()
		live.stopping, live.done, live.closed = false, make(chan struct{}), false
		live.Unlock()
	})
	work := t.TempDir()
	p := fakePeer(t, work, []string{"vmb-a running", "vmb-s running"}, nil, []string{"vmb-s"})
	b := &bench{work: work, vm: p, peers: []peer{p}, cgroups: cgroupDirs()}
	b.cleanup()
	if _, err := os.Stat(p.root); err != nil {
		t.Fatalf("the state root of a running guest went: %v", err)
	}
	if got := strings.Join(b.res.Leftovers, "\n"); !strings.Contains(got, "vmb-s") || strings.Contains(got, "vmb-a") {
		t.Errorf("leftovers %q, want vmb-s alone", got)
	}
	if _, err := runCmd(p.cmd("start", "vmb-new")); !errors.Is(err, errStopping) {
		t.Errorf("a start during the clean-up: %v, want refused", err)
	}
	if _, err := runCmd(p.cmd("destroy", "vmb-a")); err != nil {
		t.Errorf("a destroy during the clean-up: %v", err)
	}

	work2 := t.TempDir()
	p2 := fakePeer(t, work2, []string{"vmb-a running"}, nil, nil)
	b2 := &bench{work: work2, vm: p2, peers: []peer{p2}, cgroups: cgroupDirs()}
	b2.cleanup()
	if _, err := os.Stat(work2); !os.IsNotExist(err) {
		t.Errorf("the scratch directory stays with no guest left: %v", err)
	}
}
