package main

import (
	"math"
	"sort"
)

// Summary is the median, minimum and maximum of a set of samples.
type Summary struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"`
}

// summarize reduces samples to a Summary; NaNs (a sample that does not
// exist, such as a start command's return for a peer whose start command
// stays in the foreground) are left out. No samples give N == 0.
func summarize(samples []float64) Summary {
	var xs []float64
	for _, x := range samples {
		if !math.IsNaN(x) {
			xs = append(xs, x)
		}
	}
	if len(xs) == 0 {
		return Summary{}
	}
	sort.Float64s(xs)
	n := len(xs)
	med := xs[n/2]
	if n%2 == 0 {
		med = (xs[n/2-1] + xs[n/2]) / 2
	}
	return Summary{Median: med, Min: xs[0], Max: xs[n-1], N: n}
}

// ratio is a/b, or NaN where either side has no samples or b is zero.
func ratio(a, b Summary) float64 {
	if a.N == 0 || b.N == 0 || b.Median == 0 {
		return math.NaN()
	}
	return a.Median / b.Median
}
