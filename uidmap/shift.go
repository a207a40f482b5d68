package uidmap

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"vmlite/internal/errdefs"
	"vmlite/plan"
)

// The chown shift. Where a filesystem cannot be idmapped (tmpfs before
// Linux 6.3, many FUSE filesystems, NFS) or the guest asks for it
// (<vmlite:idmap shift="chown"/>), the supervisor changes the owners of the
// tree on disk instead: a file the guest must see as uid g is stored as the
// host id the guest's map gives g. The map a tree is stored with is recorded
// outside the tree, where the guest cannot forge it:
//
//	<ShiftDir>/KEY.json     Record: the tree, its root inode, the map applied
//	<ShiftDir>/KEY.journal  only while a shift runs: header, then one Entry per
//	                        inode with its ids before the shift, written and
//	                        fsynced before that inode is touched
//	<ShiftDir>/KEY.lock     flock()ed by the one process shifting the tree
//
// KEY is a hash of the tree root's identity (device, inode, birth time). A shift goes from the recorded map
// (identity without a record) to the wanted one through the guest ids: host
// id h becomes to(from⁻¹(h)). Ids that either map cannot carry end as the
// overflow id 65534 seen from the new map (nobody in the guest), the one
// lossy case, counted in Stats.Unmapped.
//
// Never half-shifted: an inode's new ids are always computed from its ids
// before the shift, taken from the journal when it has them, so a shift
// interrupted at any point (crash, kill, full disk) and run again, with the
// same target or another, finishes exactly as an uninterrupted one would:
// the pending shift is completed first, then the record says where the tree
// is, then any further shift starts from there.

// OverflowID is the kernel's default overflow uid and gid: what an id
// without a mapping shows as.
const OverflowID = 65534

// systemDirs are host trees vmlite never shifts: chowning them would hand
// the host's own files to a guest's ids. A guest that bind-mounts one of
// them gets it through an idmapped mount or not at all.
var systemDirs = []string{"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
	"/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/log", "/var/tmp"}

// systemPrefixes are host trees nothing below which is shifted.
var systemPrefixes = []string{"/bin/", "/boot/", "/dev/", "/etc/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/proc/", "/sbin/", "/sys/", "/usr/"}

// ShiftAllowed refuses to shift host system directories (path is absolute
// and clean, symlinks resolved).
func ShiftAllowed(path string) error {
	for _, d := range systemDirs {
		if path == d {
			return fmt.Errorf("refusing to chown the host's %s for a guest's idmap: %w", path, errdefs.ErrInvalid)
		}
	}
	for _, p := range systemPrefixes {
		if strings.HasPrefix(path, p) {
			return fmt.Errorf("refusing to chown %s (under the host's %s) for a guest's idmap: %w", path, strings.TrimSuffix(p, "/"), errdefs.ErrInvalid)
		}
	}
	return nil
}

// Record says how a tree's owners are stored.
type Record struct {
	// Path is the tree's absolute path; Dev and Ino identify its root
	// directory, so that another tree put at the same path is not taken for
	// the shifted one.
	Path string `json:"path"`
	Dev  uint64 `json:"dev"`
	Ino  uint64 `json:"ino"`
	// Birth is the root directory's creation time (ns since the epoch; 0
	// where the filesystem does not keep it): inode numbers are reused at
	// once, a birth time is not.
	Birth int64 `json:"birth,omitempty"`
	// Map is the map applied: on disk, guest id g is stored as Map(g). An
	// empty map is the identity (the tree as it was made).
	Map plan.IDMap `json:"map"`
}

// JournalHeader is the first line of a journal: the shift in progress.
type JournalHeader struct {
	Path  string     `json:"path"`
	Dev   uint64     `json:"dev"`
	Ino   uint64     `json:"ino"`
	Birth int64      `json:"birth,omitempty"`
	From  plan.IDMap `json:"from"`
	To    plan.IDMap `json:"to"`
}

// Entry is one inode's ownership before the shift, with the xattrs that
// carry ids (POSIX ACLs, v3 file capabilities); nil ones are absent.
type Entry struct {
	Ino  uint64 `json:"i"`
	UID  uint32 `json:"u"`
	GID  uint32 `json:"g"`
	Mode uint32 `json:"m"`
	// ACL and DefaultACL are system.posix_acl_access and _default;
	// Cap is security.capability.
	ACL        []byte `json:"a,omitempty"`
	DefaultACL []byte `json:"d,omitempty"`
	Cap        []byte `json:"c,omitempty"`
}

// Stats counts what a shift did.
type Stats struct {
	// From and To are the maps shifted between; equal when nothing was done.
	From, To plan.IDMap
	// Inodes were looked at; Changed got new owners; Unmapped had ids one of
	// the maps could not carry (now owned by the overflow id).
	Inodes, Changed, Unmapped int
	// Resumed is true when an interrupted shift was completed first.
	Resumed bool
}

// Key is the file name stem of a tree's record and journal: a hash of its
// root directory's identity, not of its path, so that one tree reached by
// two paths (a bind mount, a symlink) has one record.
func Key(dev, ino uint64, birth int64) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%d:%d:%d", dev, ino, birth)))
	return hex.EncodeToString(sum[:12])
}

// nested reports whether a is b or lies below it (clean absolute paths).
func nested(a, b string) bool {
	return a == b || b == "/" || strings.HasPrefix(a, b+"/")
}

// Translator moves ids stored with one map to another.
type Translator struct {
	from, to           []plan.IDRange
	identFrom, identTo bool
}

// NewTranslator returns the id translation of a shift from one map to
// another, for uids (kind UID) or gids.
func NewTranslator(from, to plan.IDMap, k Kind) Translator {
	f, t := ranges(from, k), ranges(to, k)
	return Translator{from: f, to: t, identFrom: len(f) == 0, identTo: len(t) == 0}
}

// Map returns the new stored id for stored id h; ok is false when the id
// could not be carried and became the overflow id.
func (t Translator) Map(h uint32) (uint32, bool) {
	g := h
	ok := true
	if !t.identFrom {
		g, ok = ToGuest(t.from, h)
		if !ok {
			g = OverflowID
		}
	}
	if t.identTo {
		return g, ok
	}
	n, ok2 := ToHost(t.to, g)
	if !ok2 {
		// Even the overflow id may be outside a small map: then the host's
		// own overflow id, which shows as nobody everywhere.
		if n, ok2 = ToHost(t.to, OverflowID); !ok2 {
			n = OverflowID
		}
		return n, false
	}
	return n, ok
}

// ACL entry tags with an id (include/uapi/linux/posix_acl.h).
const (
	aclUser      = 0x02
	aclGroup     = 0x08
	aclVersion   = 2
	aclHeaderLen = 4
	aclEntryLen  = 8
)

// ShiftACL rewrites the ids of a POSIX ACL xattr value
// (system.posix_acl_access/default: a version word, then {tag u16, perm u16,
// id u32} entries, little-endian). Malformed values are returned unchanged
// with an error: the shift leaves such a file's ACL alone.
func ShiftACL(v []byte, uids, gids Translator) ([]byte, error) {
	if len(v) < aclHeaderLen || (len(v)-aclHeaderLen)%aclEntryLen != 0 || binary.LittleEndian.Uint32(v) != aclVersion {
		return v, fmt.Errorf("posix acl: malformed value (%d bytes)", len(v))
	}
	out := append([]byte(nil), v...)
	for off := aclHeaderLen; off < len(out); off += aclEntryLen {
		tag := binary.LittleEndian.Uint16(out[off:])
		id := binary.LittleEndian.Uint32(out[off+4:])
		switch tag {
		case aclUser:
			id, _ = uids.Map(id)
		case aclGroup:
			id, _ = gids.Map(id)
		default:
			continue
		}
		binary.LittleEndian.PutUint32(out[off+4:], id)
	}
	return out, nil
}

// File capability xattr layout (include/uapi/linux/capability.h): a
// magic_etc word whose top byte is the revision; revision 3 appends the
// root uid the capabilities belong to.
const (
	vfsCapRevisionMask = 0xFF000000
	vfsCapRevision3    = 0x03000000
	vfsCapV3Len        = 24
)

// ShiftCap rewrites the root uid of a v3 security.capability value; v2 (and
// v1) values carry no id and come back unchanged.
func ShiftCap(v []byte, uids Translator) ([]byte, error) {
	if len(v) < 4 {
		return v, fmt.Errorf("file capability: malformed value (%d bytes)", len(v))
	}
	if binary.LittleEndian.Uint32(v)&vfsCapRevisionMask != vfsCapRevision3 {
		return v, nil
	}
	if len(v) != vfsCapV3Len {
		return v, fmt.Errorf("file capability v3: %d bytes, want %d", len(v), vfsCapV3Len)
	}
	out := append([]byte(nil), v...)
	root, _ := uids.Map(binary.LittleEndian.Uint32(out[20:]))
	binary.LittleEndian.PutUint32(out[20:], root)
	return out, nil
}

// WriteJournalHeader starts a journal.
func WriteJournalHeader(w io.Writer, h JournalHeader) error {
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode journal header: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteJournalEntry appends one entry.
func WriteJournalEntry(w io.Writer, e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode journal entry: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// maxJournalLine bounds one journal line (an entry with two ACLs of the
// largest size the kernel allows is far below it).
const maxJournalLine = 1 << 20

// ParseJournal reads a journal. A torn last line (the writer died in the
// middle of it, before its fsync) is dropped: its inode was not touched yet.
// Any other malformed line is an error.
func ParseJournal(r io.Reader) (JournalHeader, map[uint64]Entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxJournalLine)
	var h JournalHeader
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return h, nil, fmt.Errorf("read shift journal: %w", err)
		}
		return h, nil, fmt.Errorf("shift journal is empty")
	}
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
		return h, nil, fmt.Errorf("shift journal header: %w", err)
	}
	if h.Path == "" {
		return h, nil, fmt.Errorf("shift journal header names no tree")
	}
	entries := map[uint64]Entry{}
	var bad error
	for n := 2; sc.Scan(); n++ {
		if bad != nil {
			return h, nil, bad // a malformed line that was not the last
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			bad = fmt.Errorf("shift journal line %d: %w", n, err)
			continue
		}
		if _, dup := entries[e.Ino]; !dup {
			entries[e.Ino] = e // the first record of an inode is its original
		}
	}
	if err := sc.Err(); err != nil {
		return h, nil, fmt.Errorf("read shift journal: %w", err)
	}
	return h, entries, nil
}
