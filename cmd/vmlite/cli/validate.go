package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"vmlite/domain"
	"vmlite/internal/errdefs"
)

func init() { register(newValidateCmd) }

const validateLong = `Check each domain XML FILE (- for standard input) as start and define would:
every element and attribute is applied, accepted with a warning, or refused,
and unknown ones are errors. All problems of a file are printed at once, one
per line, as FILE:LINE: PATH: MESSAGE, with the fix where one is obvious.
Warnings go to standard error too; "FILE: valid" lines go to standard output.
Nothing on the host is looked at: a valid file may still fail to start (a
missing root directory, a bridge that does not exist).`

func newValidateCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check domain XML files without defining or starting them",
		Long:  validateLong,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			bad := 0
			for _, f := range args {
				d, err := app.parseDomainFile(f)
				if err != nil {
					if !errdefs.IsUserError(err) {
						return err
					}
					var r reportedError
					if !errors.As(err, &r) {
						fmt.Fprintln(app.Stderr, err) // not printed yet
					}
					bad++
					continue
				}
				fmt.Fprintf(app.Stdout, "%s: valid (guest %s)\n", displayName(f), d.XML.Name)
			}
			if bad > 0 {
				return &exitError{code: ExitUser, err: fmt.Errorf("%d of %d files are not valid", bad, len(args))}
			}
			return nil
		},
	}
}

func displayName(f string) string {
	if f == "-" {
		return "<stdin>"
	}
	return f
}

// parseDomainFile reads and parses a domain XML file ("-" is standard
// input), printing its warnings and, for an invalid file, each problem on
// its own line to standard error. The error it returns is then a user
// error that says no more than "FILE is not valid".
func (a *App) parseDomainFile(f string) (*domain.Domain, error) {
	b, err := a.readDomainFile(f)
	if err != nil {
		return nil, err
	}
	d, warns, err := domain.Parse(displayName(f), b)
	return d, a.reportParse(f, warns, err)
}

// readDomainFile reads file f ("-" is standard input).
func (a *App) readDomainFile(f string) ([]byte, error) {
	var b []byte
	var err error
	if f == "-" {
		b, err = io.ReadAll(a.Stdin)
	} else {
		b, err = os.ReadFile(f)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: no such file", f, errdefs.ErrNotFound)
	}
	if err != nil {
		// A directory, an unreadable file: the user's to fix (exit 2).
		return nil, plainUserError(err.Error())
	}
	return b, nil
}

// reportParse prints the warnings of parsing file f and, when err holds
// domain.Errors, each problem on its own line; it then returns a user
// error that says no more than "FILE is not valid". Other errors pass.
func (a *App) reportParse(f string, warns []domain.Warning, err error) error {
	a.printWarnings(warns)
	var es domain.Errors
	if errors.As(err, &es) {
		for _, e := range es {
			fmt.Fprintln(a.Stderr, e)
		}
		return reportedError(fmt.Sprintf("%s is not valid (%d %s above)", displayName(f), len(es), plural(len(es), "problem", "problems")))
	}
	return err
}

// reportedError is a user error whose details were printed already.
type reportedError string

// Error returns the summary.
func (e reportedError) Error() string { return string(e) }

// UserError makes the CLI exit with status 2.
func (e reportedError) UserError() bool { return true }

// plainUserError is a user error that prints as it is (no class name).
type plainUserError string

// Error returns the message.
func (e plainUserError) Error() string { return string(e) }

// UserError makes the CLI exit with status 2.
func (e plainUserError) UserError() bool { return true }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// readXMLArg reads the XML file argument of a network or device command
// ("-" is standard input, named <stdin>); a read error is a user error
// that names what the XML is (kind: "network", "device").
func (a *App) readXMLArg(file, kind string) (string, []byte, error) {
	var data []byte
	var err error
	if file == "-" {
		file = "<stdin>"
		data, err = io.ReadAll(a.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return file, nil, userErrorf("read %s XML: %v", kind, err)
	}
	return file, data, nil
}
