package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"vmlite/service"
)

func init() {
	register(newAttachDeviceCmd)
	register(newDetachDeviceCmd)
	register(newUpdateDeviceCmd)
}

const deviceScope = `
--config changes the stored definition, for the next start: any device a
definition may hold (disk, interface, hostdev, filesystem, console, ...),
checked as define checks it. --live changes the running guest, as libvirt's
LXC driver does: a <disk type='block'> appears as /dev/TARGET and a
<hostdev> (storage, misc, usb) as its node at its path, each allowed in the
guest's device cgroup (cgroup v1 devices.allow, or the cgroup v2 device
program), and an <interface> (bridge, network, ethernet, direct) is created
in the guest's network namespace with its addresses and routes, link up. A
<filesystem>, a <hostdev type='net'> and other devices cannot change on a
running guest (libvirt refuses them too): use --config and restart it.
Both flags together change both, the running guest first; nothing is
stored unless both succeed. Without either (--current), the running guest
changes if it runs, else the stored definition (virsh without flags changes
the running guest only). A running guest keeps live changes across its
reboots; they end when it stops. dumpxml shows them.`

const attachDeviceLong = `Attach the device described by the device XML in FILE ("-" reads standard
input) to guest NAME, as virsh attach-device does: FILE holds one device
element, such as <disk>, <interface> or <hostdev>, exactly as it appears in
a definition's <devices>. Problems are reported as define reports them,
with the file's line and the element's path; a device the guest has already
(a disk's target, a hostdev's source, an interface's MAC) is refused.
Nothing is changed on any error.
` + deviceScope

const detachDeviceLong = `Detach the device described by the device XML in FILE ("-" reads standard
input) from guest NAME, as virsh detach-device does. The device is named as
libvirt names it: a disk by its <target dev>, an interface by its <mac
address> (or whatever else of it FILE gives, if that names one interface), a
hostdev by its <source>, a filesystem by its <target dir>, any other device
by all of its XML. As in libvirt, which skips validation here, the key is
enough (<disk><target dev='vdb'/></disk>). A device the guest does not have
is refused, naming the key. Detach undoes what attach did: the node is removed from the guest's
/dev and its rule from the device cgroup, the veth is deleted (only veth
interfaces, type bridge, network or ethernet, can be detached from a running
guest, as in libvirt).
` + deviceScope

const updateDeviceLong = `Replace an interface of guest NAME's stored definition with the <interface>
in FILE ("-" reads standard input), as virsh update-device does on libvirt's
LXC driver: the interface is named by its <mac address> (or whatever else of
it FILE gives, if that names one interface). Only the stored definition
changes (--config, the default for a guest that does not run); a running
guest's devices cannot be updated (use detach-device and attach-device).`

func newAttachDeviceCmd(app *App) *cobra.Command {
	return newDeviceCmd(app, "attach-device", "Attach a device to a guest from a device XML file", attachDeviceLong, "attached", (*service.Service).AttachDevice)
}

func newDetachDeviceCmd(app *App) *cobra.Command {
	return newDeviceCmd(app, "detach-device", "Detach a device from a guest", detachDeviceLong, "detached", (*service.Service).DetachDevice)
}

func newUpdateDeviceCmd(app *App) *cobra.Command {
	return newDeviceCmd(app, "update-device", "Replace an interface in a guest's definition", updateDeviceLong, "updated", (*service.Service).UpdateDevice)
}

type deviceFunc func(s *service.Service, ctx context.Context, name, source string, data []byte, affect service.Affect) (service.Warnings, error)

func newDeviceCmd(app *App, use, short, long, done string, op deviceFunc) *cobra.Command {
	var sc scope
	cmd := &cobra.Command{
		Use:   use + " NAME FILE",
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			name, file := args[0], args[1]
			affect, err := sc.affect()
			if err != nil {
				return err
			}
			file, data, err := app.readXMLArg(file, "device")
			if err != nil {
				return err
			}
			ws, err := op(app.Svc(), app.ctx(), name, file, data, affect)
			for _, w := range ws {
				fmt.Fprintf(app.Stderr, "warning: %s\n", w)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(app.Stdout, "Device %s successfully\n", done)
			return nil
		},
	}
	sc.add(cmd)
	return cmd
}
