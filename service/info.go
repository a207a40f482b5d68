package service

import (
	"context"
	"os"
	"time"

	"vmlite/cgroup"
	"vmlite/domain"
)

// Info is what virsh dominfo shows of a guest and libvirt's
// virDomainGetInfo returns: its Domain row, the sizes of its definition
// (the live one while it runs, else the stored one) and, while it runs, its
// cgroup's counters.
type Info struct {
	Domain
	// VCPUs is <vcpu> (1 without one).
	VCPUs uint
	// MaxMemKiB and MemoryKiB are <memory> and <currentMemory> in KiB; 0
	// when the definition has no <memory>: no memory limit.
	MaxMemKiB uint64
	MemoryKiB uint64
	// Stats says whether CPUTime and UsedMemKiB are live counters (a
	// running guest whose cgroup could be read).
	Stats      bool
	CPUTime    time.Duration
	UsedMemKiB uint64
}

// Info returns guest name's Info.
func (s *Service) Info(ctx context.Context, name string) (*Info, error) {
	if err := live(ctx); err != nil {
		return nil, err
	}
	g, err := s.lookup(name)
	if err != nil {
		return nil, classify(onDomain, err)
	}
	in := &Info{Domain: s.domainOf(g), VCPUs: 1}
	if d := s.currentDefinition(g); d != nil && d.XML != nil {
		x := d.XML
		if x.VCPU != nil && x.VCPU.Value > 0 {
			in.VCPUs = x.VCPU.Value
		}
		if m := x.Memory; m != nil {
			if v, err := domain.ScaledBytes(uint64(m.Value), m.Unit); err == nil {
				in.MaxMemKiB = v / 1024
			}
		}
		in.MemoryKiB = in.MaxMemKiB
		if m := x.CurrentMemory; m != nil {
			if v, err := domain.ScaledBytes(uint64(m.Value), m.Unit); err == nil {
				in.MemoryKiB = v / 1024
			}
		}
		if in.UUID == "" {
			in.UUID = x.UUID
		}
	}
	if in.Active() && g.plan != nil {
		if m, err := cgroup.Open(g.plan.Cgroup); err == nil {
			if st, err := m.Stats(); err == nil {
				in.Stats, in.CPUTime, in.UsedMemKiB = true, st.CPUTime, st.MemoryUsage/1024
			}
		}
	}
	return in, nil
}

// currentDefinition is the definition g runs with (its live XML) while it
// runs, else its stored one; nil when neither can be read.
func (s *Service) currentDefinition(g *guest) *domain.Domain {
	l := s.layout
	if g.running || g.orphaned {
		if b, err := os.ReadFile(l.LiveXML(g.name)); err == nil {
			if d, _, err := domain.Parse(l.LiveXML(g.name), b); err == nil {
				return d
			}
		}
	}
	if g.defined {
		if d, err := domain.NewStore(l).Load(g.name); err == nil {
			return d
		}
	}
	return nil
}
