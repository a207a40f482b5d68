package fuseraw

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Handler answers the requests about a filesystem's nodes. Its methods
// are called one at a time, from Serve's goroutine.
type Handler interface {
	Lookup(r *Request, out *EntryOut) syscall.Errno
	Getattr(r *Request, out *AttrOut) syscall.Errno
	// Open and Opendir fill out's Fh and OpenFlags.
	Open(r *Request, out *OpenOut) syscall.Errno
	Opendir(r *Request, out *OpenOut) syscall.Errno
	// Read returns what r asks for; what is past r.Size is not sent.
	// The slice is copied before Read is called again.
	Read(r *Request) ([]byte, syscall.Errno)
	Release(r *Request)
	Readdir(r *Request, out *DirList) syscall.Errno
}

// Options say how to mount.
type Options struct {
	// Source is the mount's source in mountinfo, Subtype its type's part
	// after "fuse." ("fuse.Subtype").
	Source, Subtype string
	// Flags are mount(2)'s (MS_RDONLY, MS_NOSUID...).
	Flags uintptr
	// Options are more mount options, comma-separated ("allow_other,default_permissions").
	Options string
	// MaxRead is the most one READ asks for (the mount's max_read; at
	// least 4096): the reply buffer's size.
	MaxRead int
}

// Conn is a mounted FUSE connection served by one goroutine with one
// request buffer and one reply buffer.
type Conn struct {
	fd int // /dev/fuse
	h  Handler

	in  []byte // one request
	out []byte // one reply
	dir []byte // one READDIR answer's entries
	req Request
}

// maxWrite is what INIT says of WRITE requests: none come (the mounts are
// read-only), and the kernel sizes its need for read buffers from it.
const maxWrite = 4096

// Mount mounts a FUSE filesystem at dir served by h, and answers the
// kernel's INIT before it returns: the mount is usable once Serve runs.
func Mount(dir string, h Handler, o Options) (*Conn, error) {
	if o.MaxRead < 4096 {
		o.MaxRead = 4096
	}
	// Blocking reads, in the thread that runs Serve, not Go's poller:
	// epoll_ctl of a file of this mount (os.Open of one, in this very
	// process) sends the server a POLL while it holds the epoll's lock,
	// which the poller would need to wake Serve for it.
	fd, err := unix.Open("/dev/fuse", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/fuse: %w", err)
	}
	data := "fd=" + strconv.Itoa(fd) + ",rootmode=40000,user_id=" + strconv.Itoa(os.Getuid()) +
		",group_id=" + strconv.Itoa(os.Getgid()) + ",max_read=" + strconv.Itoa(o.MaxRead)
	if o.Options != "" {
		data += "," + o.Options
	}
	if err := unix.Mount(o.Source, dir, "fuse."+o.Subtype, o.Flags, data); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mount fuse.%s on %s: %w", o.Subtype, dir, err)
	}
	c := &Conn{fd: fd, h: h,
		in: make([]byte, minReadBuffer), out: make([]byte, 0, outHeaderSize+o.MaxRead),
		dir: make([]byte, 0, 4096)}
	if err := c.init(); err != nil {
		_ = unix.Unmount(dir, unix.MNT_DETACH)
		unix.Close(fd)
		return nil, fmt.Errorf("mount fuse.%s on %s: %w", o.Subtype, dir, err)
	}
	return c, nil
}

// init answers the kernel's first request, INIT.
func (c *Conn) init() error {
	r, err := c.next()
	if err != nil {
		return err
	}
	if r == nil {
		return errors.New("the connection ended before INIT")
	}
	if r.Opcode != opInit {
		c.reply(r.Unique, syscall.EIO, nil)
		return fmt.Errorf("first request has opcode %d, not INIT", r.Opcode)
	}
	if r.init.Major < Major {
		c.reply(r.Unique, syscall.EPROTO, nil)
		return fmt.Errorf("the kernel speaks FUSE %d.%d, older than %d", r.init.Major, r.init.Minor, Major)
	}
	out := initOut{Major: Major, Minor: min(Minor, r.init.Minor), MaxReadahead: r.init.MaxReadahead,
		Flags: r.init.Flags & (initAsyncRead | initParallelDirops), MaxWrite: maxWrite}
	if r.init.Major > Major {
		// It answers with its version's INIT again at ours.
		out.Minor = Minor
	}
	b := bytesOf(&out)
	if out.Minor <= 22 {
		b = b[:compatInitOutSize]
	}
	return c.reply(r.Unique, 0, b)
}

// next reads and decodes the next request; nil when the connection ended
// (unmounted, or aborted). Requests that do not decode are answered EIO.
func (c *Conn) next() (*Request, error) {
	for {
		n, err := unix.Read(c.fd, c.in)
		switch {
		case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ECONNABORTED):
			return nil, nil
		case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.EINTR), errors.Is(err, syscall.EINVAL):
			// Interrupted before it was read, or a request larger than
			// the buffer (the kernel failed it with EIO): the next one.
			continue
		case err != nil:
			return nil, fmt.Errorf("read /dev/fuse: %w", err)
		}
		if err := Parse(c.in[:n], &c.req); err != nil {
			if n >= headerSize {
				c.reply(c.req.Unique, syscall.EIO, nil)
			}
			continue
		}
		return &c.req, nil
	}
}

// reply writes the answer to request unique. A request interrupted
// meanwhile (ENOENT) or a connection that ended needs none.
func (c *Conn) reply(unique uint64, errno syscall.Errno, body []byte) error {
	c.out = appendReply(c.out[:0], unique, errno, body)
	return c.write(c.out)
}

func (c *Conn) write(b []byte) error {
	for {
		_, err := unix.Write(c.fd, b)
		switch {
		case err == unix.EINTR:
			continue
		case err == nil, err == unix.ENOENT, err == unix.ENODEV, err == unix.ECONNABORTED:
			return nil
		}
		return fmt.Errorf("write /dev/fuse: %w", err)
	}
}

// Serve answers requests until the connection ends (nil: unmounted or
// aborted) or /dev/fuse fails.
func (c *Conn) Serve() error {
	for {
		r, err := c.next()
		if r == nil || err != nil {
			return err
		}
		c.serve(r)
	}
}

func (c *Conn) serve(r *Request) {
	var errno syscall.Errno
	var body []byte
	switch r.Opcode {
	case opForget, opBatchForget, opInterrupt:
		// No answer: node ids are the handler's own, and every request
		// is answered at once.
		return
	case opLookup:
		var out EntryOut
		errno = c.h.Lookup(r, &out)
		body = bytesOf(&out)
	case opGetattr:
		var out AttrOut
		errno = c.h.Getattr(r, &out)
		body = bytesOf(&out)
	case opOpen:
		var out OpenOut
		errno = c.h.Open(r, &out)
		body = bytesOf(&out)
	case opOpendir:
		var out OpenOut
		errno = c.h.Opendir(r, &out)
		body = bytesOf(&out)
	case opRead:
		body, errno = c.h.Read(r)
		body = body[:min(len(body), int(r.Size), cap(c.out)-outHeaderSize)]
	case opRelease:
		c.h.Release(r)
	case opReaddir:
		d := DirList{buf: c.dir[:0], max: min(int(r.Size), cap(c.dir))}
		errno = c.h.Readdir(r, &d)
		body = d.buf
	case opReleasedir, opDestroy:
	case opStatfs:
		out := statfsOut{Bsize: 4096, Frsize: 4096, NameLen: 255}
		body = bytesOf(&out)
	default:
		// FLUSH among them: ENOSYS tells the kernel to send no more
		// FLUSH (close(2) then waits on no request), GETXATTR no more
		// of those.
		errno = syscall.ENOSYS
	}
	_ = c.reply(r.Unique, errno, body)
}

// InvalEntry tells the kernel to forget its dentry name in directory
// parent (FUSE_NOTIFY_INVAL_ENTRY). Call it from another goroutine than
// Serve's (the kernel may wait on a request Serve is answering), never
// from a Handler method.
func (c *Conn) InvalEntry(parent uint64, name string) error {
	h := outHeader{Error: notifyInvalEntry}
	in := notifyInvalEntryOut{Parent: parent, NameLen: uint32(len(name))}
	b := make([]byte, 0, outHeaderSize+16+len(name)+1)
	b = append(b, bytesOf(&h)...)
	b = append(b, bytesOf(&in)...)
	b = append(b, name...)
	b = append(b, 0)
	h.Len = uint32(len(b))
	copy(b, bytesOf(&h))
	_, err := unix.Write(c.fd, b)
	if err != nil {
		return fmt.Errorf("notify the kernel of %q: %w", name, err)
	}
	return nil
}

// Close closes the connection's descriptor: if no other process holds it,
// the kernel aborts the connection (its mounts answer ENOTCONN).
func (c *Conn) Close() error { return unix.Close(c.fd) }
