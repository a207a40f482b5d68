package libvirtrpc

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	xdr "github.com/davecgh/go-xdr/xdr2"
	libvirt "github.com/digitalocean/go-libvirt"
)

// Typed parameters (remote_typed_param: a field name and a union of
// int/uint/llong/ullong/double/boolean/string) carry memtune, schedinfo
// and blkiotune values. go-libvirt's TypedParam is the wire type, but its
// union decodes only with go-libvirt's internal XDR fork; the plain
// decoder stops at the interface, so call arguments that hold typed
// parameters are read here.

// Limits of remote_protocol.x: REMOTE_DOMAIN_{MEMORY,SCHEDULER,BLKIO}_
// PARAMETERS_MAX are 16, and a field name is at most
// VIR_TYPED_PARAM_FIELD_LENGTH bytes.
const (
	maxTypedParams = 16
	maxFieldLen    = libvirt.TypedParamFieldLength
)

// typedParamsArgs is remote_domain_set_{memory,blkio,scheduler}_
// parameters[_flags]_args: the domain, the parameters and, but for
// SET_SCHEDULER_PARAMETERS 58, flags.
type typedParamsArgs struct {
	Dom    libvirt.Domain
	Params []libvirt.TypedParam
	Flags  uint32
}

// decodeTypedParamsArgs reads a typedParamsArgs; withFlags says whether
// the flags word follows the parameters. Lengths are bounded by the body.
func decodeTypedParamsArgs(body []byte, withFlags bool) (a typedParamsArgs, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed arguments: %v", r)
		}
	}()
	d := xdr.NewDecoderLimited(bytes.NewReader(body), uint(len(body)))
	if _, err := d.Decode(&a.Dom); err != nil {
		return a, fmt.Errorf("malformed arguments: domain: %w", err)
	}
	n, _, err := d.DecodeUint()
	if err != nil {
		return a, fmt.Errorf("malformed arguments: parameter count: %w", err)
	}
	if n > maxTypedParams {
		return a, fmt.Errorf("malformed arguments: %d typed parameters, at most %d", n, maxTypedParams)
	}
	for i := uint32(0); i < n; i++ {
		p, err := decodeTypedParam(d)
		if err != nil {
			return a, fmt.Errorf("malformed arguments: parameter %d: %w", i, err)
		}
		a.Params = append(a.Params, p)
	}
	if withFlags {
		if a.Flags, _, err = d.DecodeUint(); err != nil {
			return a, fmt.Errorf("malformed arguments: flags: %w", err)
		}
	}
	return a, nil
}

func decodeTypedParam(d *xdr.Decoder) (libvirt.TypedParam, error) {
	var p libvirt.TypedParam
	f, _, err := d.DecodeString()
	if err != nil {
		return p, err
	}
	if len(f) > maxFieldLen {
		return p, fmt.Errorf("field name of %d bytes, at most %d", len(f), maxFieldLen)
	}
	p.Field = f
	t, _, err := d.DecodeUint()
	if err != nil {
		return p, err
	}
	var v any
	switch libvirt.TypedParameterType(t) {
	case libvirt.TypedParamInt, libvirt.TypedParamBoolean:
		v, _, err = d.DecodeInt()
	case libvirt.TypedParamUint:
		v, _, err = d.DecodeUint()
	case libvirt.TypedParamLlong:
		v, _, err = d.DecodeHyper()
	case libvirt.TypedParamUllong:
		v, _, err = d.DecodeUhyper()
	case libvirt.TypedParamDouble:
		v, _, err = d.DecodeDouble()
	case libvirt.TypedParamString:
		v, _, err = d.DecodeString()
	default:
		return p, fmt.Errorf("field %q: unknown type %d", f, t)
	}
	p.Value = libvirt.TypedParamValue{D: t, I: v}
	return p, err
}

// paramSpec is a parameter a procedure takes: its name and type.
type paramSpec struct {
	name string
	typ  libvirt.TypedParameterType
}

// typeName is libvirt's name of a parameter type (virTypedParameterType
// ToString), for messages.
func typeName(t libvirt.TypedParameterType) string {
	switch t {
	case libvirt.TypedParamInt:
		return "int"
	case libvirt.TypedParamUint:
		return "uint"
	case libvirt.TypedParamLlong:
		return "llong"
	case libvirt.TypedParamUllong:
		return "ullong"
	case libvirt.TypedParamDouble:
		return "double"
	case libvirt.TypedParamBoolean:
		return "boolean"
	case libvirt.TypedParamString:
		return "string"
	}
	return strconv.Itoa(int(t))
}

// validateParams checks params against the procedure's specs as libvirt's
// virTypedParamsValidate does, with its codes and words: an unknown field
// is ARGUMENT_UNSUPPORTED, a wrong type or a field given twice INVALID_ARG.
func validateParams(params []libvirt.TypedParam, specs []paramSpec) error {
	seen := map[string]bool{}
	for _, p := range params {
		var spec *paramSpec
		for i := range specs {
			if specs[i].name == p.Field {
				spec = &specs[i]
			}
		}
		if spec == nil {
			var names []string
			for _, s := range specs {
				names = append(names, s.name)
			}
			return errorf(libvirt.ErrArgumentUnsupported, "argument unsupported: parameter '%s' not supported (this call takes %s)", p.Field, strings.Join(names, ", "))
		}
		if libvirt.TypedParameterType(p.Value.D) != spec.typ {
			return errorf(libvirt.ErrInvalidArg, "invalid argument: invalid type '%s' for parameter '%s', expected '%s'",
				typeName(libvirt.TypedParameterType(p.Value.D)), p.Field, typeName(spec.typ))
		}
		if seen[p.Field] {
			return errorf(libvirt.ErrInvalidArg, "invalid argument: parameter '%s' occurs multiple times", p.Field)
		}
		seen[p.Field] = true
	}
	return nil
}

// Parameter constructors for replies.
func ullongParam(f string, v uint64) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueUllong(v)}
}

func llongParam(f string, v int64) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueLlong(v)}
}

func uintParam(f string, v uint32) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueUint(v)}
}

func stringParam(f, v string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
}

// replyParams is what a GET_*_PARAMETERS call returns of all: at most
// nparams of them, and no strings unless the caller said it reads them
// (VIR_TYPED_PARAM_STRING_OKAY), as libvirtd filters for older clients.
func replyParams(all []libvirt.TypedParam, nparams int32, flags uint32) []libvirt.TypedParam {
	out := []libvirt.TypedParam{}
	for _, p := range all {
		if int32(len(out)) >= nparams {
			break
		}
		if p.Value.D == uint32(libvirt.TypedParamString) && flags&uint32(libvirt.TypedParamStringOkay) == 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}
