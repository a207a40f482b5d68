package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"vmlite/netdef"
	"vmlite/supervisor"
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
			if _, _, err := app.loadDefinition(name); err != nil {
				return err
			}
			mark := app.Layout.AutostartFile(name)
			if disable {
				if err := os.Remove(mark); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("remove autostart mark: %w", err)
				}
				fmt.Fprintf(app.Stdout, "Domain '%s' unmarked as autostarted\n", name)
				return nil
			}
			if err := app.Layout.Ensure(); err != nil {
				return err
			}
			if err := os.WriteFile(mark, nil, 0o644); err != nil {
				return fmt.Errorf("write autostart mark: %w", err)
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
			var failed []string
			if err := netdef.StartAutostart(app.Layout); err != nil {
				fmt.Fprintf(app.Stderr, "vmlite: networks: %v\n", err)
				failed = append(failed, "networks")
			}
			names, _ := filepath.Glob(filepath.Join(filepath.Dir(app.Layout.AutostartFile("x")), "*"))
			sort.Strings(names)
			for _, m := range names {
				name := filepath.Base(m)
				if g, err := app.lookupGuest(name); err == nil && g.Running {
					continue
				}
				if err := runStart(app, name, false); err != nil {
					fmt.Fprintf(app.Stderr, "vmlite: %s: %v\n", name, err)
					failed = append(failed, name)
				}
			}
			if len(failed) > 0 {
				return fmt.Errorf("could not start: %s", strings.Join(failed, ", "))
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
			rows, err := app.listGuests(false)
			if err != nil {
				return err
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failed []string
			for _, r := range rows {
				wg.Add(1)
				go func(name string, orphaned bool) {
					defer wg.Done()
					var err error
					if orphaned {
						err = app.stopOrphan(name)
					} else {
						_, err = app.call(name, supervisor.Request{Op: supervisor.OpStop, Timeout: timeout})
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil && !errors.Is(err, errNotOrphan) {
						failed = append(failed, name)
						fmt.Fprintf(app.Stderr, "vmlite: %s: %v\n", name, err)
						return
					}
					fmt.Fprintf(app.Stdout, "Guest %s stopped\n", name)
				}(r.Name, r.State == "orphaned")
			}
			wg.Wait()
			if len(failed) > 0 {
				return fmt.Errorf("could not stop: %s", strings.Join(failed, ", "))
			}
			return nil
		},
	}
	secondsVar(cmd.Flags(), &timeout, "timeout", 60*time.Second, "graceful stop bound for each guest (seconds, or a duration such as 2m)")
	return cmd
}
