package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/pflag"
)

// seconds is a duration flag that also takes a plain number of seconds, as
// virsh users type it (--timeout 30), besides Go durations (30s, 2m).
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }
func (s *seconds) Type() string   { return "duration" }

func (s *seconds) Set(v string) error {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if !(n >= 0 && n <= 1e9) { // also NaN
			return fmt.Errorf("%q: seconds must be between 0 and 1e9", v)
		}
		*s = seconds(time.Duration(n * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%q: not a duration: use seconds (30) or a Go duration (30s, 2m)", v)
	}
	*s = seconds(d)
	return nil
}

// secondsVar defines a --name flag of type seconds on fs, stored in p.
func secondsVar(fs *pflag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var((*seconds)(p), name, usage)
}
