package main

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"only NaN", []float64{nan, nan}, Summary{}},
		{"one", []float64{3}, Summary{Median: 3, Min: 3, Max: 3, N: 1}},
		{"odd unsorted", []float64{5, 1, 3}, Summary{Median: 3, Min: 1, Max: 5, N: 3}},
		{"even takes the mean of the middle two", []float64{4, 1, 2, 10}, Summary{Median: 3, Min: 1, Max: 10, N: 4}},
		{"NaN left out", []float64{nan, 2, 8, nan, 4}, Summary{Median: 4, Min: 2, Max: 8, N: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.in); got != tt.want {
				t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRatio(t *testing.T) {
	tests := []struct {
		name string
		a, b Summary
		want float64
	}{
		{"half", Summary{Median: 1, N: 1}, Summary{Median: 2, N: 3}, 0.5},
		{"no samples on the left", Summary{}, Summary{Median: 2, N: 3}, math.NaN()},
		{"no samples on the right", Summary{Median: 2, N: 3}, Summary{}, math.NaN()},
		{"zero divisor", Summary{Median: 2, N: 3}, Summary{Median: 0, N: 3}, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ratio(tt.a, tt.b)
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tt.want) {
				t.Errorf("ratio = %v, want %v", got, tt.want)
			}
		})
	}
}
