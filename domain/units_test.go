package domain

import (
	"errors"
	"testing"

	"vmlite/internal/errdefs"
)

func TestScaledBytes(t *testing.T) {
	for _, tc := range []struct {
		v    uint64
		unit string
		want uint64
		err  bool
	}{
		{1, "", 1024, false},
		{1, "b", 1, false},
		{3, "bytes", 3, false},
		{1, "k", 1024, false},
		{1, "KiB", 1024, false},
		{1, "KB", 1000, false},
		{2, "M", 2 << 20, false},
		{1, "MiB", 1 << 20, false},
		{1, "MB", 1e6, false},
		{1, "GiB", 1 << 30, false},
		{1, "gb", 1e9, false},
		{1, "T", 1 << 40, false},
		{1, "TB", 1e12, false},
		{1, "PiB", 1 << 50, false},
		{7, "EiB", 7 << 60, false},
		{8, "EiB", 0, true},
		{1 << 60, "KiB", 0, true},
		{1, "MB2", 0, true},
		{1, "kibibytes", 0, true},
	} {
		got, err := ScaledBytes(tc.v, tc.unit)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ScaledBytes(%d, %q) = %d, %v; want %d, err %v", tc.v, tc.unit, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ScaledBytes(%d, %q): error %v is not ErrInvalid", tc.v, tc.unit, err)
		}
	}
}
