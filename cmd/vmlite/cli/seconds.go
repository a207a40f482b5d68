package cli

import (
	"time"

	"github.com/spf13/pflag"

	"vmlite/cmd/internal/front"
)

// seconds is a duration flag that also takes a plain number of seconds, as
// virsh users type it (--timeout 30), besides Go durations (30s, 2m).
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }
func (s *seconds) Type() string   { return "duration" }

func (s *seconds) Set(v string) error {
	d, err := front.ParseSeconds(v)
	if err != nil {
		return err
	}
	*s = seconds(d)
	return nil
}

// secondsVar defines a --name flag of type seconds on fs, stored in p.
func secondsVar(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var((*seconds)(p), name, usage)
}
