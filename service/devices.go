package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"libvirt.org/go/libvirtxml"

	"vmlite/domain"
	"vmlite/internal/errdefs"
	"vmlite/launch"
	"vmlite/netdef"
	"vmlite/plan"
	"vmlite/state"
	"vmlite/supervisor"
)

// The device verbs of virsh: attach-device, detach-device and
// update-device, with libvirt's flags (Affect) and libvirt's LXC rules.
// AffectConfig edits the stored definition (any device the definition
// may hold); AffectLive changes the running guest (what libvirt's LXC
// driver changes live: block disks, hostdevs, interfaces) and its live
// XML; both do both, the running guest first, and nothing is stored
// unless both succeed. AffectCurrent is the running guest when it runs,
// else the definition.

// deviceOp is one of the three verbs.
type deviceOp int

const (
	opAttach deviceOp = iota
	opDetach
	opUpdate
)

// AttachDevice adds the device of the device XML data (source names it in
// messages) to guest name.
func (s *Service) AttachDevice(ctx context.Context, name, source string, data []byte, affect Affect) (Warnings, error) {
	return s.changeDevice(ctx, opAttach, name, source, data, affect)
}

// DetachDevice removes the device that data names from guest name: a disk
// by its target, an interface by its MAC (or whatever else of it the XML
// gives, if that names one interface), a hostdev by its source, a
// filesystem by its target, anything else by all of its XML.
func (s *Service) DetachDevice(ctx context.Context, name, source string, data []byte, affect Affect) (Warnings, error) {
	return s.changeDevice(ctx, opDetach, name, source, data, affect)
}

// UpdateDevice replaces the interface that data names (by MAC) in the
// stored definition with data, as libvirt's LXC driver updates
// interfaces, in the definition only: a live update is refused.
func (s *Service) UpdateDevice(ctx context.Context, name, source string, data []byte, affect Affect) (Warnings, error) {
	return s.changeDevice(ctx, opUpdate, name, source, data, affect)
}

func (s *Service) changeDevice(ctx context.Context, op deviceOp, name, source string, data []byte, affect Affect) (Warnings, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	ws, err := s.deviceChange(op, name, source, data, affect)
	return ws, classify(onDomain, err)
}

func (s *Service) deviceChange(op deviceOp, name, source string, data []byte, affect Affect) (Warnings, error) {
	if err := validName(name); err != nil {
		return nil, err
	}
	if _, err := s.lookup(name); err != nil {
		return nil, err
	}
	parse := func() (*domain.Device, []domain.Warning, error) {
		dev, warns, err := domain.ParseDevice(source, data)
		if err != nil && op == opDetach {
			// As libvirt's detach, which skips validation: what names
			// the device is enough.
			if key, kerr := domain.ParseDeviceKey(source, data); kerr == nil {
				return key, nil, nil
			}
		}
		return dev, warns, err
	}
	dev, warns, err := parse()
	if err != nil {
		return nil, err
	}
	var ws Warnings
	for _, w := range warns {
		ws = append(ws, w.String())
	}
	liveToo, config, err := s.deviceTargets(name, affect)
	if err != nil {
		return ws, err
	}
	if op == opUpdate && liveToo {
		return ws, fmt.Errorf("%w: update-device cannot change a running guest's devices (libvirt's LXC driver cannot either); fix: --config, then restart the guest, or detach-device and attach-device", errdefs.ErrInvalid)
	}
	var stored *storedGuest
	if config {
		if stored, err = s.loadStored(name); err != nil {
			return ws, err
		}
		x := stored.x()
		if op == opAttach {
			err = domain.AddDevice(x, dev)
		} else {
			// Named as dumpxml --inactive shows the definition: an
			// interface by the MAC it gets at start.
			var norm *domain.Domain
			if norm, err = normalised(stored.dom); err == nil {
				key := dev
				if op == opUpdate {
					key, err = domain.InterfaceKey(dev)
				}
				var i int
				if err == nil {
					i, err = domain.FindDevice(norm.XML, key)
				}
				if err == nil && op == opDetach {
					_, err = domain.RemoveDeviceAt(x, dev, i)
				} else if err == nil {
					err = domain.ReplaceInterface(x, dev, i)
				}
			}
		}
		if err == nil {
			err = stored.check()
		}
		if err != nil {
			return ws, err
		}
	}
	if liveToo {
		// A device of its own: the live change fills in names and a MAC.
		ldev, _, err := parse()
		if err != nil {
			return ws, err
		}
		change, err := s.changeLive(op, name, ldev)
		if err != nil {
			return ws, err
		}
		// An interface attached to both gets one MAC, the live one, as
		// libvirt's stored MAC is the one its guest runs with.
		if stored != nil && op == opAttach && change.Interface != nil {
			ifs := stored.x().Devices.Interfaces
			if last := &ifs[len(ifs)-1]; last.MAC == nil || last.MAC.Address == "" {
				last.MAC = &libvirtxml.DomainInterfaceMAC{Address: change.Interface.MAC.String()}
			}
		}
	}
	if stored != nil {
		if err := stored.store.Save(stored.dom); err != nil {
			if liveToo {
				return ws, fmt.Errorf("the running guest is changed, but its definition could not be stored: %w", err)
			}
			return ws, err
		}
	}
	return ws, nil
}

// deviceTargets resolves affect as libvirt does
// (virDomainObjUpdateModificationImpact): whether the running guest, the
// stored definition, or both change.
func (s *Service) deviceTargets(name string, affect Affect) (liveToo, config bool, err error) {
	if affect&^(AffectLive|AffectConfig) != 0 {
		return false, false, fmt.Errorf("%w: unknown affect flags %#x", errdefs.ErrInvalid, uint(affect))
	}
	_, rerr := s.loadRunning(name)
	running := rerr == nil
	if rerr != nil && !errors.Is(rerr, errdefs.ErrNotRunning) {
		return false, false, rerr
	}
	_, serr := os.Stat(s.layout.DomainFile(name))
	defined := serr == nil
	if affect == AffectCurrent {
		if running {
			affect = AffectLive
		} else {
			affect = AffectConfig
		}
	}
	if affect&AffectLive != 0 && !running {
		return false, false, fmt.Errorf("guest %q is not running: %w; fix: --config changes its definition for the next start", name, errdefs.ErrNotRunning)
	}
	if affect&AffectConfig != 0 && !defined {
		return false, false, s.noStoredConfig(name, fmt.Errorf("guest %q is not defined: %w", name, errdefs.ErrNotFound))
	}
	return affect&AffectLive != 0, affect&AffectConfig != 0, nil
}

// changeLive attaches or detaches dev on the running guest name: its plan
// and its live XML with the change go to its supervisor, which makes the
// change and records both.
func (s *Service) changeLive(op deviceOp, name string, dev *domain.Device) (*plan.DeviceChange, error) {
	// One change at a time from every front end: each builds the live XML
	// with its change from the one before.
	lock, err := state.Lock(filepath.Join(s.layout.RunDir(name), "devices.lock"))
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	run, err := s.loadRunning(name)
	if err != nil {
		return nil, err
	}
	lx, err := s.liveDomain(name)
	if err != nil {
		return nil, err
	}
	xp := "/domain/devices/" + dev.Kind
	var change *plan.DeviceChange
	req := supervisor.OpAttachDevice
	switch op {
	case opAttach:
		change, err = launch.LiveDevice(run.plan, dev.List, xp, launch.Options{
			Layout: s.layout, Networks: netdef.Resolver{Layout: s.layout},
		})
		if err == nil {
			err = domain.AddDevice(lx.XML, dev)
		}
	case opDetach:
		req = supervisor.OpDetachDevice
		var removed *libvirtxml.DomainDeviceList
		if removed, err = domain.RemoveDevice(lx.XML, dev); err == nil {
			change, err = launch.LiveDetach(removed, xp, launch.Options{})
		}
	}
	if err != nil {
		return nil, err
	}
	b, err := lx.Marshal()
	if err != nil {
		return nil, err
	}
	// The live XML with the change must still be a valid domain (a
	// second interface with the guest name, a duplicate target).
	if _, _, err := domain.Parse(lx.File, b); err != nil {
		return nil, err
	}
	change.DomainXML = string(b)
	if _, err := s.call(name, supervisor.Request{Op: req, Device: change}); err != nil {
		return nil, fmt.Errorf("guest %q: %w", name, err)
	}
	return change, nil
}

// liveDomain is the definition a running guest runs with, normalised as
// dumpxml shows it (every interface with its MAC), so that a device is
// named in it as the user sees it.
func (s *Service) liveDomain(name string) (*domain.Domain, error) {
	path := s.layout.LiveXML(name)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("guest %q: read live XML: %w", name, err)
	}
	d, _, err := domain.Parse(path, b)
	if err != nil {
		return nil, fmt.Errorf("live XML of %q: %w", name, err)
	}
	if d, err = normalised(d); err != nil {
		return nil, fmt.Errorf("live XML of %q: %w", name, err)
	}
	return d, nil
}

// normalised is d as libvirt writes it (domain.LibvirtXML), parsed again.
func normalised(d *domain.Domain) (*domain.Domain, error) {
	b, err := d.LibvirtXML(nil)
	if err != nil {
		return nil, err
	}
	n, _, err := domain.Parse(d.File, b)
	return n, err
}
