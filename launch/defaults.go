package launch

import (
	"vmlite/domain"
	"vmlite/plan"
)

// DefaultStopTimeout bounds a graceful stop without vmlite:stop timeout.
const DefaultStopTimeout = plan.DefaultStopTimeout

// initSignals is the shutdown vocabulary of each init (poweroff, reboot),
// from systemd's nspawn-stub-pid1.c and busybox init/init.c. sysvinit and
// unknown inits get SIGPWR, as LXC does (its inittab must act on it).
var initSignals = map[plan.InitKind][2]string{
	plan.InitSystemd:  {"SIGRTMIN+4", "SIGINT"},
	plan.InitBusybox:  {"SIGUSR2", "SIGTERM"},
	plan.InitSysvinit: {"SIGPWR", "SIGINT"},
	plan.InitUnknown:  {"SIGPWR", "SIGINT"},
	plan.InitShell:    {"", ""}, // no shutdown protocol: stop kills at once
}

// stopFor picks the stop settings for an init, with the metadata override.
func stopFor(k plan.InitKind, m domain.Meta) plan.Stop {
	sig := initSignals[k]
	s := plan.Stop{Signal: sig[0], RebootSignal: sig[1], Timeout: plan.Duration(DefaultStopTimeout)}
	if m.StopSignal != "" {
		s.Signal = m.StopSignal
	}
	if m.StopTimeout > 0 {
		s.Timeout = plan.Duration(m.StopTimeout)
	}
	return s
}
