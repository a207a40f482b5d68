package ctl

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"vmlite/plan"
)

// TestRequestLine: the hand-written lines are json.Marshal's bytes.
func TestRequestLine(t *testing.T) {
	for _, req := range []Request{
		{Op: OpStop},
		{Op: OpDestroy},
		{Op: OpStop, Timeout: 7 * time.Second},
		{Op: OpReboot, Timeout: -1},
		{Op: OpAttachDevice, Device: &plan.DeviceChange{}},
		{Op: "Stop\"\n"},
		{Op: ""},
	} {
		want, _ := json.Marshal(req)
		want = append(want, '\n')
		if got := requestLine(req); !bytes.Equal(got, want) {
			t.Errorf("requestLine(%+v) = %q, want %q", req, got, want)
		}
	}
}

func FuzzRequestLine(f *testing.F) {
	f.Add("stop", int64(0))
	f.Add("destroy", int64(30e9))
	f.Add("a\"b", int64(-5))
	f.Fuzz(func(t *testing.T, op string, timeout int64) {
		req := Request{Op: Op(op), Timeout: time.Duration(timeout)}
		want, _ := json.Marshal(req)
		want = append(want, '\n')
		got := requestLine(req)
		if !bytes.Equal(got, want) {
			t.Fatalf("requestLine(%+v) = %q, want %q", req, got, want)
		}
		var back Request
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("line %q does not decode: %v", got, err)
		}
	})
}
