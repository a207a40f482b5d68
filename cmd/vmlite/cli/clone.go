package cli

import (
	"crypto/rand"
	"fmt"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/image"
	"vmlite/internal/errdefs"
	"vmlite/state"
	"vmlite/templates"
	"vmlite/uidmap"
)

func init() { register(newCloneCmd) }

func newCloneCmd(app *App) *cobra.Command {
	var snapshot bool
	cmd := &cobra.Command{
		Use:   "clone SRC NEW [--snapshot]",
		Short: "Define guest NEW as a copy-on-write clone of guest SRC",
		Long: `Define guest NEW as a copy of the defined guest SRC, as virt-clone does: the
same XML with the name NEW, a new uuid, new MAC addresses (and no host link
names), a free host id range when SRC has an <idmap>, and a root that is
a copy-on-write layer over SRC's root as it is now.

SRC's root must come from an image (<filesystem type='template'>): SRC's
own layer is frozen into a snapshot that becomes a shared read-only layer
under both guests, each of which then writes to an empty layer of its own;
nothing is copied. SRC must be shut off, unless --snapshot: then SRC is
frozen (as vmlite suspend does) while its layer is copied into the
snapshot, and runs on untouched after; what its processes had not written
to disk yet is not in the copy.

vmlite undefine --remove-storage removes a clone's own layer; a snapshot
goes when the last guest over it does.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return runClone(app, args[0], args[1], snapshot)
		},
	}
	cmd.Flags().BoolVar(&snapshot, "snapshot", false, "clone a running SRC from a copy of its current layer")
	return cmd
}

func runClone(app *App, src, dst string, live bool) error {
	if err := domain.CheckName(dst); err != nil {
		return err
	}
	store := domain.NewStore(app.Layout)
	d, err := store.Load(src)
	if err != nil {
		return err
	}
	if _, err := store.Load(dst); err == nil {
		return fmt.Errorf("guest %q: %w", dst, errdefs.ErrAlreadyExists)
	}
	if held, _ := state.Held(app.Layout.LockFile(dst)); held {
		return fmt.Errorf("guest %q: %w (a transient guest of that name runs)", dst, errdefs.ErrAlreadyExists)
	}
	if templateSource(d) == "" {
		return userErrorf("clone: %s's root is not from an image (<filesystem type='template'>); import it first (tar -C ROOTFS -c . | zstd > root.tar.zst; vmlite image import root.tar.zst) and define SRC from vmlite template image", src)
	}
	running, err := state.Held(app.Layout.LockFile(src))
	if err != nil {
		return err
	}
	switch {
	case running && !live:
		return fmt.Errorf("guest %q: %w: shut it off first, or clone it as it runs with --snapshot", src, errdefs.ErrAlreadyRunning)
	case !running && live:
		return fmt.Errorf("guest %q: %w: --snapshot clones a running guest; without it, a shut-off one", src, errdefs.ErrNotRunning)
	}
	x := d.XML
	// Save gives it a new uuid.
	x.Name, x.UUID = dst, ""
	d.Meta.Hostname = ""
	if x.Devices != nil {
		for i := range x.Devices.Interfaces {
			ifc := &x.Devices.Interfaces[i]
			ifc.Target = nil
			if ifc.MAC != nil {
				ifc.MAC.Address = randomMAC()
			}
		}
	}
	if x.IDMap != nil && len(x.IDMap.UIDs) == 1 && len(x.IDMap.GIDs) == 1 {
		count := uint32(x.IDMap.UIDs[0].Count)
		defined, err := store.IDMaps()
		if err != nil {
			return fmt.Errorf("clone: a host id range for %s: %w", dst, err)
		}
		t, err := uidmap.FreeTarget(app.Layout, defined, uint32(templates.DefaultIDMapTarget), count)
		if err != nil {
			return fmt.Errorf("clone: a host id range for %s: %w", dst, err)
		}
		x.IDMap.UIDs[0].Target, x.IDMap.GIDs[0].Target = uint(t), uint(t)
	}
	images := image.NewStore(app.Layout)
	if live {
		// Frozen while its layer is copied, so the copy is of one moment
		// (a guest the user suspended stays suspended).
		if g, err := app.lookupGuest(src); err == nil && (g.State == nil || g.State.Status != state.Paused) {
			if err := app.Svc().Suspend(app.ctx(), src); err != nil {
				return fmt.Errorf("clone --snapshot: freeze %s for the copy: %w", src, err)
			}
			defer func() {
				if err := app.Svc().Resume(app.ctx(), src); err != nil {
					fmt.Fprintf(app.Stderr, "warning: resume %s after the copy: %v (vmlite resume %s)\n", src, err, src)
				}
			}()
		}
	}
	if _, err := images.Clone(src, dst, live); err != nil {
		return err
	}
	if err := store.Save(d); err != nil {
		_ = images.RemoveGuestLayer(dst)
		return err
	}
	fmt.Fprintf(app.Stdout, "Clone '%s' created successfully.\n", dst)
	return nil
}

// randomMAC is a locally administered unicast address with libvirt's
// 52:54:00 prefix, as virt-clone gives clones.
func randomMAC() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2])
}
