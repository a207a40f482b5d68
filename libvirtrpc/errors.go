package libvirtrpc

import (
	"errors"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"vmlite/internal/errdefs"
	"vmlite/service"
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

// toError maps a backend error to libvirt's code for it: the service's
// Code becomes the number clients test (NO_DOMAIN on a lookup miss,
// OPERATION_INVALID for a wrong state, INVALID_ARG for an impossible
// value), with libvirt's words in front of vmlite's message.
func toError(err error, network bool) *Error {
	var le *Error
	if errors.As(err, &le) {
		return le
	}
	dom := fromLXC
	if network {
		dom = fromNetwork
	}
	code, prefix := libvirt.ErrInternalError, "internal error: "
	var se *service.Error
	if errors.As(err, &se) {
		switch se.Code {
		case service.NoDomain:
			code, prefix = libvirt.ErrNoDomain, "Domain not found: "
		case service.NoNetwork:
			code, prefix = libvirt.ErrNoNetwork, "Network not found: "
		case service.OperationInvalid:
			code, prefix = libvirt.ErrOperationInvalid, "Requested operation is not valid: "
		case service.InvalidArg:
			code, prefix = libvirt.ErrInvalidArg, "invalid argument: "
		case service.XMLError:
			code, prefix = libvirt.ErrXMLError, "XML error: "
		case service.AlreadyExists:
			code, prefix = libvirt.ErrOperationFailed, "operation failed: "
		case service.Canceled:
			code, prefix = libvirt.ErrOperationAborted, "operation aborted: "
		default:
			code, prefix = libvirt.ErrOperationFailed, "operation failed: "
		}
	} else if errors.Is(err, errdefs.ErrInvalid) {
		// The backend's own argument checks (a console name).
		code, prefix = libvirt.ErrInvalidArg, "invalid argument: "
	}
	return &Error{Code: code, Domain: dom, Msg: prefix + err.Error()}
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
