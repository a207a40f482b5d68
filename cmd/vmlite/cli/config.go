package cli

import (
	"github.com/spf13/cobra"

	"vmlite/service"
)

// scope is virsh's --live/--config/--current choice.
type scope struct {
	live, config, current bool
}

func (s *scope) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&s.live, "live", false, "affect the running guest")
	fl.BoolVar(&s.config, "config", false, "affect the stored definition, for the next start")
	fl.BoolVar(&s.current, "current", false, "affect the running guest if it runs, else the stored definition (the default)")
}

// affect is the scope as the service takes it.
func (s *scope) affect() (service.Affect, error) {
	if s.current && (s.live || s.config) {
		return 0, userErrorf("--current excludes --live and --config")
	}
	var a service.Affect
	if s.live {
		a |= service.AffectLive
	}
	if s.config {
		a |= service.AffectConfig
	}
	return a, nil
}
