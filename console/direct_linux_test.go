package console

import (
	"strings"
	"testing"

	"vmlite/internal/testutil"
)

// TestDirectInput: once a client has the replay (and with it the pty
// master), what it types reaches the guest without passing through the
// multiplexer, and the guest's answer still reaches every client.
func TestDirectInput(t *testing.T) {
	f := newFixture(t, Config{})
	f.startShell(t)
	if _, err := f.slave.WriteString("booted\n"); err != nil {
		t.Fatal(err)
	}
	a := f.attachPipe(t, AttachOptions{})
	b := f.attachPipe(t, AttachOptions{})
	for name, c := range map[string]*pipeClient{"a": a, "b": b} {
		testutil.WaitFor(t, waitLong, name+" got the replay", func() bool { return strings.Contains(c.out.String(), "booted") })
	}
	a.typeString(t, "echo marker-$((40+2))\n")
	b.typeString(t, "echo second-$((6*7))\n")
	for name, c := range map[string]*pipeClient{"a": a, "b": b} {
		testutil.WaitFor(t, waitLong, name+" sees both commands' output", func() bool {
			out := c.out.String()
			return strings.Contains(out, "marker-42") && strings.Contains(out, "second-42")
		})
	}
	if n := f.m.framedIn.Load(); n != 0 {
		t.Errorf("%d input bytes went through the multiplexer, want all straight to the pty", n)
	}
}

// TestInputBeforeMasterStaysFramed: input that went through the socket
// before the master arrived keeps going that way (the two paths could
// overtake each other), and arrives in order.
func TestInputBeforeMasterStaysFramed(t *testing.T) {
	f := newFixture(t, Config{})
	f.startShell(t)
	r := &attachSession{framed: true}
	r.master.Store(-1)
	if rest := r.writeDirect([]byte("x")); string(rest) != "x" {
		t.Fatalf("writeDirect of a framed session wrote %q", rest)
	}
	a := f.attachPipe(t, AttachOptions{})
	// Typed at once: usually before the replay is read.
	a.typeString(t, "echo one-$((0+1)); echo two-$((1+1))\n")
	testutil.WaitFor(t, waitLong, "both lines, in order", func() bool {
		out := a.out.String()
		i, j := strings.Index(out, "one-1"), strings.Index(out, "two-2")
		return i >= 0 && j > i
	})
}
