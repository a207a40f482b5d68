package service

import (
	"context"
	"errors"

	"vmlite/domain"
	"vmlite/internal/errdefs"
)

// Code classifies a failed operation the way libvirt's error codes do, so
// that each front end maps it once: the CLI to an exit status, the RPC
// server to a virErrorNumber (the comments name libvirt's).
type Code int

// Error codes.
const (
	// OperationFailed is anything else: a host failure, a supervisor that
	// does not answer (VIR_ERR_OPERATION_FAILED, or VIR_ERR_INTERNAL_ERROR).
	OperationFailed Code = iota
	// NoDomain: no such guest (VIR_ERR_NO_DOMAIN).
	NoDomain
	// NoNetwork: no such managed network (VIR_ERR_NO_NETWORK).
	NoNetwork
	// OperationInvalid: the guest or network is in the wrong state for the
	// operation: running, not running (VIR_ERR_OPERATION_INVALID).
	OperationInvalid
	// InvalidArg: a bad argument (VIR_ERR_INVALID_ARG).
	InvalidArg
	// XMLError: the XML is not valid; errors.As finds domain.Errors with
	// each problem's FILE:LINE: /xpath (VIR_ERR_XML_ERROR).
	XMLError
	// AlreadyExists: the name or uuid is taken (VIR_ERR_DOM_EXIST,
	// VIR_ERR_NETWORK_EXIST).
	AlreadyExists
	// Canceled: the context ended first (VIR_ERR_OPERATION_ABORTED).
	Canceled
)

var codeNames = map[Code]string{
	OperationFailed: "operation failed", NoDomain: "no domain", NoNetwork: "no network",
	OperationInvalid: "operation invalid", InvalidArg: "invalid argument", XMLError: "XML error",
	AlreadyExists: "already exists", Canceled: "canceled",
}

func (c Code) String() string { return codeNames[c] }

// Error is every error the service returns: a Code and the cause, whose
// message it keeps (the errdefs class stays in the chain: errors.Is works).
type Error struct {
	Code Code
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns err's Code (OperationFailed for an error not from here).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return OperationFailed
}

// object is what an operation is about, for NoDomain against NoNetwork.
type object int

const (
	onDomain object = iota
	onNetwork
)

// classify wraps err in an Error with the code its class says; nil stays
// nil and an Error keeps its code.
func classify(on object, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var xe domain.Errors
	code := OperationFailed
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		code = Canceled
	case errors.As(err, &xe):
		code = XMLError
	case errors.Is(err, errdefs.ErrNotFound) && on == onNetwork:
		code = NoNetwork
	case errors.Is(err, errdefs.ErrNotFound):
		code = NoDomain
	case errors.Is(err, errdefs.ErrAlreadyExists):
		code = AlreadyExists
	case errors.Is(err, errdefs.ErrAlreadyRunning), errors.Is(err, errdefs.ErrNotRunning):
		code = OperationInvalid
	case errors.Is(err, errdefs.ErrInvalid):
		code = InvalidArg
	case errdefs.IsUserError(err):
		// A failed start step that is the user's (a rootfs without init).
		code = InvalidArg
	}
	return &Error{Code: code, Err: err}
}
