package supervisor

import (
	"time"

	"vmlite/plan"
	"vmlite/state"
)

// The control protocol: one JSON Request line from the client, one JSON
// Response line back, then the connection closes. The socket is root's
// alone (mode 0600 in a 0700 directory) and the server checks SO_PEERCRED.
//
// stop, destroy and reboot answer only when done: for stop and destroy that
// is when the guest's processes, links, cgroup and runtime files are gone.

// Op is a control operation.
type Op string

// Control operations.
const (
	OpStatus  Op = "status"
	OpStop    Op = "stop"
	OpDestroy Op = "destroy"
	OpReboot  Op = "reboot"
	OpSuspend Op = "suspend"
	OpResume  Op = "resume"
	// OpAttachDevice and OpDetachDevice change the devices of a running
	// guest (Request.Device).
	OpAttachDevice Op = "attach-device"
	OpDetachDevice Op = "detach-device"
)

// Request is one control request.
type Request struct {
	Op Op `json:"op"`
	// Timeout bounds a graceful stop or reboot (0 = the plan's default).
	Timeout time.Duration `json:"timeout,omitempty"`
	// Device is the device of OpAttachDevice and OpDetachDevice.
	Device *plan.DeviceChange `json:"device,omitempty"`
}

// Response is the answer to a Request.
type Response struct {
	OK    bool        `json:"ok"`
	Error string      `json:"error,omitempty"`
	State state.State `json:"state"`
	// Forced is set when a stop had to kill the guest after its timeout.
	Forced bool `json:"forced,omitempty"`
	// Consoles counts attached console clients per console.
	Consoles map[string]int `json:"consoles,omitempty"`
}

// request is what a pending control operation asked for.
type request string
