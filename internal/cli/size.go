package cli

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode"

	"vmlite/internal/errdefs"
)

// parseScaledSize reads a size the way virsh does (virScaleInteger): an
// integer with an optional unit, case-insensitive: b/byte/bytes; k, KiB (1024)
// or KB (1000), and the same for M, G, T, P, E. Without a unit the value is
// in KiB, as virsh setmem and memtune take it. It returns bytes.
func parseScaledSize(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	if num == "" {
		return 0, fmt.Errorf("size %q: want a number with an optional unit such as 512M or 1G: %w", s, errdefs.ErrInvalid)
	}
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, errdefs.ErrInvalid)
	}
	scale, err := unitScale(unit)
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	hi, lo := bits.Mul64(v, scale)
	if hi != 0 || lo > 1<<62 {
		return 0, fmt.Errorf("size %q: too large: %w", s, errdefs.ErrInvalid)
	}
	return lo, nil
}

// unitScale returns the bytes in one unit; "" is KiB.
func unitScale(unit string) (uint64, error) {
	u := strings.ToLower(unit)
	switch u {
	case "":
		return 1024, nil
	case "b", "byte", "bytes":
		return 1, nil
	}
	exp := strings.IndexByte("kmgtpe", u[0]) + 1
	if exp == 0 {
		return 0, fmt.Errorf("unknown unit %q (b, KiB, KB, MiB, MB, GiB, GB, TiB, TB, PiB, PB, EiB, EB): %w", unit, errdefs.ErrInvalid)
	}
	base := uint64(0)
	switch u[1:] {
	case "", "ib":
		base = 1024
	case "b":
		base = 1000
	default:
		return 0, fmt.Errorf("unknown unit %q (b, KiB, KB, MiB, MB, GiB, GB, TiB, TB, PiB, PB, EiB, EB): %w", unit, errdefs.ErrInvalid)
	}
	scale := uint64(1)
	for ; exp > 0; exp-- {
		scale *= base
	}
	return scale, nil
}

// parseLimitSize is parseScaledSize that also takes "-1" or "unlimited"
// for no limit (0), as virsh memtune does.
func parseLimitSize(s string) (uint64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "-1", "unlimited":
		return 0, nil
	}
	return parseScaledSize(s)
}

// kib renders bytes in KiB as virsh prints sizes, "unlimited" for 0.
func kib(b uint64) string {
	if b == 0 {
		return "unlimited"
	}
	return strconv.FormatUint(b/1024, 10)
}
