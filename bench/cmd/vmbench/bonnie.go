package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// bonnieFields are the figures taken from bonnie++'s CSV line (format
// 1.98, bonnie++ 2.00): the field's index, its name, its unit and the
// divisor from bonnie++'s unit (KiB/s for the block figures) to ours.
var bonnieFields = []struct {
	idx   int
	name  string
	unit  string
	scale float64
}{
	{11, "block write", "MiB/s", 1024},
	{13, "rewrite", "MiB/s", 1024},
	{17, "block read", "MiB/s", 1024},
	{19, "random seeks", "seeks/s", 1},
}

// bonnieFormat is the CSV format version bonnie++ 2.00 writes first.
const bonnieFormat = "1.98"

// parseBonnie finds bonnie++'s CSV line in out (-q prints it on standard
// output, the human-readable table on standard error, and both may be
// mixed here) and returns the figures of bonnieFields, in their order. A
// figure bonnie++ could not time ("+++++": its test ended within half a
// second) or did not run is NaN.
func parseBonnie(out string) ([]float64, error) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) < 21 || f[0] != bonnieFormat {
			continue
		}
		vals := make([]float64, len(bonnieFields))
		for i, bf := range bonnieFields {
			s := f[bf.idx]
			if s == "" || strings.Trim(s, "+") == "" {
				vals[i] = math.NaN()
				continue
			}
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, fmt.Errorf("bonnie++ %s: %q is not a figure", bf.name, s)
			}
			vals[i] = v / bf.scale
		}
		return vals, nil
	}
	return nil, fmt.Errorf("no bonnie++ CSV line (format %s) in its output: %s", bonnieFormat, lastLines(strings.TrimSpace(out), 5))
}

// pairedDeltas is the guest's delta in % of figure j run by run: guest[i]
// against host[i]. Runs where either side has no figure (NaN) or the host's
// is 0 give NaN, which summarize leaves out.
func pairedDeltas(host, guest [][]float64, j int) []float64 {
	n := min(len(host), len(guest))
	out := make([]float64, n)
	for i := 0; i < n; i++ {
		h, g := host[i][j], guest[i][j]
		if math.IsNaN(h) || math.IsNaN(g) || h == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = (g - h) / h * 100
	}
	return out
}
