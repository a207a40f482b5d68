//go:build integration

package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/internal/testutil"
	"vmlite/state"
)

// escapeReport is what tests/integration/escapehelper writes in the guest.
type escapeReport struct {
	UID      int               `json:"uid"`
	IDOutput string            `json:"idOutput"`
	Owners   map[string][2]int `json:"owners"`
	Created  string            `json:"created"`
	NumProcs int               `json:"numProcs"`
	CapBnd   string            `json:"capBnd"`
	Attempts []struct {
		Name    string `json:"name"`
		Refused bool   `json:"refused"`
		NA      bool   `json:"na"`
		Detail  string `json:"detail"`
	} `json:"attempts"`
}

// hostFacts are the host things the guest must not reach.
type hostFacts struct {
	dev, devName string // the root filesystem's block device: "254:0", "/dev/vda"
	file         string // a file outside every guest's root
	pid          int    // a host process
	marker       string // in that process's command line
	bootID       string
}

// TestEscapeSuite boots busybox guests, mapped (<idmap> 0->100000, the root
// attached through an idmapped mount, and the same with the chown shift
// forced) and unmapped, runs tests/integration/escapehelper inside each
// (at boot, from inittab) and requires every escape attempt to be refused;
// then the guest calls reboot(2), which must restart (or, with
// <on_reboot>destroy</on_reboot>, stop) only the guest. It also checks the
// ids: inside, id is 0 and / is root's; on the host, the guest's init runs
// as 100000 (mapped) and what the guest's root creates is stored as uid 0
// through the idmapped mount, 100000 with the chown shift.
func TestEscapeSuite(t *testing.T) {
	testutil.RequireRoot(t)
	helper := buildEscapeHelper(t)
	host := setUpHostFacts(t)
	tried, refused := 0, 0
	for _, tc := range []struct {
		name     string
		idmap    bool
		chown    bool
		mknod    bool   // <mknod state='on'/>: only the device allow-list stands in the way
		onReboot string // "" = restart (the default)
		// hostUID is the host uid of the guest's init; diskUID the on-disk
		// owner of a file the guest's root creates; dataUID the on-disk
		// owner of /data/user-file (uid 1000 in the guest), ramUID that of
		// /ram/user-file (a ramfs: no idmapped mounts, so the chown shift).
		hostUID, diskUID, dataUID, ramUID uint32
	}{
		{name: "mapped", idmap: true, hostUID: 100000, diskUID: 0, dataUID: 1000, ramUID: 101000},
		{name: "mapped-chown", idmap: true, chown: true, onReboot: "destroy", hostUID: 100000, diskUID: 100000, dataUID: 101000, ramUID: 101000},
		{name: "unmapped", onReboot: "destroy", hostUID: 0, diskUID: 0, dataUID: 1000, ramUID: 1000},
		{name: "unmapped-mknod", mknod: true, onReboot: "destroy", hostUID: 0, diskUID: 0, dataUID: 1000, ramUID: 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.mknod && !anyExists("/sys/fs/cgroup/devices/devices.allow", "/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/unified/cgroup.controllers") {
				// Neither the v1 devices controller nor a cgroup2 tree for
				// the BPF device program: no device allow-list.
				t.Skip("SKIPPED LOUDLY: no cgroup v1 devices controller and no cgroup2 tree: no device allow-list, and a guest given CAP_MKNOD could open the host's disks")
			}
			h := newHarness(t)
			name := h.uniqueName("esc")
			xmlPath, rootfs := h.busybox(name, tc.idmap)
			editXML(t, xmlPath, tc.onReboot, tc.chown, tc.mknod)
			data, ram := hostDataDirs(t)
			addBindMount(t, xmlPath, data, "/data")
			addBindMount(t, xmlPath, ram, "/ram")
			goReboot := "/marker/go-reboot"
			layout := state.NewLayout(h.root)
			sockets := []string{layout.ControlSocket(name), layout.ConsoleSocket(name, "console0")}
			installEscapeHelper(t, helper, rootfs, []string{
				"-hostdev", host.dev, "-hostdevname", host.devName, "-hostfile", host.file,
				"-hostpid", strconv.Itoa(host.pid), "-procmarker", reverse(host.marker),
				"-sockets", strings.Join(sockets, ","), "-reboot", goReboot,
				"-stat", "/data,/data/user-file,/ram,/ram/user-file,/dev/null,/dev/tty,/dev/console," +
					"/sys/fs/cgroup/memory/cgroup.procs,/sys/fs/cgroup/memory/memory.limit_in_bytes,/sys/fs/cgroup/cgroup.procs,/sys/fs/cgroup/memory.max",
			})
			h.must("start", xmlPath)
			st := h.status(name)
			report := filepath.Join(rootfs, "marker", "escape.json")
			testutil.WaitFor(t, 120*time.Second, "the escape report of "+name+" (console: "+tail(h.consoleLog(name))+")", func() bool {
				_, err := os.Stat(report)
				return err == nil
			})
			b, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			var r escapeReport
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("decode report: %v\n%s", err, b)
			}
			for _, s := range sockets {
				// Root's alone on the host, and absent from the guest's view.
				var sst unix.Stat_t
				if err := unix.Stat(s, &sst); err != nil {
					t.Errorf("socket %s the guest tried does not exist on the host: %v", s, err)
				} else if sst.Uid != 0 || sst.Mode&0o077 != 0 {
					t.Errorf("socket %s: uid %d, mode %o; want root's, 0600", s, sst.Uid, sst.Mode&0o777)
				}
			}

			// Ids inside the guest.
			if r.UID != 0 || r.IDOutput != "0" {
				t.Errorf("inside: uid %d, `id -u` %q; want 0", r.UID, r.IDOutput)
			}
			// The guest's cgroup (v1 memory hierarchy or the v2 root of its
			// namespace): delegated to its root, the limits not.
			cgroupFiles := 0
			for p, o := range r.Owners {
				want := [2]int{0, 0}
				switch {
				case strings.HasSuffix(p, "/user-file"):
					want = [2]int{1000, 1000}
				case strings.HasPrefix(p, "/sys/fs/cgroup/"):
					cgroupFiles++
					if strings.Contains(p, "memory.") && tc.idmap {
						want = [2]int{65534, 65534} // host root's: nobody in the guest
					}
				}
				if o != want {
					t.Errorf("inside: %s owned by %d:%d, want %d:%d", p, o[0], o[1], want[0], want[1])
				}
			}
			if len(r.Owners)-cgroupFiles != 11 || cgroupFiles != 2 {
				t.Errorf("inside: owners of %d paths (%d in the cgroup), want 11 and 2: %v", len(r.Owners), cgroupFiles, r.Owners)
			}

			// The bounding set: CAP_SYS_ADMIN (bit 21) only with a user
			// namespace, CAP_MKNOD (27) only when asked for.
			bnd, err := strconv.ParseUint(r.CapBnd, 16, 64)
			if err != nil {
				t.Errorf("inside: bounding set %q: %v", r.CapBnd, err)
			}
			if has := bnd&(1<<21) != 0; has != tc.idmap {
				t.Errorf("inside: CAP_SYS_ADMIN in the bounding set %s: %v, want %v", r.CapBnd, has, tc.idmap)
			}
			if has := bnd&(1<<27) != 0; has != tc.mknod {
				t.Errorf("inside: CAP_MKNOD in the bounding set %s: %v, want %v", r.CapBnd, has, tc.mknod)
			}
			// Ids on the host.
			var fst unix.Stat_t
			uid, err := procUID(st.InitPID)
			if err != nil {
				t.Fatalf("guest init %d: %v", st.InitPID, err)
			}
			if uid != tc.hostUID {
				t.Errorf("host: guest init runs as uid %d, want %d", uid, tc.hostUID)
			}
			if r.Created == "" {
				t.Errorf("the guest's root could not create a file in /marker")
			} else if err := unix.Stat(filepath.Join(rootfs, r.Created), &fst); err != nil {
				t.Errorf("host: %v", err)
			} else if fst.Uid != tc.diskUID {
				t.Errorf("host: %s created by guest root is stored as uid %d, want %d", r.Created, fst.Uid, tc.diskUID)
			} else {
				t.Logf("guest root runs as host uid %d; a file it creates is stored as uid %d:%d", uid, fst.Uid, fst.Gid)
			}
			for _, f := range []struct {
				path string
				uid  uint32
			}{{filepath.Join(data, "user-file"), tc.dataUID}, {filepath.Join(ram, "user-file"), tc.ramUID}} {
				if err := unix.Lstat(f.path, &fst); err != nil || fst.Uid != f.uid {
					t.Errorf("host: %s stored as uid %d (%v), want %d", f.path, fst.Uid, err, f.uid)
				}
			}

			// The escapes.
			n, na := 0, 0
			for _, a := range r.Attempts {
				switch {
				case a.NA:
					na++
					t.Logf("n/a      %-50s %s", a.Name, a.Detail)
				case a.Refused:
					n++
					t.Logf("refused  %-50s %s", a.Name, a.Detail)
				default:
					n++
					t.Errorf("ESCAPED  %-50s %s", a.Name, a.Detail)
				}
			}
			if n < 20 {
				t.Errorf("only %d attempts in the report", n)
			}

			// reboot(2) in the guest: only the guest restarts or stops.
			before := st
			if err := os.WriteFile(filepath.Join(rootfs, goReboot), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			rebootOK := false
			if tc.onReboot == "destroy" {
				h.waitState(name, "shutoff")
				rebootOK = true
			} else {
				testutil.WaitFor(t, 60*time.Second, "a restart of "+name, func() bool {
					s := h.status(name)
					return s.State == "running" && s.Restarts >= 1 && s.InitPID != before.InitPID
				})
				rebootOK = true
			}
			if tc.chown {
				remap(t, h, name, xmlPath, rootfs)
			}
			if id := bootID(t); id != host.bootID {
				t.Fatalf("the host rebooted (boot id %s, was %s)", id, host.bootID)
			}
			n++
			if rebootOK {
				t.Logf("refused  %-50s %s", "reboot the host (reboot(2) in the guest)", "the guest restarted/stopped, the host did not")
			}
			ok := 0
			for _, a := range r.Attempts {
				if a.Refused && !a.NA {
					ok++
				}
			}
			if rebootOK {
				ok++
			}
			t.Logf("escape suite, %s guest: %d attempts, %d refused (%d more not offered by this kernel)", tc.name, n, ok, na)
			tried += n
			refused += ok
		})
	}
	t.Logf("escape suite: %d attempts in all, %d refused", tried, refused)
	if tried != refused {
		t.Errorf("%d escape attempts were not refused", tried-refused)
	}
}

// buildEscapeHelper builds the static in-guest helper.
func buildEscapeHelper(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "escape")
	cmd := exec.Command("go", "build", "-o", out, "vmlite/tests/integration/escapehelper")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build escape helper: %v\n%s", err, b)
	}
	return out
}

// setUpHostFacts finds the host's root device and starts a marker process
// and a marker file for the guest to look for.
func setUpHostFacts(t *testing.T) hostFacts {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	f := hostFacts{dev: fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev)), bootID: bootID(t)}
	if b, err := exec.Command("findmnt", "-n", "-o", "SOURCE", "/").Output(); err == nil {
		f.devName = strings.TrimSpace(string(b))
	}
	if f.devName == "" {
		f.devName = "/dev/vda"
	}
	rnd := make([]byte, 6)
	_, _ = rand.Read(rnd)
	tag := "vmlite-escape-proc-" + hex.EncodeToString(rnd)
	f.file = filepath.Join(t.TempDir(), "vmlite-escape-file-"+hex.EncodeToString(rnd))
	if err := os.WriteFile(f.file, []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: sleep, Args: []string{tag, "3600"}}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	f.pid, f.marker = cmd.Process.Pid, tag
	t.Logf("host: root device %s (%s), marker file %s, marker process %d", f.dev, f.devName, f.file, f.pid)
	return f
}

// anyExists reports whether one of paths exists.
func anyExists(paths ...string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// installEscapeHelper copies the helper to /escape and runs it once at
// boot, after rcS.
func installEscapeHelper(t *testing.T, helper, rootfs string, args []string) {
	t.Helper()
	b, err := os.ReadFile(helper)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "escape"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	inittab := filepath.Join(rootfs, "etc", "inittab")
	f, err := os.OpenFile(inittab, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "::once:/escape %s\n", strings.Join(args, " ")); err != nil {
		t.Fatal(err)
	}
}

// editXML adds <on_reboot> and the chown-shift metadata to a template XML.
func editXML(t *testing.T, path, onReboot string, chown, mknod bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if onReboot != "" {
		re := regexp.MustCompile(`<on_reboot>[a-z-]*</on_reboot>`)
		if re.Match(b) {
			b = re.ReplaceAll(b, []byte("<on_reboot>"+onReboot+"</on_reboot>"))
		} else {
			b = bytes.Replace(b, []byte("</domain>"), []byte("  <on_reboot>"+onReboot+"</on_reboot>\n</domain>"), 1)
		}
	}
	if mknod {
		caps := "  <features><capabilities policy='default'><mknod state='on'/></capabilities></features>\n</domain>"
		b = bytes.Replace(b, []byte("</domain>"), []byte(caps), 1)
	}
	if chown {
		meta := `<metadata><vmlite:config xmlns:vmlite="urn:vmlite:domain:1"><vmlite:idmap shift="chown"/></vmlite:config></metadata>`
		b = bytes.Replace(b, []byte("</name>"), []byte("</name>\n  "+meta), 1)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// procUID is the real uid of a host process.
func procUID(pid int) (uint32, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Uid:" {
			v, err := strconv.ParseUint(f[1], 10, 32)
			return uint32(v), err
		}
	}
	return 0, fmt.Errorf("no Uid line in /proc/%d/status", pid)
}

func bootID(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// hostDataDirs makes two host directories for bind mounts, each with a
// subdirectory and a file owned by uid/gid 1000: data on the host's
// filesystem, ram a ramfs (which cannot be idmapped: the supervisor must
// fall back to the chown shift).
func hostDataDirs(t *testing.T) (data, ram string) {
	t.Helper()
	base := t.TempDir()
	data, ram = filepath.Join(base, "data"), filepath.Join(base, "ram")
	for _, d := range []string{data, ram} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount("vmlite-test", ram, "ramfs", 0, "mode=755"); err != nil {
		t.Fatalf("mount ramfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(ram, unix.MNT_DETACH) })
	for _, d := range []string{data, ram} {
		f := filepath.Join(d, "user-file")
		if err := os.WriteFile(f, []byte("guest user 1000's\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(f, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	return data, ram
}

// addBindMount adds <filesystem type='mount'> of host dir src at guest dir dst.
func addBindMount(t *testing.T, path, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := fmt.Sprintf("    <filesystem type='mount'><source dir='%s'/><target dir='%s'/></filesystem>\n  </devices>", src, dst)
	b = bytes.Replace(b, []byte("</devices>"), []byte(fs), 1)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// remap starts a stopped guest whose root was shifted by chown with another
// map (the tree must be shifted from the recorded map to the new one), then
// without a map (shifted back: on disk as made).
func remap(t *testing.T, h *harness, name, xmlPath, rootfs string) {
	t.Helper()
	b, err := os.ReadFile(xmlPath)
	if err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(rootfs, "etc", "passwd")
	for _, step := range []struct {
		doc     []byte
		hostUID uint32
	}{
		{bytes.ReplaceAll(b, []byte(`target="100000"`), []byte(`target="200000"`)), 200000},
		{regexp.MustCompile(`(?s)<idmap>.*</idmap>`).ReplaceAll(b, nil), 0},
	} {
		if !bytes.Contains(step.doc, []byte("200000")) && step.hostUID == 200000 {
			t.Fatalf("the template XML has no target=\"100000\" to change:\n%s", b)
		}
		if err := os.WriteFile(xmlPath, step.doc, 0o644); err != nil {
			t.Fatal(err)
		}
		h.must("start", xmlPath)
		st := h.status(name)
		if uid, err := procUID(st.InitPID); err != nil || uid != step.hostUID {
			t.Errorf("remapped guest's init runs as %d (%v), want %d", uid, err, step.hostUID)
		}
		var fst unix.Stat_t
		if err := unix.Lstat(passwd, &fst); err != nil || fst.Uid != step.hostUID || fst.Gid != step.hostUID {
			t.Errorf("after the re-shift /etc/passwd is stored as %d:%d (%v), want %d", fst.Uid, fst.Gid, err, step.hostUID)
		} else {
			t.Logf("re-shifted to host uid %d: /etc/passwd stored as %d:%d", step.hostUID, fst.Uid, fst.Gid)
		}
		h.must("destroy", name)
	}
}
