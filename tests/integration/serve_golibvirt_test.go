//go:build integration

package integration

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/internal/testutil"
)

func goLibvirt(t *testing.T, d *daemon) *libvirt.Libvirt {
	t.Helper()
	u, err := url.Parse(d.uri(d.rw))
	if err != nil {
		t.Fatal(err)
	}
	l, err := libvirt.ConnectToURI(u)
	if err != nil {
		t.Fatalf("go-libvirt connect: %v", err)
	}
	t.Cleanup(func() { _ = l.Disconnect() })
	return l
}

func pollState(t *testing.T, l *libvirt.Libvirt, dom libvirt.Domain, want libvirt.DomainState) {
	t.Helper()
	testutil.WaitFor(t, 60*time.Second, "domain state "+want.String(), func() bool {
		st, _, err := l.DomainGetState(dom, 0)
		return err == nil && st == int32(want)
	})
}

// TestServeTerraformReplay replays terraform-provider-libvirt v0.9's
// create/read/update/delete calls (rpc-clients.md §5) with go-libvirt.
func TestServeTerraformReplay(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	l := goLibvirt(t, d)
	name := h.uniqueName("it-rpctf")
	xmlPath, _ := h.busybox(name, false)
	xml, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := l.ConnectGetLibVersion(); err != nil || v < 8009000 {
		t.Fatalf("lib version %d, %v", v, err)
	}
	// Create.
	dom, err := l.DomainDefineXML(string(xml))
	if err != nil {
		t.Fatalf("define: %v", err)
	}
	if _, err := l.DomainCreateWithFlags(dom, 0); err != nil {
		t.Fatalf("create with flags: %v", err)
	}
	if err := l.DomainSetAutostart(dom, 1); err != nil {
		t.Fatalf("set autostart: %v", err)
	}
	if x, err := l.DomainGetXMLDesc(dom, libvirt.DomainXMLSecure); err != nil || !strings.Contains(x, name) {
		t.Fatalf("xml: %v", err)
	}
	if a, err := l.DomainGetAutostart(dom); err != nil || a != 1 {
		t.Fatalf("autostart = %d, %v", a, err)
	}
	// Read.
	got, err := l.DomainLookupByUUID(dom.UUID)
	if err != nil || got.Name != name || got.ID <= 0 {
		t.Fatalf("lookup by uuid: %+v, %v", got, err)
	}
	pollState(t, l, got, libvirt.DomainRunning)
	// Update: stop gracefully, undefine keeping NVRAM/TPM, define, start.
	if err := l.DomainShutdown(got); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	pollState(t, l, got, libvirt.DomainShutoff)
	if err := l.DomainUndefineFlags(got, libvirt.DomainUndefineKeepNvram|libvirt.DomainUndefineKeepTpm); err != nil {
		t.Fatalf("undefine keep nvram|tpm: %v", err)
	}
	if dom, err = l.DomainDefineXML(string(xml)); err != nil {
		t.Fatalf("redefine: %v", err)
	}
	if err := l.DomainSetAutostart(dom, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.DomainCreateWithFlags(dom, 0); err != nil {
		t.Fatalf("start after update: %v", err)
	}
	pollState(t, l, dom, libvirt.DomainRunning)
	// Delete: destroy, undefine with NVRAM|TPM (libvirt-lxc refuses it).
	if err := l.DomainDestroyFlags(dom, 0); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if err := l.DomainUndefineFlags(dom, libvirt.DomainUndefineNvram|libvirt.DomainUndefineTpm); err != nil {
		t.Fatalf("undefine nvram|tpm: %v", err)
	}
	// Read after delete: NO_DOMAIN removes the resource from the state.
	if _, err := l.DomainLookupByUUID(dom.UUID); !libvirt.IsNotFound(err) {
		t.Fatalf("lookup of a deleted domain: %v, want NO_DOMAIN", err)
	}
}

// TestServeNovaReplay replays Nova's libvirt driver (virt_type=lxc)
// connect checks, spawn, stop and delete (rpc-clients.md §6).
func TestServeNovaReplay(t *testing.T) {
	h := newHarness(t)
	d := h.serve()
	l := goLibvirt(t, d)
	if v, err := l.ConnectGetLibVersion(); err != nil || v < 8000000 {
		t.Fatalf("lib version %d, %v", v, err)
	}
	if _, err := l.ConnectGetVersion(); err != nil {
		t.Fatal(err)
	}
	if typ, err := l.ConnectGetType(); err != nil || typ != "LXC" {
		t.Fatalf("type %q, %v", typ, err)
	}
	if caps, err := l.ConnectGetCapabilities(); err != nil || !strings.Contains(caps, "<os_type>exe</os_type>") {
		t.Fatalf("caps: %v", err)
	}
	for _, id := range []int32{0, 15, 22} { // LIFECYCLE, DEVICE_REMOVED, DEVICE_REMOVAL_FAILED
		if _, err := l.ConnectDomainEventCallbackRegisterAny(id, nil); err != nil {
			t.Fatalf("register event %d: %v", id, err)
		}
	}
	if err := l.ConnectRegisterCloseCallback(); err != nil {
		t.Fatal(err)
	}
	name := h.uniqueName("it-rpcnova")
	xmlPath, _ := h.busybox(name, false)
	xml, _ := os.ReadFile(xmlPath)
	// Spawn: define, createWithFlags, poll lookupByUUID + info.
	dom, err := l.DomainDefineXML(string(xml))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.DomainCreateWithFlags(dom, 0); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 60*time.Second, "nova's get_info to see running", func() bool {
		dd, err := l.DomainLookupByUUID(dom.UUID)
		if err != nil {
			return false
		}
		st, _, _, _, _, err := l.DomainGetInfo(dd)
		return err == nil && st == uint8(libvirt.DomainRunning)
	})
	// Periodic resource tracking.
	if _, _, _, _, _, _, _, _, err := l.NodeGetInfo(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ConnectGetHostname(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.DomainGetVcpus(dom, 1, 1); err == nil {
		t.Error("DomainGetVcpus succeeded; nova expects the LXC driver's error")
	}
	// Stop: shutdown + poll, then destroy (a no-op error when already off).
	if err := l.DomainShutdown(dom); err != nil {
		t.Fatal(err)
	}
	pollState(t, l, dom, libvirt.DomainShutoff)
	var le libvirt.Error
	if err := l.DomainDestroy(dom); !errors.As(err, &le) || le.Code != uint32(libvirt.ErrOperationInvalid) {
		t.Errorf("destroy of a stopped guest: %v, want OPERATION_INVALID", err)
	}
	// Delete.
	if err := l.DomainUndefineFlags(dom, libvirt.DomainUndefineManagedSave|libvirt.DomainUndefineNvram); err != nil {
		t.Fatalf("undefine: %v", err)
	}
	// The runtime directory of a guest that just shut down goes a moment
	// after its state says shut off (the supervisor's teardown).
	testutil.WaitFor(t, 30*time.Second, name+" to leave the list after undefine", func() bool {
		doms, _, err := l.ConnectListAllDomains(1, libvirt.ConnectListDomainsActive|libvirt.ConnectListDomainsInactive)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range doms {
			if x.Name == name {
				return false
			}
		}
		return true
	})
}
