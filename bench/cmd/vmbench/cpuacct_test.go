package main

import (
	"reflect"
	"testing"
)

func TestCpuacctLine(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"12:cpu,cpuacct:/lxc.payload.a\n0::/\n", "/lxc.payload.a", true},
		{"2:cpuacct:/\n1:cpu:/x\n", "/", true},
		{"0::/user.slice\n", "", false},
		{"", "", false},
	} {
		got, ok := cpuacctLine(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("cpuacctLine(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestOutermost(t *testing.T) {
	got := outermost([]string{"/c/vmbench-1", "/c/vmlite/a", "/c/vmlite", "/c/vmbench-1/x", "/c/vmlite-b"})
	want := []string{"/c/vmbench-1", "/c/vmlite", "/c/vmlite-b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outermost = %v, want %v", got, want)
	}
}
