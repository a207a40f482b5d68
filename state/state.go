package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Status is a guest's run state.
type Status string

// Run states. A guest with no runtime directory is "shutoff".
const (
	Starting Status = "starting"
	Running  Status = "running"
	Stopping Status = "stopping"
	// Paused: every process of the guest is frozen (vmlite suspend).
	Paused  Status = "paused"
	Shutoff Status = "shutoff"
	Crashed Status = "crashed"
	// Orphaned means the runtime directory exists but its supervisor is gone
	// (killed): the guest's processes may still run. destroy cleans it up.
	Orphaned Status = "orphaned"
)

// Reason says why a guest is in its state.
type Reason string

// Reasons, as libvirt reports them.
const (
	ReasonBooted    Reason = "booted"
	ReasonShutdown  Reason = "shutdown"  // init powered off (guest or vmlite stop)
	ReasonDestroyed Reason = "destroyed" // vmlite destroy, or stop past its timeout
	ReasonCrashed   Reason = "crashed"   // init exited on its own or died of a signal
	ReasonRebooted  Reason = "rebooted"
	ReasonFailed    Reason = "failed" // start failed
	ReasonUser      Reason = "user"   // paused or resumed by vmlite suspend/resume
)

// State is the content of state.json (running guests) and of last/NAME.json
// (the final state of the last run).
type State struct {
	Name          string `json:"name"`
	UUID          string `json:"uuid"`
	Status        Status `json:"status"`
	Reason        Reason `json:"reason,omitempty"`
	SupervisorPID int    `json:"supervisorPid,omitempty"`
	// SharedSupervisor is set when the supervisor may host other guests
	// too (VMLITE_GUESTS_PER_SUPERVISOR > 1): it outlives this guest.
	SharedSupervisor bool `json:"sharedSupervisor,omitempty"`
	InitPID          int  `json:"initPid,omitempty"`
	// ConsolePTYs are the host ptys of the consoles, in <console> order,
	// for the live XML's <source path> (libvirt shows them too).
	ConsolePTYs []string `json:"consolePtys,omitempty"`
	// InitStart is init's start time in clock ticks since boot (field 22
	// of /proc/PID/stat): with InitPID it identifies the process even
	// after the pid is reused.
	InitStart uint64    `json:"initStart,omitempty"`
	StartedAt time.Time `json:"startedAt,omitempty"`
	StoppedAt time.Time `json:"stoppedAt,omitempty"`
	// ExitStatus is init's exit code, or -1 when it died of a signal.
	ExitStatus *int `json:"exitStatus,omitempty"`
	// ExitSignal names the signal that ended init, if any.
	ExitSignal string `json:"exitSignal,omitempty"`
	// Restarts counts reboots of this run.
	Restarts int `json:"restarts,omitempty"`
	// Transient guests have no stored definition.
	Transient bool `json:"transient,omitempty"`
	// OOMKills counts processes the kernel killed at the guest's memory
	// limit during the run (recorded when it ends).
	OOMKills uint64 `json:"oomKills,omitempty"`
	// Error describes a failure (start failure, crash).
	Error string `json:"error,omitempty"`
}

// Write stores s atomically at path.
func Write(path string, s *State) error { return write(path, s, WriteFileAtomic) }

// WriteRuntime records s in path, the state.json of a guest's runtime
// directory, as Write does but without fsync (see WriteRuntimeFile).
func WriteRuntime(path string, s *State) error { return write(path, s, WriteRuntimeFile) }

func write(path string, s *State, store func(string, []byte, os.FileMode) error) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return store(path, append(b, '\n'), 0o644)
}

// Read loads a state file; a missing file is fs.ErrNotExist.
func Read(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return &s, nil
}
