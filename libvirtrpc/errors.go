package libvirtrpc

import (
	"errors"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/internal/errdefs"
)

// remoteError is remote_protocol.x's remote_error, the body of every
// REPLY/ERROR (go-libvirt's copy is unexported).
type remoteError struct {
	Code    int32
	Domain  int32
	Message libvirt.OptString
	Level   int32
	Dom     libvirt.OptDomain
	Str1    libvirt.OptString
	Str2    libvirt.OptString
	Str3    libvirt.OptString
	Int1    int32
	Int2    int32
	Net     libvirt.OptNetwork
}

// Error is a libvirt error to send: its code picks the client's message
// and fallbacks (42 "failed to get domain", 3 try the legacy call...).
type Error struct {
	Code   libvirt.ErrorNumber
	Domain int32
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// errorf builds an Error of code in the LXC driver's domain.
func errorf(code libvirt.ErrorNumber, format string, args ...any) *Error {
	return &Error{Code: code, Domain: fromLXC, Msg: fmt.Sprintf(format, args...)}
}

// Common errors, worded as libvirt words them so that clients' output
// looks as users know it.
func errNoSupport(what string) *Error {
	return errorf(libvirt.ErrNoSupport, "this function is not supported by the connection driver: %s", what)
}

func errDenied(proc int32) *Error {
	return &Error{Code: libvirt.ErrOperationDenied, Domain: fromRemote,
		Msg: fmt.Sprintf("operation forbidden: read only access prevents procedure %d; connect to libvirt-sock as root or a member of group vmlite", proc)}
}

func errRPC(format string, args ...any) *Error {
	return &Error{Code: libvirt.ErrRPC, Domain: fromRPC, Msg: fmt.Sprintf(format, args...)}
}

// toError maps a backend error to libvirt's code for it: vmlite's error
// classes become the codes clients test (NO_DOMAIN on a lookup miss,
// OPERATION_INVALID for a wrong state).
func toError(err error, network bool) *Error {
	var le *Error
	if errors.As(err, &le) {
		return le
	}
	dom := fromLXC
	if network {
		dom = fromNetwork
	}
	code := libvirt.ErrInternalError
	msg := err.Error()
	switch {
	case errors.Is(err, errdefs.ErrNotFound) && network:
		code, msg = libvirt.ErrNoNetwork, "Network not found: "+msg
	case errors.Is(err, errdefs.ErrNotFound):
		code, msg = libvirt.ErrNoDomain, "Domain not found: "+msg
	case errors.Is(err, errdefs.ErrNotRunning), errors.Is(err, errdefs.ErrAlreadyRunning):
		code, msg = libvirt.ErrOperationInvalid, "Requested operation is not valid: "+msg
	case errors.Is(err, errdefs.ErrAlreadyExists):
		code, msg = libvirt.ErrOperationFailed, "operation failed: "+msg
	case errdefs.IsUserError(err):
		code, msg = libvirt.ErrXMLError, "XML error: "+msg
	}
	return &Error{Code: code, Domain: dom, Msg: msg}
}

// body encodes e as a remote_error.
func (e *Error) body() []byte {
	re := remoteError{Code: int32(e.Code), Domain: e.Domain, Message: libvirt.OptString{e.Msg}, Level: int32(libvirt.ErrError)}
	b, err := encode(&re)
	if err != nil {
		panic(fmt.Sprintf("libvirtrpc: encode remote_error: %v", err)) // a fixed struct: cannot fail
	}
	return b
}
