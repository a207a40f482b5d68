package cli

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"vmlite/service"
)

func init() {
	register(newAutostartCmd)
	register(newStartAllCmd)
	register(newStopAllCmd)
}

func newAutostartCmd(app *App) *cobra.Command {
	var disable bool
	cmd := &cobra.Command{
		Use:   "autostart NAME [--disable]",
		Short: "Mark a defined guest to start at host boot (vmlite start-all)",
		Long: `Mark the defined guest NAME to be started by 'vmlite start-all', which the
vmlite.service unit runs at host boot; --disable removes the mark.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := app.Svc().SetAutostart(app.ctx(), name, !disable); err != nil {
				return err
			}
			if disable {
				fmt.Fprintf(app.Stdout, "Domain '%s' unmarked as autostarted\n", name)
				return nil
			}
			fmt.Fprintf(app.Stdout, "Domain '%s' marked as autostarted\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&disable, "disable", false, "remove the autostart mark")
	return cmd
}

func newStartAllCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "start-all",
		Short: "Start every autostart network, then every autostart guest",
		Long: `Start every network marked with net-autostart, then every guest marked with
autostart that is not running, one after another. Failures are reported and
the rest still start; the exit status is 1 if any failed. The vmlite.service
unit runs this at host boot.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := app.Svc().StartAutostarted(app.ctx(), func(res *service.Started) {
				app.printWarnings(res.Warnings)
			})
			for _, name := range sortedKeys(failed) {
				fmt.Fprintf(app.Stderr, "vmlite: %s: %v\n", name, failed[name])
			}
			if len(failed) > 0 {
				return fmt.Errorf("could not start: %s", failed)
			}
			return nil
		},
	}
}

func newStopAllCmd(app *App) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "stop-all [--timeout DURATION]",
		Short: "Stop every running guest gracefully, in parallel, bounded by --timeout",
		Long: `Stop every running guest at once, each through its init as 'vmlite stop'
does, and kill what is still running after --timeout. Returns when all are
gone. The vmlite.service unit runs this at host shutdown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var mu sync.Mutex
			failed, err := app.Svc().StopAll(app.ctx(), timeout, func(name string) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(app.Stdout, "Guest %s stopped\n", name)
			})
			if err != nil {
				return err
			}
			for _, name := range sortedKeys(failed) {
				fmt.Fprintf(app.Stderr, "vmlite: %s: %v\n", name, failed[name])
			}
			if len(failed) > 0 {
				return fmt.Errorf("could not stop: %s", failed)
			}
			return nil
		},
	}
	secondsVar(cmd.Flags(), &timeout, "timeout", 60*time.Second, "graceful stop bound for each guest (seconds, or a duration such as 2m)")
	return cmd
}

// sortedKeys is f's names in order.
func sortedKeys(f service.Failures) []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
