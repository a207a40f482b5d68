package libvirtrpc

import "fmt"

// handler is one procedure.
type handler struct {
	fn func(c *conn, h Header, body []byte) (ret []byte, after func(), err error)
	// write: a mutating procedure, refused on read-only connections.
	write bool
	// beforeOpen: allowed before CONNECT_OPEN (the handshake).
	beforeOpen bool
}

// handlers maps procedure numbers to their handlers; filled by init funcs
// of the files that implement them.
var handlers = map[int32]handler{}

// reg registers fn for proc: A is the procedure's go-libvirt *Args struct
// (struct{} for none), R its *Ret (struct{} for none).
func reg[A, R any](proc int32, write bool, fn func(c *conn, a *A) (*R, error)) {
	regAfter(proc, write, func(c *conn, a *A) (*R, func(), error) {
		r, err := fn(c, a)
		return r, nil, err
	})
}

// regAfter is reg for procedures with work to do once the reply is queued
// (starting a stream).
func regAfter[A, R any](proc int32, write bool, fn func(c *conn, a *A) (*R, func(), error)) {
	if _, dup := handlers[proc]; dup {
		panic(fmt.Sprintf("libvirtrpc: procedure %d registered twice", proc))
	}
	handlers[proc] = handler{write: write, fn: func(c *conn, _ Header, body []byte) ([]byte, func(), error) {
		var a A
		if err := decode(body, &a); err != nil {
			return nil, nil, errRPC("procedure %d: %v", proc, err)
		}
		r, after, err := fn(c, &a)
		if err != nil || r == nil {
			return nil, after, err
		}
		b, err := encode(r)
		return b, after, err
	}}
}

type void = struct{}
