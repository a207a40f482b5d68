package launch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/uidmap"
)

// NetworkResolver attaches a guest's interface to a managed network
// (<interface type='network'>); netdef.Resolver implements it.
type NetworkResolver interface {
	// ResolveNetwork returns what the guest's interface with mac gets on
	// the running network: its bridge and, when wantAddress (the XML gives
	// no <ip>), the guest's stable address on it with the network's prefix
	// (zero if the network hands out none) and, for a nat or route
	// network, the gateway (else zero): the guest's default route unless
	// it has one already. It fails with errdefs.ErrNotFound for an unknown
	// network and errdefs.ErrNotRunning for one that is not active.
	ResolveNetwork(network, guestUUID string, mac plan.MAC, wantAddress bool) (bridge string, address netip.Prefix, gateway netip.Addr, err error)
}

// Prepared is a guest ready to launch: its plan, encoded once, and its
// lock, held.
type Prepared struct {
	// Plan is for reading: what the supervisor gets is JSON, encoded
	// when Prepare returned, so a change to Plan reaches nobody.
	Plan *plan.Plan
	// JSON is the plan as the supervisor receives it.
	JSON json.RawMessage
	// Lock is the guest's lock file, flock()ed; it passes to the
	// supervisor with the launch.
	Lock *os.File

	layout state.Layout
	// layer is the guest layer this start made (Images.Claim), "" if none,
	// and images the store that made it.
	layer  string
	images Images
}

// Release gives up a prepared start that was not launched: it drops the
// lock and removes the runtime directory made for it. It is a no-op after
// a launch (which takes the lock) and safe to call twice.
func (p *Prepared) Release() {
	if p == nil || p.Lock == nil {
		return
	}
	// Removed while the lock is still held, so a concurrent start that
	// waits for it finds no stale directory.
	_ = os.RemoveAll(p.layout.RunDir(p.Plan.Name))
	if p.layer != "" {
		_ = p.images.RemoveLayer(p.layer)
	}
	p.Lock.Close()
	p.Lock = nil
}

// Launched records that the lock went to a supervisor: Release then does
// nothing.
func (p *Prepared) Launched() { p.Lock = nil }

// Prepare does everything between a validated domain and a launch: the
// transient guest's identity check, the plan (Build), the host checks, the
// guest's place on managed networks, the guest's lock (cleaning up after a
// dead supervisor first) and the reservation of its host ids. On error
// nothing is held and nothing is left; on success the caller launches
// (client.Launch with Plan, JSON and Lock) or calls Release.
//
// d is not changed.
func Prepare(d *domain.Domain, o Options) (*Prepared, error) {
	if o.Probe == nil {
		o.Probe = NewHostProbe()
	}
	l := o.Layout
	if err := l.Ensure(); err != nil {
		return nil, err
	}
	if o.Transient {
		var err error
		if d, err = adoptDefinedUUID(l, d); err != nil {
			return nil, err
		}
	}
	p, err := Build(d, o)
	if err != nil {
		return nil, err
	}
	if err := checkTraversable(p, o.Probe); err != nil {
		return nil, err
	}
	// Before the lock: a new address restarts the network's DHCP server,
	// which is no business of the guest's lock.
	if err := attachNetworks(p, o.Networks); err != nil {
		return nil, err
	}
	lock, err := lockForStart(l, p.Name, o.Orphans)
	if err != nil {
		return nil, err
	}
	prep := &Prepared{Plan: p, Lock: lock, layout: l}
	if o.Transient {
		// Under the guest's lock, so that what runs is looked at as late
		// as possible.
		if err := checkUUIDFree(l, p); err != nil {
			prep.Release()
			return nil, err
		}
	}
	if err := claimLayer(prep, o.Images); err != nil {
		prep.Release()
		return nil, err
	}
	if prep.JSON, err = p.Marshal(); err != nil {
		prep.Release()
		return nil, err
	}
	if err := reserveIDs(l, prep); err != nil {
		prep.Release()
		return nil, err
	}
	return prep, nil
}

// claimLayer makes a first start's guest layer before anything uses the
// image's layers: the layer's record holds them against image rm, which
// otherwise could remove them between the plan and the supervisor's
// mount. Under the guest's lock, so no other start of it runs meanwhile.
func claimLayer(prep *Prepared, images Images) error {
	ov := prep.Plan.Rootfs.Overlay
	if ov == nil || !ov.Fresh {
		return nil
	}
	if err := images.Claim(prep.Plan.Name, ov, prep.Plan.IDMap); err != nil {
		return fmt.Errorf("%s: %w", prep.Plan.Rootfs.XMLPath+"/source/@name", err)
	}
	if ov.Fresh {
		prep.layer, prep.images = ov.LayerDir, images
	}
	return nil
}

// adoptDefinedUUID refuses a transient guest whose name belongs to a
// defined guest with another UUID (virsh create does the same); one
// without a UUID takes the defined guest's. It returns d or a copy.
func adoptDefinedUUID(l state.Layout, d *domain.Domain) (*domain.Domain, error) {
	stored, _, err := domain.ParseFile(l.DomainFile(d.XML.Name))
	if err != nil {
		return d, nil // not defined (or unreadable, which define reports): no clash
	}
	theirs := stored.XML.UUID
	if d.XML.UUID != "" && theirs != "" && theirs != d.XML.UUID {
		return nil, fmt.Errorf("guest %q is already defined with uuid %s: %w", d.XML.Name, theirs, errdefs.ErrAlreadyExists)
	}
	if d.XML.UUID != "" || theirs == "" {
		return d, nil
	}
	c, x := *d, *d.XML
	x.UUID = stored.XML.UUID
	c.XML = &x
	return &c, nil
}

// checkUUIDFree refuses a transient guest whose uuid belongs to another
// guest of the layout: a defined one under another name, or a running one
// (libvirt refuses both). A defined guest's uuid is unique among the
// definitions already (domain.Store.Save).
func checkUUIDFree(l state.Layout, p *plan.Plan) error {
	// The uuids alone: a strict parse of every stored definition and a
	// decode of every running guest's whole plan made each start cost one
	// of each per guest on the host.
	ids, err := domain.NewStore(l).Identities()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id.Name != p.Name && strings.EqualFold(id.UUID, p.UUID) {
			return fmt.Errorf("guest %q: uuid %s belongs to defined guest %q: %w (leave <uuid> out for a new one)", p.Name, p.UUID, id.Name, errdefs.ErrAlreadyExists)
		}
	}
	ents, err := os.ReadDir(l.GuestsRunDir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("list running guests: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if n == p.Name || !e.IsDir() {
			continue
		}
		if held, _ := state.Held(l.LockFile(n)); !held {
			continue
		}
		uuid, err := planUUID(l.PlanFile(n))
		if err != nil {
			continue // starting: its plan is not written yet
		}
		if strings.EqualFold(uuid, p.UUID) {
			return fmt.Errorf("guest %q: uuid %s belongs to running guest %q: %w (leave <uuid> out for a new one)", p.Name, p.UUID, n, errdefs.ErrAlreadyExists)
		}
	}
	return nil
}

// planUUID is the uuid field of the plan.json at path, read up to that
// field and no further: a start checks every running guest's, so 200
// guests started together read 20,000 plans, and the whole of each (a few
// KiB, the domain XML in it) was most of that work. plan.Plan puts uuid
// among its first fields.
func planUUID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", fmt.Errorf("%s: not a JSON object", path)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		// Any case, as encoding/json matches a field.
		if key, _ := t.(string); strings.EqualFold(key, "uuid") {
			var uuid string
			if err := dec.Decode(&uuid); err != nil {
				return "", fmt.Errorf("%s: uuid: %w", path, err)
			}
			return uuid, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
	}
	return "", fmt.Errorf("%s: no uuid", path)
}

// checkTraversable makes sure a mapped guest's root can reach its root
// attach point in the runtime directory: every ancestor must be o+x.
func checkTraversable(p *plan.Plan, probe Probe) error {
	if !p.IDMap.Enabled() || p.Rootfs.Path == "" {
		return nil
	}
	for dir := filepath.Dir(p.Paths.RunDir); ; dir = filepath.Dir(dir) {
		if perm, ok := probe.Perm(dir); ok && perm&0o001 == 0 {
			return fmt.Errorf("%w: %s (mode %v) is not traversable by the guest's mapped root; fix: chmod o+x %s, or use another --root",
				errdefs.ErrInvalid, dir, perm, dir)
		}
		if dir == "/" || dir == "." {
			return nil
		}
	}
}

// attachNetworks completes the type='network' interfaces of p: each gets
// its network's bridge and, when it has no <ip>, the guest's stable
// address on the network and, for a nat or route network, a default route
// through it unless some interface of the guest has a default route
// already. Such an interface is brought up.
func attachNetworks(p *plan.Plan, nets NetworkResolver) error {
	hasDefault := false
	for _, in := range p.Interfaces {
		for _, r := range in.Routes {
			hasDefault = hasDefault || !r.Dest.IsValid()
		}
	}
	for i := range p.Interfaces {
		if err := attachNetwork(p.UUID, &p.Interfaces[i], nets, &hasDefault); err != nil {
			return err
		}
	}
	return nil
}

// attachNetwork gives interface in of guest uuid its place on its managed
// network (nothing for other types); the network's gateway becomes the
// guest's default route unless *hasDefault.
func attachNetwork(uuid string, in *plan.Interface, nets NetworkResolver, hasDefault *bool) error {
	if in.Type != "network" {
		return nil
	}
	where := in.XMLPath
	if where == "" {
		where = in.GuestName
	}
	if nets == nil {
		return fmt.Errorf("interface %s: network %q: no managed networks here: %w", where, in.Network, errdefs.ErrNotFound)
	}
	bridge, addr, gw, err := nets.ResolveNetwork(in.Network, uuid, in.MAC, len(in.IPs) == 0)
	if err != nil {
		return fmt.Errorf("interface %s: %w", where, err)
	}
	in.Bridge = bridge
	if len(in.IPs) > 0 || !addr.IsValid() {
		return nil
	}
	in.IPs = []netip.Prefix{addr}
	if gw.IsValid() && !*hasDefault {
		in.Routes = append(in.Routes, plan.Route{Gateway: gw})
		*hasDefault = true
	}
	return nil
}

// lockForStart creates the runtime directory and takes the guest's lock:
// of two concurrent starts exactly one gets it. Stale state of a dead
// supervisor is cleaned first (or refused, while the guest still runs).
func lockForStart(l state.Layout, name string, orphans Orphans) (*os.File, error) {
	if err := os.MkdirAll(l.RunDir(name), state.RunDirMode); err != nil {
		return nil, fmt.Errorf("create runtime directory: %w", err)
	}
	lock, err := state.TryLock(l.LockFile(name))
	if errors.Is(err, state.ErrLocked) {
		return nil, fmt.Errorf("guest %q: %w", name, errdefs.ErrAlreadyRunning)
	}
	if err != nil {
		return nil, err
	}
	if err := cleanupOrphan(l, name, orphans); err != nil {
		lock.Close()
		return nil, err
	}
	return lock, nil
}

// Orphans deals with what a dead supervisor left of a guest (its plan and
// last state): the supervisor package's clean-up, which the service
// passes in (launch itself links none of the supervisor's host code).
type Orphans interface {
	// Alive reports whether the guest still runs without its supervisor.
	Alive(p *plan.Plan, st *state.State) bool
	// Cleanup stops the guest and removes what the supervisor left.
	Cleanup(p *plan.Plan, st *state.State) error
}

// ErrOrphan: a start found what a dead supervisor left and had no Orphans
// to clean it up with. Nothing was changed.
var ErrOrphan = errors.New("a dead supervisor's state is left and no orphan clean-up was given")

// cleanupOrphan removes what a dead supervisor left of guest name: a
// runtime directory with state but a free lock. The caller holds the
// guest's lock. A guest that still runs without its supervisor is refused
// (errdefs.ErrAlreadyRunning); no state at all is not an error.
func cleanupOrphan(l state.Layout, name string, orphans Orphans) error {
	if _, err := os.Stat(l.StateFile(name)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	st, _ := state.Read(l.StateFile(name))
	var p *plan.Plan
	if b, err := os.ReadFile(l.PlanFile(name)); err == nil {
		p, _ = plan.Unmarshal(b)
	}
	if p != nil && orphans == nil {
		return fmt.Errorf("guest %q: %w", name, ErrOrphan)
	}
	if p != nil && orphans.Alive(p, st) {
		return fmt.Errorf("guest %q still runs without its supervisor (killed?); `vmlite destroy %s` stops it: %w", name, name, errdefs.ErrAlreadyRunning)
	}
	if p != nil {
		if err := orphans.Cleanup(p, st); err != nil {
			return fmt.Errorf("clean up stale state of %q: %w", name, err)
		}
	}
	_ = os.Remove(l.StateFile(name))
	return nil
}

// reserveIDs checks the plan's host ids against every running guest's and
// records them in its runtime directory (plan.json, which the supervisor
// writes again with the same bytes), all under the host-wide idmap lock.
// The guest's own lock is held already, so a concurrent start counts it as
// running: the idmap lock covers the check and the record, not the whole
// launch, and starts of many guests at once do not queue behind each
// other's boots.
func reserveIDs(l state.Layout, prep *Prepared) error {
	release, err := uidmap.CheckRunning(l, prep.Plan)
	if err != nil {
		return err
	}
	defer release()
	if !prep.Plan.IDMap.Enabled() {
		return nil
	}
	return state.WriteRuntimeFile(prep.Plan.Paths.PlanFile, prep.JSON, 0o600)
}
