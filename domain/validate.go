package domain

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"vmlite/internal/lazyre"
	"vmlite/internal/signame"
	"vmlite/internal/uuid"
	"vmlite/plan"
)

// check validates one attribute value or element text. Checks are small and
// composable, in the style of incus' shared/validate: optional(isUint),
// all(isAbsPath, noDotDot).
type check func(string) error

// hinted is a check failure that knows its fix.
type hinted struct{ msg, hint string }

// Error is the message without the hint.
func (h *hinted) Error() string { return h.msg }

func withHint(msg, hint string) error { return &hinted{msg, hint} }

// splitHint separates a check error into message and hint.
func splitHint(err error) (msg, hint string) {
	var h *hinted
	if errors.As(err, &h) {
		return h.msg, h.hint
	}
	return err.Error(), ""
}

// all runs checks in order and stops at the first failure.
func all(cs ...check) check {
	return func(s string) error {
		for _, c := range cs {
			if err := c(s); err != nil {
				return err
			}
		}
		return nil
	}
}

func isUint(s string) error {
	if _, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err != nil {
		return errors.New("not a non-negative integer")
	}
	return nil
}

// isUSBID accepts a USB vendor or product id as libvirt writes it: up to
// four hex digits, with or without 0x.
func isUSBID(s string) error {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x")
	if h == "" || len(h) > 4 || strings.Trim(h, "0123456789abcdef") != "" {
		return errors.New("not a USB id: up to four hex digits, such as 0x1d6b")
	}
	return nil
}

// uintRange accepts integers in [lo, hi].
func uintRange(lo, hi uint64) check {
	return func(s string) error {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil || v < lo || v > hi {
			return fmt.Errorf("not an integer between %d and %d", lo, hi)
		}
		return nil
	}
}

// uint32Val accepts what fits a uid/gid or a count.
func uint32Val(s string) error {
	if _, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32); err != nil {
		return errors.New("not an integer between 0 and 4294967295")
	}
	return nil
}

func isCPUQuota(s string) error {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || (v != -1 && (v < 1000 || v > 17592186044415)) {
		return withHint("not a CFS quota", "use -1 (no limit) or microseconds between 1000 and 17592186044415")
	}
	return nil
}

func isAbsPath(s string) error {
	if !strings.HasPrefix(s, "/") {
		return withHint("not an absolute path", "start it with /")
	}
	if strings.ContainsRune(s, 0) || strings.ContainsAny(s, "\n") {
		return errors.New("path contains a NUL or newline")
	}
	return nil
}

// isAbsFilePath is libvirt's absFilePath: "/" followed by at least one
// character.
func isAbsFilePath(s string) error {
	if err := isAbsPath(s); err != nil {
		return err
	}
	if s == "/" {
		return withHint("must name something below /", "give a full path such as /sbin/init")
	}
	return nil
}

// isCleanAbsPath also refuses ".." components, which would escape a root.
func isCleanAbsPath(s string) error {
	if err := isAbsPath(s); err != nil {
		return err
	}
	for _, c := range strings.Split(s, "/") {
		if c == ".." {
			return errors.New("path must not contain \"..\"")
		}
	}
	return nil
}

func isPartition(s string) error {
	if err := isCleanAbsPath(s); err != nil || s == "/" {
		return withHint("not a cgroup partition", "use an absolute path such as /machine")
	}
	if path.Clean(s) != s {
		return withHint("partition path is not clean", "write it as "+path.Clean(s))
	}
	for _, e := range strings.Split(s, "/") {
		if plan.IsGuestCgroupName(e) {
			return withHint(fmt.Sprintf("partition element %q has the form of a guest's cgroup (NAME.ID): the guest would run inside another guest's cgroup", e),
				"choose a partition outside every guest's cgroup, such as /machine")
		}
	}
	return nil
}

// isDomainName is the one rule for guest names (define, start, templates):
// it excludes what breaks file names, command lines and messages, and what
// makes two names look alike; libvirt itself only refuses '/' and newlines.
func isDomainName(s string) error {
	switch {
	case s == "":
		return withHint("the name is empty", "give the guest a name such as <name>web1</name>")
	case strings.ContainsAny(s, "/\n"):
		return errors.New("a name must not contain '/' or a newline")
	case s == "." || s == "..":
		return errors.New(`a name must not be "." or ".."`)
	case len(s) > 200:
		return errors.New("a name must be at most 200 bytes")
	}
	if !utf8.ValidString(s) {
		return errors.New("a name must be valid UTF-8")
	}
	if strings.TrimSpace(s) != s {
		return withHint("a name must not start or end with white space", "write it as "+strings.TrimSpace(s))
	}
	if strings.HasPrefix(s, "-") {
		// `vmlite stop --help` must never mean a guest.
		return withHint("a name must not start with '-'", "commands would read it as an option")
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return errors.New("a name must not contain control characters")
		case unicode.Is(unicode.Cf, r):
			// Bidi overrides (U+202E) and invisible characters make one
			// name look like another in every listing.
			return fmt.Errorf("a name must not contain invisible or text-direction characters (U+%04X)", r)
		}
	}
	return nil
}

// isUUID accepts libvirt's forms: 32 hex digits, optionally separated by
// dashes (the canonical 8-4-4-4-12 form, or none).
func isUUID(s string) error {
	if _, err := ParseUUID(s); err != nil {
		return err
	}
	return nil
}

// ParseUUID checks a uuid and returns its canonical lower-case 8-4-4-4-12
// form, the only one vmlite stores or passes on (Parse puts it in the XML).
func ParseUUID(s string) (string, error) {
	c, err := uuid.Canonical(s)
	if errors.Is(err, uuid.ErrSyntax) {
		return "", withHint("not a UUID", "use the form 8369f1ac-7e46-e869-4ca5-759d51478066, or leave <uuid> out to get a random one")
	}
	return c, err
}

func isIP(s string) error {
	if a, err := netip.ParseAddr(s); err != nil || a.Zone() != "" {
		return withHint("not an IP address", "write an IPv4 (10.0.0.2) or IPv6 (fd00::2) address without a prefix; the prefix goes in prefix='24'")
	}
	return nil
}

// macRe is libvirt's virMacAddrParse: six octets of one or two hex digits
// (52:54:00:3a:f:c1 is 52:54:00:3a:0f:c1).
var macRe = lazyre.New(`^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$`)

// NormalizeMAC writes a MAC address as libvirt does: two lower-case hex
// digits per octet. It returns s unchanged when it is not a MAC address.
func NormalizeMAC(s string) string {
	if !macRe.MatchString(s) {
		return s
	}
	parts := strings.Split(s, ":")
	for i, p := range parts {
		if len(p) == 1 {
			p = "0" + p
		}
		parts[i] = strings.ToLower(p)
	}
	return strings.Join(parts, ":")
}

// isMAC accepts an interface's MAC: the plan's parser (plan.ParseMAC,
// what the guest's interface gets), unicast, and not all zeros, which the
// plan reads as "none" and the kernel refuses.
func isMAC(s string) error {
	m, err := plan.ParseMAC(NormalizeMAC(s))
	switch {
	case !macRe.MatchString(s) || err != nil:
		return withHint("not a MAC address", "use six hex bytes such as 52:54:00:12:34:56")
	case m.Multicast():
		return withHint("a multicast MAC address cannot be an interface address", "clear the lowest bit of the first byte (e.g. 52:...)")
	case m.IsZero():
		return withHint("the all-zero MAC address cannot be an interface address", "use six hex bytes such as 52:54:00:12:34:56, or leave <mac> out")
	}
	return nil
}

// isIfName accepts network interface names: plan.CheckLinkName, the rule
// the supervisor's set-up applies too.
func isIfName(s string) error {
	if plan.CheckLinkName(s) != nil {
		return withHint("not a network interface name", "use 1 to 15 letters, digits, '_', '.' or '-', e.g. eth0")
	}
	return nil
}

// isGuestIfName accepts the name of an interface inside the guest:
// plan.CheckGuestLinkName ("lo" is taken).
func isGuestIfName(s string) error {
	if err := isIfName(s); err != nil {
		return err
	}
	if plan.CheckGuestLinkName(s) != nil {
		return withHint("\"lo\" is the guest's loopback interface", "use another name, e.g. eth0")
	}
	return nil
}

// cpuListRe is libvirt's cpuset syntax: 0-3,^2,8.
var cpuListRe = lazyre.New(`^([0-9]+(-[0-9]+)?|\^[0-9]+)(,([0-9]+(-[0-9]+)?|\^[0-9]+))*$`)

func isCPUList(s string) error {
	if !cpuListRe.MatchString(s) {
		return withHint("not a CPU list", "use a list such as 0-3,6 (^N excludes a CPU)")
	}
	return nil
}

var envNameRe = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

func isEnvName(s string) error {
	if !envNameRe.MatchString(s) {
		return errors.New("not an environment variable name (letters, digits and _, not starting with a digit)")
	}
	return nil
}

// userRe accepts a user or group name, a number, or libvirt's +N, within
// libvirt's schema (genericName).
var userRe = lazyre.New(`^(\+?[0-9]+|[A-Za-z_][A-Za-z0-9_-]*)$`)

func isUserOrGroup(s string) error {
	if !userRe.MatchString(strings.TrimSpace(s)) {
		return withHint("not a user or group", "use a name from the guest's /etc/passwd or /etc/group, a number, or +N for a number that is not looked up")
	}
	return nil
}

func nonEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func isUnit(s string) error {
	if _, ok := unitScale[strings.ToLower(s)]; !ok {
		return withHint("unknown unit", "use one of "+unitNames)
	}
	return nil
}

// hostnameLabel follows RFC 1123: labels of letters, digits and '-'.
var hostnameRe = lazyre.New(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

func isHostname(s string) error {
	if len(s) > 64 || !hostnameRe.MatchString(s) {
		return withHint("not a host name", "use letters, digits, '-' and '.', at most 64 characters")
	}
	return nil
}

// isSignal accepts the signal names that the supervisor can send at stop:
// both read them with signame.Parse.
func isSignal(s string) error {
	if _, err := signame.Parse(s); err != nil {
		if errors.Is(err, signame.ErrNotSignal) {
			return withHint("not a signal name", "use a name such as SIGRTMIN+4, SIGPWR or SIGTERM")
		}
		return err
	}
	return nil
}

func isDuration(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return withHint("not a duration", "use a Go duration such as 30s or 2m")
	}
	return nil
}

func isYesNo(s string) error {
	if s != "yes" && s != "no" {
		return withHint("not yes or no", "use yes or no")
	}
	return nil
}

// anyText accepts any text (titles, descriptions, arguments).
func anyText(string) error { return nil }

// isInitDir is an absolute path other than "/", which libvirt's schema
// refuses (and which is the default anyway).
func isInitDir(s string) error {
	if s == "/" {
		return withHint("initdir / is not valid libvirt XML", "leave <initdir> out: / is the default")
	}
	return isAbsFilePath(s)
}
