// Package idfile looks users and groups up in a guest's /etc/passwd and
// /etc/group (read through a path on the host, or inside the guest), the
// way <inituser>/<initgroup> and `vmlite exec --user` name them: a name, a
// number, or "+N".
package idfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrNoEntry means the name is not in the file.
var ErrNoEntry = errors.New("no such entry")

// Entry is one resolved line: the id, the primary gid (passwd; the id
// itself for group files and numbers) and the home directory (passwd; "/"
// for numbers).
type Entry struct {
	ID   int
	GID  int
	Home string
}

// Lookup resolves name in a passwd- or group-format file; "N" and "+N" are
// numeric and need no file.
func Lookup(file, name string) (Entry, error) {
	if n, err := strconv.Atoi(strings.TrimPrefix(name, "+")); err == nil {
		return Entry{ID: n, GID: n, Home: "/"}, nil
	}
	f, err := openRegular(file)
	if err != nil {
		return Entry{}, fmt.Errorf("look up %q: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, maxSize))
	for sc.Scan() {
		if e, ok, err := parseLine(sc.Text(), name); ok || err != nil {
			if err != nil {
				return Entry{}, fmt.Errorf("look up %q in %s: %w", name, file, err)
			}
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%q in %s: %w", name, file, ErrNoEntry)
}

// parseLine reads one line if it is name's.
func parseLine(line, name string) (Entry, bool, error) {
	fields := strings.Split(line, ":")
	if len(fields) < 3 || fields[0] != name {
		return Entry{}, false, nil
	}
	id, err := strconv.Atoi(fields[2])
	if err != nil {
		return Entry{}, true, fmt.Errorf("bad id %q", fields[2])
	}
	e := Entry{ID: id, GID: id, Home: "/"}
	if len(fields) >= 4 {
		if g, err := strconv.Atoi(fields[3]); err == nil {
			e.GID = g
		}
	}
	if len(fields) >= 6 && fields[5] != "" {
		e.Home = fields[5]
	}
	return e, true, nil
}

// maxSize bounds what is read of a file: the guest writes it.
const maxSize = 16 << 20

// ErrNotRegular means the file is a FIFO, a device, a directory...: the
// guest controls these files, and opening a FIFO or a device for reading
// can block or act.
var ErrNotRegular = errors.New("not a regular file")

// openRegular opens file without blocking (O_NONBLOCK: a FIFO opens at
// once) and refuses anything but a regular file.
func openRegular(file string) (*os.File, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%v)", file, ErrNotRegular, fi.Mode().Type())
	}
	return f, nil
}
