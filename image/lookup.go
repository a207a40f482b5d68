package image

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Resolve follows guest path p through an image's layers (top first) as
// the guest would see it: symbolic links resolved inside the guest's root,
// whiteouts and opaque directories honoured. It returns the resolved guest
// path and whether something is there.
func Resolve(layers []string, p string) (string, bool) {
	parts := splitPath(p)
	var done []string
	for hops := 0; len(parts) > 0; {
		cur := path.Join(append([]string{"/"}, append(done, parts[0])...)...)
		fi, ok := lookup(layers, cur)
		if !ok {
			return cur, false
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			if hops++; hops > 40 {
				return cur, false
			}
			target, _ := readlinkIn(layers, cur)
			if !path.IsAbs(target) {
				target = path.Join("/"+strings.Join(done, "/"), target)
			}
			parts = append(splitPath(target), parts[1:]...)
			done = nil
			continue
		}
		done = append(done, parts[0])
		parts = parts[1:]
	}
	return path.Join(append([]string{"/"}, done...)...), true
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		switch c {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, c)
		}
	}
	return out
}

// lookup finds the topmost layer entry of guest path p (its parents are
// real directories, Resolve made sure).
func lookup(layers []string, p string) (os.FileInfo, bool) {
	for _, l := range layers {
		fi, err := os.Lstat(filepath.Join(l, p))
		if err == nil {
			if isWhiteout(fi) {
				return nil, false
			}
			return fi, true
		}
		if opaqueAbove(l, p) {
			return nil, false
		}
	}
	return nil, false
}

func readlinkIn(layers []string, p string) (string, error) {
	for _, l := range layers {
		if t, err := os.Readlink(filepath.Join(l, p)); err == nil {
			return t, nil
		}
	}
	return "", os.ErrNotExist
}

func isWhiteout(fi os.FileInfo) bool {
	if fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	st, ok := fi.Sys().(*unix.Stat_t)
	return ok && st.Rdev == 0
}

// opaqueAbove: a directory on p's way in layer l hides the layers below.
func opaqueAbove(l, p string) bool {
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		buf := make([]byte, 2)
		if n, err := unix.Lgetxattr(filepath.Join(l, d), "trusted.overlay.opaque", buf); err == nil && string(buf[:n]) == "y" {
			return true
		}
	}
	return false
}
