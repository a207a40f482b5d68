package launch

import (
	"strings"
	"testing"

	"vmlite/state"
)

// TestMemoryMinimum: a memory limit a guest cannot even be set up in is
// refused at /domain/memory with the minimum, whichever element sets it.
func TestMemoryMinimum(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		bad         bool
	}{
		{"1 byte", `<memtune><hard_limit unit='b'>1</hard_limit></memtune>`, true},
		{"1 MiB current", `<currentMemory unit='KiB'>1024</currentMemory>`, true},
		{"2 MiB", `<memtune><hard_limit unit='MiB'>2</hard_limit></memtune>`, false},
		{"none", ``, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := parse(t, "g", "", tc.extra, "")
			_, err := Build(d, opts(state.NewLayout(t.TempDir())))
			if !tc.bad {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "/domain/memory") || !strings.Contains(err.Error(), "at least 2 MiB") {
				t.Fatalf("Build = %v, want a /domain/memory error naming the 2 MiB minimum", err)
			}
		})
	}
}
