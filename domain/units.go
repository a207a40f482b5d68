package domain

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"vmlite/internal/errdefs"
)

// unitScale maps libvirt's unit spellings (virScaleInteger) to their size in
// bytes. Matching is case-insensitive, as in libvirt: "k" and "KiB" are
// powers of 1024, "KB" powers of 1000.
var unitScale = map[string]uint64{
	"b": 1, "byte": 1, "bytes": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	"p": 1 << 50, "pib": 1 << 50, "pb": 1e15,
	"e": 1 << 60, "eib": 1 << 60, "eb": 1e18,
}

// unitNames lists the accepted unit spellings, for messages.
const unitNames = "b, bytes, k, KiB, KB, M, MiB, MB, G, GiB, GB, T, TiB, TB, P, PiB, PB, E, EiB, EB"

// DefaultMemoryUnit is the unit of <memory>, <currentMemory> and <memtune>
// values that have no unit attribute, as in libvirt.
const DefaultMemoryUnit = "KiB"

// ScaledBytes returns value in unit as bytes. unit "" means KiB (libvirt's
// default for memory sizes). An unknown unit or an overflow is ErrInvalid.
func ScaledBytes(value uint64, unit string) (uint64, error) {
	if unit == "" {
		unit = DefaultMemoryUnit
	}
	scale, ok := unitScale[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("%w: unknown unit %q (use one of %s)", errdefs.ErrInvalid, unit, unitNames)
	}
	hi, lo := bits.Mul64(value, scale)
	if hi != 0 || lo > math.MaxInt64 {
		return 0, fmt.Errorf("%w: %d %s is too large", errdefs.ErrInvalid, value, unit)
	}
	return lo, nil
}
