package supervisor

import "vmlite/supervisor/ctl"

// The control protocol lives in package ctl (its client side links
// nothing of the supervisor); these names are the server's.
type (
	// Op is a control operation.
	Op = ctl.Op
	// Request is one control request.
	Request = ctl.Request
	// Response is the answer to a Request.
	Response = ctl.Response
)

// Control operations.
const (
	OpStatus       = ctl.OpStatus
	OpStop         = ctl.OpStop
	OpDestroy      = ctl.OpDestroy
	OpReboot       = ctl.OpReboot
	OpSuspend      = ctl.OpSuspend
	OpResume       = ctl.OpResume
	OpAttachDevice = ctl.OpAttachDevice
	OpDetachDevice = ctl.OpDetachDevice
)

// request is what a pending control operation asked for.
type request string
