package launch

import (
	"fmt"
	"os"
	"strconv"

	"vmlite/internal/errdefs"
)

// The environment's say in how a guest is supervised: read at each start
// (here, so that the front binary's start reads it as the full CLI does).

// defaultGuestsPerSupervisor is how many guests share one supervisor
// process unless VMLITE_GUESTS_PER_SUPERVISOR says otherwise: enough to
// make a supervisor's Go runtime a small share of each guest's memory,
// few enough that a supervisor that dies orphans a bounded set of guests.
const defaultGuestsPerSupervisor = 32

// GuestsPerSupervisor reads VMLITE_GUESTS_PER_SUPERVISOR (1: a dedicated
// supervisor process per guest).
func GuestsPerSupervisor() (int, error) {
	v := os.Getenv("VMLITE_GUESTS_PER_SUPERVISOR")
	if v == "" {
		return defaultGuestsPerSupervisor, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 4096 {
		return 0, fmt.Errorf("%w: VMLITE_GUESTS_PER_SUPERVISOR=%q: want a number from 1 (a supervisor per guest) to 4096", errdefs.ErrInvalid, v)
	}
	return n, nil
}

// defaultInitStages is how many pre-forked guest init stages a shared
// supervisor keeps waiting unless VMLITE_INIT_STAGES says otherwise: none.
// A cloned __init joins its cgroup without a move by pid (born in the
// cgroup2 tree, joining the v1 hierarchies itself), while a taken stage
// must be moved into the cgroup2 tree by pid (cgroup2 cannot rename its
// spare), which waits for an RCU grace period: on the hybrid and v2 hosts
// measured, a start that clones is the faster one (bench/README.md, "A
// start with headroom"), and a stage costs an idle vmlite-init process.
// On a v1 host without a cgroup2 mount a stage needs no move by pid.
const defaultInitStages = 0

// InitStages reads VMLITE_INIT_STAGES: how many pre-forked guest init
// stages each shared supervisor keeps (0: none, every start clones one).
func InitStages() (int, error) {
	v := os.Getenv("VMLITE_INIT_STAGES")
	if v == "" {
		return defaultInitStages, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 64 {
		return 0, fmt.Errorf("%w: VMLITE_INIT_STAGES=%q: want a number from 0 (no pre-forked init stages) to 64", errdefs.ErrInvalid, v)
	}
	return n, nil
}
