// Package signame reads the signal names of <vmlite:stop signal='...'/> and
// of the stop defaults. domain validates with it and the supervisor sends
// what it returns, so a name that passes validation is always one that stop
// can send.
package signame

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// RTMin is SIGRTMIN as glibc programs (systemd) number it: the kernel's 32
// plus the two that glibc keeps for itself. RTMax is the kernel's last.
const (
	RTMin = 34
	RTMax = 64
)

// ErrNotSignal is returned for a name that is not a signal.
var ErrNotSignal = errors.New("not a signal name")

// Parse reads a signal name: one that x/sys/unix knows ("SIGTERM",
// "SIGWINCH"), "SIGRTMIN", "SIGRTMIN+N" or "SIGRTMAX-N" (N at most 30, so
// that both stay within the real-time range glibc leaves to programs).
func Parse(name string) (unix.Signal, error) {
	if s := unix.SignalNum(name); s != 0 {
		return s, nil
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		return rt(rest, "+", 1)
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		return rt(rest, "-", -1)
	}
	return 0, ErrNotSignal
}

// rt reads the offset after SIGRTMIN or SIGRTMAX.
func rt(rest, sign string, dir int) (unix.Signal, error) {
	base := RTMin
	if dir < 0 {
		base = RTMax
	}
	if rest == "" {
		return unix.Signal(base), nil
	}
	digits, ok := strings.CutPrefix(rest, sign)
	if !ok || digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, ErrNotSignal
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > RTMax-RTMin {
		return 0, errors.New("SIGRTMIN+N and SIGRTMAX-N are limited to N <= 30")
	}
	return unix.Signal(base + dir*n), nil
}
