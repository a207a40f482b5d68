package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// StepFailure is a failed start-up step: the one shape a start failure has
// in __init, in the supervisor's own host-side steps, on the sync socket
// (Message.Failure), on the status pipe (StartResult.Failure) and in the
// error `vmlite start` (or an RPC client) gets.
//
// On the wire it is {"step", "xmlPath", "error", "user"}; Err is the cause,
// and after a hop it is the message as an opaque error.
type StepFailure struct {
	// Step names the failed step ("mount rootfs", "exec init").
	Step string
	// XMLPath locates the element the step came from, "" if none.
	XMLPath string
	Err     error
	// User marks failures the user fixes in the XML or the rootfs (exit 2).
	User bool

	// File and Log are for the report to the user: the XML file the plan
	// came from and the supervisor's log, which holds the details of a
	// failure that is not the user's. The launcher sets them (Reported);
	// they do not travel.
	File string
	Log  string
}

// Fail is a StepFailure of step caused by err.
func Fail(step string, err error) *StepFailure { return &StepFailure{Step: step, Err: err} }

// Error is "step (xmlpath): cause" inside vmlite; once Reported, it is the
// user's message: `start failed at step "S" (XMLPATH in FILE): cause`
// and, unless the failure is the user's, where the details are.
func (e *StepFailure) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	if e.File == "" && e.Log == "" {
		if e.XMLPath != "" {
			return e.Step + " (" + e.XMLPath + "): " + msg
		}
		if e.Step == "" {
			return msg
		}
		return e.Step + ": " + msg
	}
	var b strings.Builder
	b.WriteString("start failed")
	if e.Step != "" {
		fmt.Fprintf(&b, " at step %q", e.Step)
	}
	if e.XMLPath != "" {
		fmt.Fprintf(&b, " (%s", e.XMLPath)
		if e.File != "" {
			fmt.Fprintf(&b, " in %s", e.File)
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(msg)
	if !e.User && e.Log != "" {
		fmt.Fprintf(&b, "\n(details: %s)", e.Log)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *StepFailure) Unwrap() error { return e.Err }

// UserError reports whether the failure is the user's to fix (exit 2).
func (e *StepFailure) UserError() bool { return e.User }

// Reported returns a copy of e that reads as the user's report (see Error).
func (e *StepFailure) Reported(file, log string) *StepFailure {
	c := *e
	c.File, c.Log = file, log
	return &c
}

// AsStepFailure returns err's StepFailure, or one of step "" around err.
func AsStepFailure(err error) *StepFailure {
	var f *StepFailure
	if errors.As(err, &f) {
		return f
	}
	return &StepFailure{Err: err}
}

type wireFailure struct {
	Step    string `json:"step,omitempty"`
	XMLPath string `json:"xmlPath,omitempty"`
	Error   string `json:"error"`
	User    bool   `json:"user,omitempty"`
}

// MarshalJSON writes the wire form.
func (e *StepFailure) MarshalJSON() ([]byte, error) {
	w := wireFailure{Step: e.Step, XMLPath: e.XMLPath, User: e.User}
	if e.Err != nil {
		w.Error = e.Err.Error()
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the wire form; the cause becomes an opaque error.
func (e *StepFailure) UnmarshalJSON(b []byte) error {
	var w wireFailure
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = StepFailure{Step: w.Step, XMLPath: w.XMLPath, Err: errors.New(w.Error), User: w.User}
	return nil
}

// StartResult is what the supervisor reports to `vmlite start` on the
// status pipe (or a shared supervisor's socket).
type StartResult struct {
	// OK is true once the guest's init has been exec'd.
	OK bool `json:"ok"`
	// InitPID is the host pid of the guest's init.
	InitPID int `json:"initPid,omitempty"`
	// SupervisorPID is the supervisor's pid.
	SupervisorPID int `json:"supervisorPid,omitempty"`
	// Failure says why the start failed (OK false).
	Failure *StepFailure `json:"failure,omitempty"`
}

// Failed is the result of a start that failed with err.
func Failed(err error) StartResult { return StartResult{Failure: AsStepFailure(err)} }

// Err is nil for a start that succeeded, else its failure.
func (r StartResult) Err() *StepFailure {
	switch {
	case r.OK:
		return nil
	case r.Failure == nil:
		return Fail("start", errors.New("the supervisor reported a failure without saying what"))
	}
	return r.Failure
}
