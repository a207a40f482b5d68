package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vmlite/plan"
	"vmlite/service"
)

func init() { register(newBlkiotuneCmd) }

const blkiotuneLong = `Show or change the block I/O tuning of guest NAME, like virsh blkiotune.
Without options it prints the weight and the per-device limits:

    weight                : relative I/O weight, 10..1000 (v1 blkio.weight or
                            blkio.bfq.weight; v2 io.weight or io.bfq.weight):
                            of a running guest, what its cgroup holds now (the
                            kernel's default, 100 with BFQ, when none was set;
                            0 on a host without weights); of a stored
                            definition, its <blkiotune><weight>, 0 when not set
    device_weight         : PATH,WEIGHT[,PATH,WEIGHT...] per device
    device_read_iops_sec  : PATH,IOPS[,...] read operations per second
    device_write_iops_sec : PATH,IOPS[,...] write operations per second
    device_read_bytes_sec : PATH,BYTES[,...] bytes read per second
    device_write_bytes_sec: PATH,BYTES[,...] bytes written per second

With options it changes what they name and leaves the rest: a device list
sets those values for its devices (block devices, by path), merged with the
others; a value of 0 removes it, and a device left with none goes. A
running guest gets the change at once (--live), the stored definition's
<blkiotune> keeps it for the next start (--config), or both; without
either, the running guest if it runs, else the stored definition. The same
service call answers virsh blkiotune through vmlite serve.`

func newBlkiotuneCmd(app *App) *cobra.Command {
	var sc scope
	var weight uint
	var lists [5]string
	names := [5]string{"device-weights", "device-read-iops-sec", "device-write-iops-sec", "device-read-bytes-sec", "device-write-bytes-sec"}
	cmd := &cobra.Command{
		Use:   "blkiotune NAME",
		Short: "Show or change a guest's block I/O weight and per-device limits",
		Long:  blkiotuneLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var change service.BlkioChange
			if cmd.Flags().Changed("weight") {
				w := uint64(weight)
				change.Weight = &w
			}
			for i, flag := range names {
				if !cmd.Flags().Changed(flag) {
					continue
				}
				dvs, err := service.ParseDeviceValues(lists[i])
				if err != nil {
					return fmt.Errorf("--%s: %w", flag, err)
				}
				for _, dv := range dvs {
					v, d := dv.Value, change.Device(dv.Path)
					switch i {
					case 0:
						d.Weight = &v
					case 1:
						d.ReadIops = &v
					case 2:
						d.WriteIops = &v
					case 3:
						d.ReadBps = &v
					case 4:
						d.WriteBps = &v
					}
				}
			}
			affect, err := sc.affect()
			if err != nil {
				return err
			}
			b, ws, err := app.Svc().BlkioTune(app.ctx(), args[0], change, affect)
			app.printNotes(ws)
			if err != nil {
				return err
			}
			if change.Weight == nil && len(change.Devices) == 0 {
				printBlkiotune(app.Stdout, b)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.UintVar(&weight, "weight", 0, "the I/O weight, `N` (10..1000; 0: the kernel's default)")
	usages := [5]string{
		"per-device weights, `PATH,WEIGHT[,PATH,WEIGHT...]` (0 removes one)",
		"per-device read operations per second, `PATH,IOPS[,PATH,IOPS...]`",
		"per-device write operations per second, `PATH,IOPS[,PATH,IOPS...]`",
		"per-device bytes read per second, `PATH,BYTES[,PATH,BYTES...]`",
		"per-device bytes written per second, `PATH,BYTES[,PATH,BYTES...]`",
	}
	for i, flag := range names {
		fl.StringVar(&lists[i], flag, "", usages[i])
	}
	sc.add(cmd)
	return cmd
}

// printBlkiotune prints b as virsh blkiotune does.
func printBlkiotune(w io.Writer, b service.Blkio) {
	list := func(v func(plan.BlkioDevice) uint64) string {
		var parts []string
		for _, d := range b.Devices {
			if n := v(d); n != 0 {
				parts = append(parts, d.Path, strconv.FormatUint(n, 10))
			}
		}
		return strings.Join(parts, ",")
	}
	fmt.Fprintf(w, "%-15s: %d\n", "weight", b.Weight)
	for _, f := range []struct {
		name string
		v    func(plan.BlkioDevice) uint64
	}{
		{"device_weight", func(d plan.BlkioDevice) uint64 { return d.Weight }},
		{"device_read_iops_sec", func(d plan.BlkioDevice) uint64 { return d.ReadIops }},
		{"device_write_iops_sec", func(d plan.BlkioDevice) uint64 { return d.WriteIops }},
		{"device_read_bytes_sec", func(d plan.BlkioDevice) uint64 { return d.ReadBps }},
		{"device_write_bytes_sec", func(d plan.BlkioDevice) uint64 { return d.WriteBps }},
	} {
		fmt.Fprintf(w, "%-15s: %s\n", f.name, list(f.v))
	}
}
