package caps

import "fmt"

// Mask is the bit mask of the named capabilities (bit N: capability N).
func Mask(names []string) (uint64, error) {
	var m uint64
	for _, name := range names {
		n, ok := ByName(name)
		if !ok {
			return 0, fmt.Errorf("unknown capability %s", name)
		}
		m |= 1 << uint(n)
	}
	return m, nil
}
