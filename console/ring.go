package console

// ring keeps the last max bytes written to it: the scrollback replayed to
// every new client. It grows on demand up to max, so that the hundreds of
// idle consoles of a busy host cost only what their guests actually printed.
// Not safe for concurrent use: the Mux's mu guards it.
type ring struct {
	max  int
	buf  []byte // len(buf) <= max; full once len(buf) == max
	head int    // when full: index of the oldest byte
}

func newRing(max int) *ring { return &ring{max: max} }

// Write appends p, discarding the oldest bytes beyond max.
func (r *ring) Write(p []byte) {
	if r.max <= 0 {
		return
	}
	if len(p) >= r.max {
		// Only the tail of p survives.
		r.buf = r.buf[:0]
		r.grow(r.max)
		r.buf = append(r.buf, p[len(p)-r.max:]...)
		r.head = 0
		return
	}
	if room := r.max - len(r.buf); room > 0 {
		n := min(room, len(p))
		r.grow(n)
		r.buf = append(r.buf, p[:n]...)
		p = p[n:]
	}
	for len(p) > 0 { // full: overwrite from head, wrapping
		n := copy(r.buf[r.head:], p)
		p = p[n:]
		r.head = (r.head + n) % r.max
	}
}

// grow makes room for n more bytes, doubling but never past max, so that
// the buffer's capacity stays within the configured scrollback.
func (r *ring) grow(n int) {
	if len(r.buf)+n <= cap(r.buf) {
		return
	}
	nb := make([]byte, len(r.buf), min(max(2*cap(r.buf), len(r.buf)+n, 1024), r.max))
	copy(nb, r.buf)
	r.buf = nb
}

// Len returns the number of bytes held.
func (r *ring) Len() int { return len(r.buf) }

// Bytes returns a copy of the content, oldest byte first.
func (r *ring) Bytes() []byte {
	out := make([]byte, 0, len(r.buf))
	out = append(out, r.buf[r.head:]...)
	return append(out, r.buf[:r.head]...)
}
