package main

import (
	"math"
	"testing"
)

// A real line of bonnie++ 2.00a -s 3G -r 1536M -n 0 -f -q on the
// development machine, and one where the reads were too fast to time.
const (
	bonnieLine    = "1.98,2.00a,vm,1,1795385985,3G,,8192,5,,,239883,87,894703,67,,,3478529,99,8325,46,,,,,,,,,,,,,,,,,,,104ms,49552us,,1060us,15236us,,,,,,"
	bonnieTooFast = "1.98,2.00a,vm,1,1795389240,512M,,8192,5,,,358777,83,842089,61,,,+++++,+++,+++++,+++,,,,,,,,,,,,,,,,,,,1054us,1676us,,84us,8059us,,,,,,"
)

func TestParseBonnie(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		out     string
		want    []float64
		wantErr bool
	}{
		{"csv alone", bonnieLine + "\n", []float64{239883.0 / 1024, 894703.0 / 1024, 3478529.0 / 1024, 8325}, false},
		{"mixed with the table on stderr", "Version 2.00a  ------Sequential Output------\nName:Size etc /sec %CP\n" + bonnieLine + "\nLatency 104ms\n",
			[]float64{239883.0 / 1024, 894703.0 / 1024, 3478529.0 / 1024, 8325}, false},
		{"too fast to time", bonnieTooFast, []float64{358777.0 / 1024, 842089.0 / 1024, nan, nan}, false},
		{"no csv", "bonnie++: invalid option -- 'h'\nusage:\n", nil, true},
		{"other format", "1.97,1.97,vm,1,1,3G,,8192,5,,,1,2,3,4,,,5,6,7,8", nil, true},
		{"garbage figure", "1.98,2.00a,vm,1,1,3G,,8192,5,,,x,87,1,67,,,1,99,1,46", nil, true},
		{"negative figure", "1.98,2.00a,vm,1,1,3G,,8192,5,,,-1,87,1,67,,,1,99,1,46", nil, true},
		{"short line", "1.98,2.00a,vm", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBonnie(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if math.IsNaN(tt.want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(got[i]) && math.Abs(got[i]-tt.want[i]) > 1e-9) {
					t.Errorf("%s = %v, want %v", bonnieFields[i].name, got[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzParseBonnie(f *testing.F) {
	f.Add(bonnieLine)
	f.Add(bonnieTooFast)
	f.Add("1.98,,,,,,,,,,,,,,,,,,,,,")
	f.Fuzz(func(t *testing.T, out string) {
		vals, err := parseBonnie(out)
		if err != nil {
			return
		}
		if len(vals) != len(bonnieFields) {
			t.Fatalf("%d figures, want %d", len(vals), len(bonnieFields))
		}
		for _, v := range vals {
			if v < 0 || math.IsInf(v, 0) {
				t.Fatalf("figure %v from %q", v, out)
			}
		}
	})
}

func TestPairedDeltas(t *testing.T) {
	nan := math.NaN()
	host := [][]float64{{100, 10}, {200, nan}, {0, 5}, {50, 5}}
	guest := [][]float64{{110, 9}, {150, 3}, {10, 5}}
	tests := []struct {
		j    int
		want []float64
	}{
		{0, []float64{10, -25, nan}},
		{1, []float64{-10, nan, 0}},
	}
	for _, tt := range tests {
		got := pairedDeltas(host, guest, tt.j)
		if len(got) != len(tt.want) {
			t.Fatalf("figure %d: got %v, want %v", tt.j, got, tt.want)
		}
		for i := range got {
			if math.IsNaN(tt.want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(got[i]) && math.Abs(got[i]-tt.want[i]) > 1e-9) {
				t.Errorf("figure %d run %d: %v, want %v", tt.j, i, got[i], tt.want[i])
			}
		}
	}
}
