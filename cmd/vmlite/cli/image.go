package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/image"
)

func init() { register(newImageCmd) }

func newImageCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image import|pull|list|inspect|rm",
		Short: "Manage the image store (OCI images and root filesystem tarballs)",
		Long: `Manage the image store under /var/lib/vmlite/images (or --root DIR/lib/images):
OCI images and root filesystem tarballs, stored once, content-addressed,
each layer extracted once and shared read-only by every guest made from it
(<filesystem type='template'><source name='IMAGE'/>, which
'vmlite template image' writes).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return userErrorf("image: name a subcommand (import, pull, list, inspect, rm)")
		},
	}
	cmd.AddCommand(newImageImportCmd(app), newImagePullCmd(app), newImageListCmd(app), newImageInspectCmd(app), newImageRmCmd(app))
	return cmd
}

func newImageImportCmd(app *App) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "import SOURCE [--name NAME]",
		Short: "Store an OCI image layout, a docker-archive or a rootfs tarball",
		Long: `Store the image at SOURCE: an OCI image layout directory (skopeo copy ...
oci:DIR, umoci, buildah push oci:DIR), a docker-archive tarball (docker save),
or a plain root filesystem tarball (tar, tar.gz, tar.xz, tar.zst). Every
layer is checked against its digest and extracted as an overlayfs layer
with its owners, modes, xattrs, whiteouts and opaque directories. Entries
that would leave the image's root, go through a symbolic link, white out
/, or make a device node a guest may not have are refused: the import
fails naming the image, the layer and the entry, and stores nothing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			start := time.Now()
			im, err := image.NewStore(app.Layout).Import(args[0], name)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Image %s imported: id %s, %d layers, %s (%v)\n", im.Name, im.ShortID(), len(im.Layers), humanBytes(im.Size), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "store the image as `NAME` (default: the image's own name, else the file's base name)")
	return cmd
}

func newImagePullCmd(app *App) *cobra.Command {
	var o image.PullOptions
	cmd := &cobra.Command{
		Use:   "pull REF [--name NAME] [--insecure] [--timeout DURATION]",
		Short: "Fetch an image from an OCI registry and store it",
		Long: `Fetch image REF (REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST]) from an OCI
registry (the distribution protocol, anonymous access) for linux and this
machine's architecture, and store it as 'vmlite image import' does, under
the name REF unless --name. Registries on localhost or 127.0.0.1 are
spoken to over plain HTTP, as docker does; --insecure does so for others.
A registry that does not answer fails the pull: at once when nothing
listens, after --timeout (at most 30 s) when it takes the connection and
sends no reply, and whatever is left undone at --timeout is given up;
nothing is stored.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			im, err := image.NewStore(app.Layout).Pull(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Image %s pulled: id %s, %d layers, %s (%v)\n", im.Name, im.ShortID(), len(im.Layers), humanBytes(im.Size), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Name, "name", "", "store the image as `NAME` (default: REF)")
	cmd.Flags().BoolVar(&o.Insecure, "insecure", false, "plain HTTP, no TLS, for a registry that is not on localhost")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", image.DefaultPullTimeout, "give the pull up after `DURATION`")
	return cmd
}

func newImageListCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the stored images",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ims, err := image.NewStore(app.Layout).List()
			if err != nil {
				return err
			}
			if asJSON {
				if ims == nil {
					ims = []image.Image{}
				}
				enc := json.NewEncoder(app.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ims)
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tLAYERS\tSIZE\tFORMAT\tIMPORTED")
			for _, im := range ims {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", im.Name, im.ShortID(), len(im.Layers), humanBytes(im.Size), im.Format, im.Imported.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newImageInspectCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect IMAGE",
		Short: "Print an image's record, config and users as JSON",
		Long: `Print, as JSON, the store's record of IMAGE (a name or an id of at least
12 hex digits): its id, layers and their directories, where it came from,
its config (Entrypoint, Cmd, Env, WorkingDir, User...), and the guests
that use it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			s := image.NewStore(app.Layout)
			im, err := s.Get(args[0])
			if err != nil {
				return err
			}
			cfg, err := s.Config(im)
			if err != nil {
				return err
			}
			users, err := app.imageUsers(s, im)
			if err != nil {
				return err
			}
			out := struct {
				image.Image
				LayerDirs []string      `json:"layerDirs"`
				Config    *image.Config `json:"config"`
				UsedBy    []string      `json:"usedBy"`
			}{im, s.LowerDirs(im), cfg, users}
			if out.UsedBy == nil {
				out.UsedBy = []string{}
			}
			enc := json.NewEncoder(app.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
}

func newImageRmCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "rm IMAGE",
		Short: "Remove an image from the store",
		Long: `Remove IMAGE (a name or an id) from the store, and the layers no other
image, guest or clone uses. Refused while a guest uses it: a defined or
running guest whose XML names it, or a guest's own layer made over it
(vmlite undefine --remove-storage NAME removes that).`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			s := image.NewStore(app.Layout)
			im, err := s.Remove(args[0], func(im image.Image) ([]string, error) { return app.imageUsers(s, im) })
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Image %s removed (id %s)\n", im.Name, im.ShortID())
			return nil
		},
	}
}

// imageUsers names the guests that use image im: defined guests whose XML
// names it, running guests made from it, and guests with a layer over it.
func (a *App) imageUsers(s *image.Store, im image.Image) ([]string, error) {
	users, err := s.GuestsUsing(im.ID)
	if err != nil {
		return nil, err
	}
	add := func(n string) {
		if !slices.Contains(users, n) {
			users = append(users, n)
		}
	}
	names, err := domain.NewStore(a.Layout).List()
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		d, err := domain.NewStore(a.Layout).Load(n)
		if err != nil {
			continue
		}
		if ref := templateSource(d); ref != "" && (ref == im.Name || strings.HasPrefix(strings.TrimPrefix(im.ID, "sha256:"), strings.TrimPrefix(ref, "sha256:"))) {
			add(n)
		}
	}
	rows, err := a.listGuests(false)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if g, err := a.lookupGuest(r.Name); err == nil && g.Plan != nil && g.Plan.Rootfs.Overlay != nil && g.Plan.Rootfs.Overlay.ImageID == im.ID {
			add(r.Name)
		}
	}
	slices.Sort(users)
	return users, nil
}

// templateSource is the image a domain's root comes from, "" if none.
func templateSource(d *domain.Domain) string {
	if d.XML.Devices == nil {
		return ""
	}
	for _, fs := range d.XML.Devices.Filesystems {
		if fs.Source != nil && fs.Source.Template != nil {
			return fs.Source.Template.Name
		}
	}
	return ""
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
