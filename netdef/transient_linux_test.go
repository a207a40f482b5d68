package netdef

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"vmlite/internal/errdefs"
	"vmlite/internal/nettest"
	"vmlite/state"
)

// TestTransientNetwork: Create starts a network with no stored definition
// (libvirt's net-create); it is listed, loaded and resolved as transient,
// refuses undefine and autostart, keeps its addresses in its runtime
// directory, and Destroy leaves nothing of it. Defining one that runs
// makes it persistent, with its addresses; undefining a persistent one
// that runs makes it transient.
func TestTransientNetwork(t *testing.T) {
	host := nettest.NewNetns(t)
	pfx := nettest.Net24(t)
	name := "t" + nettest.RandHex(t, 8)
	l := state.NewLayout(t.TempDir())
	doc := fmt.Sprintf(`<network><name>%s</name><ip address='%s.1' prefix='24'><dhcp><range start='%s.10' end='%s.20'/></dhcp></ip></network>`, name, pfx, pfx, pfx)
	var n *Network
	if err := nettest.RunIn(host, func() (err error) { n, err = Create(l, "t.xml", []byte(doc)); return }); err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if Active(l, name) {
			if err := nettest.RunIn(host, func() error { return Destroy(l, name) }); err != nil {
				t.Errorf("destroy at cleanup: %v", err)
			}
		}
	})
	if !n.Transient || !Active(l, name) || !nettest.LinkIn(t, host, n.Bridge) {
		t.Fatalf("after Create: transient %v, active %v", n.Transient, Active(l, name))
	}
	if _, err := os.Stat(defFile(l, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Create stored a definition: %v", err)
	}
	got, err := Load(l, name)
	if err != nil || !got.Transient || got.UUID != n.UUID || got.Bridge != n.Bridge {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	ns, err := List(l)
	if err != nil || len(ns) != 1 || ns[0].Name != name || !ns[0].Transient {
		t.Fatalf("List = %v, %v", ns, err)
	}
	for what, err := range map[string]error{
		"Undefine":     Undefine(l, name),
		"SetAutostart": SetAutostart(l, name, true),
	} {
		if !errors.Is(err, ErrTransient) || !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%s of a transient network: %v, want ErrTransient", what, err)
		}
	}
	if Autostart(l, name) {
		t.Error("a transient network got an autostart mark")
	}
	// The same name again, or its UUID or bridge under another name, is refused.
	for _, again := range []string{doc,
		fmt.Sprintf(`<network><name>x%s</name><uuid>%s</uuid></network>`, name, n.UUID),
		fmt.Sprintf(`<network><name>x%s</name><bridge name='%s'/></network>`, name, n.Bridge)} {
		err := nettest.RunIn(host, func() error { _, err := Create(l, "again.xml", []byte(again)); return err })
		if !errors.Is(err, errdefs.ErrAlreadyRunning) && !errors.Is(err, errdefs.ErrAlreadyExists) {
			t.Errorf("Create of %s: %v, want a conflict", again, err)
		}
	}
	ip, err := allocIn(host, got, "dddddddd-0000-4000-8000-"+nettest.RandHex(t, 12), "52:54:00:00:00:09")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(transientAllocFile(l, name)); err != nil {
		t.Errorf("a transient network's address record: %v", err)
	}
	if _, err := os.Stat(allocFile(l, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a transient network wrote a stored address record: %v", err)
	}
	if err := nettest.RunIn(host, func() error { return Destroy(l, name) }); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := Load(l, name); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Load after Destroy: %v, want ErrNotFound", err)
	}
	if ns, _ := List(l); len(ns) != 0 || nettest.LinkIn(t, host, n.Bridge) {
		t.Errorf("after Destroy: listed %v, bridge there %v", ns, nettest.LinkIn(t, host, n.Bridge))
	}
	if _, err := os.Stat(RunDir(l, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runtime directory after Destroy: %v", err)
	}

	// Defined while it runs, a transient network becomes persistent and
	// keeps its UUID and its guests' addresses.
	if err := nettest.RunIn(host, func() (err error) { n, err = Create(l, "t.xml", []byte(doc)); return }); err != nil {
		t.Fatalf("Create again: %v", err)
	}
	ip2, err := allocIn(host, n, "dddddddd-0000-4000-8000-000000000001", "52:54:00:00:00:0a")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Define(l, "d.xml", []byte(doc))
	if err != nil || d.Transient || d.UUID != n.UUID {
		t.Fatalf("Define of a running transient network = %+v, %v", d, err)
	}
	if got, err := Load(l, name); err != nil || got.Transient || !Active(l, name) {
		t.Fatalf("after Define: %+v, %v, active %v", got, err, Active(l, name))
	}
	if again, err := allocIn(host, d, "dddddddd-0000-4000-8000-000000000001", "52:54:00:00:00:0a"); err != nil || !again.Equal(ip2) {
		t.Errorf("address after Define = %v, %v; want %v (first run's was %v)", again, err, ip2, ip)
	}
	if err := nettest.RunIn(host, func() error { return Destroy(l, name) }); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if got, err := Load(l, name); err != nil || got.Transient || Active(l, name) {
		t.Errorf("a persistent network after Destroy: %+v, %v", got, err)
	}

	// Undefined while it runs, a persistent network runs on as a
	// transient one (libvirt's net-undefine of an active network), and
	// goes with its destroy.
	if err := nettest.RunIn(host, func() error { return Start(l, name) }); err != nil {
		t.Fatalf("Start: %v", err)
	}
	// Redefined while it runs, it runs on with the old definition
	// (LoadLive), the new one waits for the next start (Load).
	if _, err := Define(l, "d2.xml", []byte(strings.Replace(doc, ".20'", ".30'", 1))); err != nil {
		t.Fatal(err)
	}
	if live, err := LoadLive(l, name); err != nil || live.IPv4().Ranges[0].End.String() != pfx+".20" {
		t.Errorf("LoadLive of the redefined running network: %+v, %v; want the range it started with", live, err)
	}
	if next, err := Load(l, name); err != nil || next.IPv4().Ranges[0].End.String() != pfx+".30" {
		t.Errorf("Load of the redefined running network: %+v, %v; want the new range", next, err)
	}
	if err := Undefine(l, name); err != nil {
		t.Fatalf("Undefine of the running network: %v", err)
	}
	if got, err := Load(l, name); err != nil || !got.Transient || !Active(l, name) || !nettest.LinkIn(t, host, got.Bridge) ||
		got.IPv4().Ranges[0].End.String() != pfx+".20" {
		t.Fatalf("after Undefine: %+v, %v, active %v; want it transient with the definition it runs with", got, err, Active(l, name))
	}
	if err := nettest.RunIn(host, func() error { return Destroy(l, name) }); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if _, err := Load(l, name); !errors.Is(err, errdefs.ErrNotFound) || nettest.LinkIn(t, host, n.Bridge) {
		t.Errorf("after Destroy of the undefined network: %v, bridge there %v", err, nettest.LinkIn(t, host, n.Bridge))
	}
}
