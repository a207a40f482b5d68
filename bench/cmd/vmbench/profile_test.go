package main

import (
	"strings"
	"testing"
)

const sampleTrace = `100   10.000 execve("bin/vmlite", ["bin/vmlite", "start", "/tmp/g.xml"], 0x7ffe /* 40 vars */) = 0
101 10.050 execve("/bin/vmlite", ["vmlite", "__supervise", "g"], 0x23 /* 1 var */ <unfinished ...>
101 10.100 read(3, "{\"version\":1}", 512) = 14
102 10.101 read(3, "{\"version\":1}", 512) = 14
103 10.120 clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK|CLONE_NEWNS|CLONE_NEWPID|SIGCHLD <unfinished ...>
104 10.125 execve("/proc/self/exe", ["vmlite", "__init"], 0x2 /* 0 vars */ <unfinished ...>
104 10.150 recvmsg(3, {msg_name=NULL}, 0) = 100 <0.010000>
104 10.170 execve("/sbin/init", ["/sbin/init"], 0x1 /* 7 vars */ <unfinished ...>
105 10.180 write(4, "{\"ok\":true,\"initPid\":104}\n", 26) = 26
100 10.182 write(1, "Guest g started (init pid 104)\n", 31) = 31
106 10.230 write(1, "vmlite-guest: BOOTED g\n", 23) = 23
`

func TestParseStartTrace(t *testing.T) {
	e := parseStartTrace(strings.NewReader(sampleTrace))
	want := traceEvents{10.000, 10.050, 10.100, 10.120, 10.160, 10.170, 10.180, 10.182, 10.230}
	if e != want {
		t.Fatalf("events %+v, want %+v", e, want)
	}
	ph, ok := e.phases()
	if !ok || len(ph) != len(phaseNames) {
		t.Fatalf("phases %v ok=%v", ph, ok)
	}
	wantMs := []float64{50, 50, 20, 40, 10, 10, 2, 60}
	for i := range wantMs {
		if d := ph[i] - wantMs[i]; d > 0.001 || d < -0.001 {
			t.Errorf("phase %d = %.3f ms, want %.3f", i, ph[i], wantMs[i])
		}
	}
}

func TestParseStartTraceIncomplete(t *testing.T) {
	cut := strings.Join(strings.Split(sampleTrace, "\n")[:5], "\n")
	if _, ok := parseStartTrace(strings.NewReader(cut)).phases(); ok {
		t.Error("phases of a trace without init's exec")
	}
}

func FuzzParseStartTrace(f *testing.F) {
	f.Add(sampleTrace)
	f.Fuzz(func(t *testing.T, s string) {
		if ph, ok := parseStartTrace(strings.NewReader(s)).phases(); ok && len(ph) != len(phaseNames) {
			t.Fatalf("%d phases", len(ph))
		}
	})
}

func TestParseStartTraceResumedRecv(t *testing.T) {
	tr := strings.Replace(sampleTrace, "104 10.150 recvmsg(3, {msg_name=NULL}, 0) = 100 <0.010000>\n",
		"104 10.130 recvmsg(3,  <unfinished ...>\n103 10.140 write(2, \"x\", 1) = 1 <0.000010>\n104 10.160 <... recvmsg resumed>{msg_name=NULL}, 0) = 100 <0.030000>\n", 1)
	if e := parseStartTrace(strings.NewReader(tr)); e.initRecv != 10.160 {
		t.Errorf("initRecv = %v, want the resumed line's 10.160", e.initRecv)
	}
}

func TestSyscallDuration(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"recvmsg(3, {}, 0) = 100 <0.010000>", 0.01},
		{"recvmsg(3, {}, 0) = 100", 0},
		{"write(1, \"<x>\", 3) = 3", 0},
		{"x <abc>", 0},
	}
	for _, tt := range tests {
		if got := syscallDuration(tt.in); got != tt.want {
			t.Errorf("syscallDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
