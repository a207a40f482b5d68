package plan

import (
	"time"

	"vmlite/domain"
)

// DefaultStopTimeout bounds a graceful stop without vmlite:stop timeout.
const DefaultStopTimeout = 30 * time.Second

// initSignals is the shutdown vocabulary of each init (poweroff, reboot),
// from systemd's nspawn-stub-pid1.c and busybox init/init.c. sysvinit and
// unknown inits get SIGPWR, as LXC does (its inittab must act on it).
var initSignals = map[InitKind][2]string{
	InitSystemd:  {"SIGRTMIN+4", "SIGINT"},
	InitBusybox:  {"SIGUSR2", "SIGTERM"},
	InitSysvinit: {"SIGPWR", "SIGINT"},
	InitUnknown:  {"SIGPWR", "SIGINT"},
	InitShell:    {"", ""}, // no shutdown protocol: stop kills at once
}

// stopFor picks the stop settings for an init, with the metadata override.
func stopFor(k InitKind, m domain.Meta) Stop {
	sig := initSignals[k]
	s := Stop{Signal: sig[0], RebootSignal: sig[1], Timeout: Duration(DefaultStopTimeout)}
	if m.StopSignal != "" {
		s.Signal = m.StopSignal
	}
	if m.StopTimeout > 0 {
		s.Timeout = Duration(m.StopTimeout)
	}
	return s
}
