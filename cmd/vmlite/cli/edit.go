package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"vmlite/domain"
)

func init() { register(newEditCmd) }

const editLong = `Edit the stored definition of guest NAME, as virsh edit does: it is written
to a temporary file, $VISUAL or $EDITOR (default vi) is run on it, and the
result is validated and defined. When the edited XML is not valid (or renames
the guest), the old definition is kept, the problems are printed, and the
edited file is left in place (its path is printed) to fix and define. A
running guest keeps the definition it was started with until it restarts.
The edit is stored as define stores it: the same checks (the guest keeps
its uuid), and a vmlite serve client hears of it as of a define.`

func newEditCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "edit NAME",
		Short: "Edit a guest's definition with $EDITOR",
		Long:  editLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			name := args[0]
			store := domain.NewStore(app.Layout)
			d, err := store.Load(name)
			if err != nil {
				return err
			}
			old, err := d.Marshal()
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "vmlite-edit-")
			if err != nil {
				return fmt.Errorf("edit %s: %w", name, err)
			}
			path := filepath.Join(dir, name+".xml")
			keep := false
			defer func() {
				if !keep {
					os.RemoveAll(dir)
				}
			}()
			if err := os.WriteFile(path, old, 0o600); err != nil {
				return fmt.Errorf("edit %s: %w", name, err)
			}
			if err := runEditor(app, path); err != nil {
				return err
			}
			edited, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("edit %s: %w", name, err)
			}
			if bytes.Equal(edited, old) {
				fmt.Fprintf(app.Stdout, "Domain '%s' XML configuration not changed.\n", name)
				return nil
			}
			// Saved as define saves it (service.Edit is service.Define
			// keeping the name): the same checks, the same event for a
			// vmlite serve client, the same refusal of another guest's uuid.
			res, err := app.Svc().Edit(app.ctx(), name, path, edited)
			if err = app.reportParse(path, res.Warnings, err); err != nil {
				keep = true
				fmt.Fprintf(app.Stderr, "vmlite: the definition of %s is unchanged; the edited XML is kept in %s\n", name, path)
				return err
			}
			fmt.Fprintf(app.Stdout, "Domain '%s' XML configuration edited.\n", name)
			return nil
		},
	}
}

// runEditor runs $VISUAL, else $EDITOR, else vi on path, through the shell
// as virsh does (the variable may hold arguments: EDITOR="emacs -nw").
func runEditor(app *App, path string) error {
	ed := os.Getenv("VISUAL")
	if ed == "" {
		ed = os.Getenv("EDITOR")
	}
	if ed == "" {
		ed = "vi"
	}
	cmd := exec.Command("/bin/sh", "-c", ed+` "$1"`, "vmlite-edit", path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, app.Stdout, app.Stderr
	if f, ok := app.Stdin.(*os.File); ok {
		cmd.Stdin = f
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("editor %q on %s: %w (the definition is unchanged)", ed, path, err)
	}
	return nil
}
