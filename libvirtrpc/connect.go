package libvirtrpc

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"golang.org/x/sys/unix"
)

// libVersion is what CONNECT_GET_LIB_VERSION answers: libvirt 9.0.0, the
// Debian 12 clients' own (Nova wants at least 8.0.0, Terraform's provider
// picks its undefine flags from it).
const libVersion = 9000000

// connURI is the URI a client with no URI of its own is told it reached.
const connURI = "lxc:///system"

func init() {
	handlers[procAuthList] = handler{beforeOpen: true, fn: func(*conn, Header, []byte) ([]byte, func(), error) {
		// Authorisation comes from the socket (SO_PEERCRED, or the TLS
		// client certificate): no SASL or polkit round.
		b, err := encode(&libvirt.AuthListRet{Types: []libvirt.AuthType{0 /* REMOTE_AUTH_NONE */}})
		return b, nil, err
	}}
	handlers[procConnectSupportsFeature] = handler{beforeOpen: true, fn: func(_ *conn, _ Header, body []byte) ([]byte, func(), error) {
		var a libvirt.ConnectSupportsFeatureArgs
		if err := decode(body, &a); err != nil {
			return nil, nil, errRPC("CONNECT_SUPPORTS_FEATURE: %v", err)
		}
		var yes int32
		switch a.Feature {
		case featureTypedParamString, featureProgramKeepalive, featureRemoteEventCallback, featureRemoteCloseCallback:
			yes = 1
		}
		b, err := encode(&libvirt.ConnectSupportsFeatureRet{Supported: yes})
		return b, nil, err
	}}
	handlers[procConnectOpen] = handler{beforeOpen: true, fn: func(c *conn, _ Header, body []byte) ([]byte, func(), error) {
		a, err := decodeConnectOpen(body)
		if err != nil {
			return nil, nil, errRPC("CONNECT_OPEN: %v", err)
		}
		c.mu.Lock()
		c.opened = true
		if a.Flags&libvirt.ConnectRo != 0 {
			c.readOnly = true
		}
		c.mu.Unlock()
		return nil, nil, nil
	}}
	reg(procConnectClose, false, func(c *conn, _ *void) (*void, error) {
		c.mu.Lock()
		c.opened = false
		c.domCbs = map[int32]domCallback{}
		c.netCbs = map[int32]netCallback{}
		c.mu.Unlock()
		return nil, nil
	})
	reg(procConnectRegisterCloseCallback, false, func(*conn, *void) (*void, error) { return nil, nil })
	reg(procConnectUnregisterCloseCallback, false, func(*conn, *void) (*void, error) { return nil, nil })
	reg(procConnectGetURI, false, func(*conn, *void) (*libvirt.ConnectGetUriRet, error) {
		return &libvirt.ConnectGetUriRet{Uri: connURI}, nil
	})
	reg(procConnectGetType, false, func(*conn, *void) (*libvirt.ConnectGetTypeRet, error) {
		return &libvirt.ConnectGetTypeRet{Type: "LXC"}, nil
	})
	reg(procConnectGetVersion, false, func(*conn, *void) (*libvirt.ConnectGetVersionRet, error) {
		return &libvirt.ConnectGetVersionRet{HvVer: kernelVersion()}, nil
	})
	reg(procConnectGetLibVersion, false, func(*conn, *void) (*libvirt.ConnectGetLibVersionRet, error) {
		return &libvirt.ConnectGetLibVersionRet{LibVer: libVersion}, nil
	})
	reg(procConnectGetHostname, false, func(*conn, *void) (*libvirt.ConnectGetHostnameRet, error) {
		h, err := os.Hostname()
		if err != nil {
			return nil, errorf(libvirt.ErrSystemError, "gethostname: %v", err)
		}
		return &libvirt.ConnectGetHostnameRet{Hostname: h}, nil
	})
	reg(procConnectGetCapabilities, false, func(*conn, *void) (*libvirt.ConnectGetCapabilitiesRet, error) {
		return &libvirt.ConnectGetCapabilitiesRet{Capabilities: capabilitiesXML()}, nil
	})
	reg(procNodeGetInfo, false, func(*conn, *void) (*libvirt.NodeGetInfoRet, error) { return nodeInfo(), nil })
	reg(procNodeGetSecurityModel, false, func(*conn, *void) (*libvirt.NodeGetSecurityModelRet, error) {
		// An empty model: virsh dominfo then prints no security lines and
		// asks no DOMAIN_GET_SECURITY_LABEL (vmlite has no MAC driver).
		return &libvirt.NodeGetSecurityModelRet{}, nil
	})
	reg(procNodeGetFreeMemory, false, func(*conn, *void) (*libvirt.NodeGetFreeMemoryRet, error) {
		return &libvirt.NodeGetFreeMemoryRet{FreeMem: meminfo("MemAvailable") * 1024}, nil
	})
	// virt-manager's probes: answering "none" keeps its features on
	// (NO_SUPPORT would switch device listing off for the session).
	reg(procConnectListAllStoragePools, false, func(*conn, *libvirt.ConnectListAllStoragePoolsArgs) (*libvirt.ConnectListAllStoragePoolsRet, error) {
		return &libvirt.ConnectListAllStoragePoolsRet{}, nil
	})
	reg(procConnectListAllNodeDevices, false, func(*conn, *libvirt.ConnectListAllNodeDevicesArgs) (*libvirt.ConnectListAllNodeDevicesRet, error) {
		return &libvirt.ConnectListAllNodeDevicesRet{}, nil
	})
	reg(procNodeNumOfDevices, false, func(*conn, *libvirt.NodeNumOfDevicesArgs) (*libvirt.NodeNumOfDevicesRet, error) {
		return &libvirt.NodeNumOfDevicesRet{}, nil
	})
}

// kernelVersion is what the LXC driver reports as the hypervisor version:
// the kernel's, major*1e6 + minor*1e3 + micro (lxcConnectGetVersion).
func kernelVersion() uint64 {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return 0
	}
	rel := unix.ByteSliceToString(u.Release[:])
	var v [3]uint64
	for i, part := range strings.SplitN(rel, ".", 3) {
		n := 0
		for n < len(part) && part[n] >= '0' && part[n] <= '9' {
			n++
		}
		v[i], _ = strconv.ParseUint(part[:n], 10, 32)
	}
	return v[0]*1000000 + v[1]*1000 + v[2]
}

// hostArch is libvirt's name of the host architecture.
func hostArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "386":
		return "i686"
	case "arm64":
		return "aarch64"
	case "ppc64le":
		return "ppc64le"
	case "riscv64":
		return "riscv64"
	case "s390x":
		return "s390x"
	}
	return runtime.GOARCH
}

func wordSize() int {
	if strings.HasSuffix(runtime.GOARCH, "64") || runtime.GOARCH == "ppc64le" || runtime.GOARCH == "s390x" {
		return 64
	}
	return 32
}

// capabilitiesXML describes the host as libvirt's LXC driver does: the
// host cpu's arch and topology, and an exe (container) guest of type lxc,
// which virt-install needs to take its container path.
func capabilitiesXML() string {
	arch, n := hostArch(), runtime.NumCPU()
	return fmt.Sprintf(`<capabilities>
  <host>
    <cpu>
      <arch>%s</arch>
      <topology sockets='1' dies='1' cores='%d' threads='1'/>
    </cpu>
    <power_management/>
    <migration_features/>
    <secmodel>
      <model>none</model>
      <doi>0</doi>
    </secmodel>
  </host>
  <guest>
    <os_type>exe</os_type>
    <arch name='%s'>
      <wordsize>%d</wordsize>
      <domain type='lxc'/>
    </arch>
  </guest>
</capabilities>
`, arch, n, arch, wordSize())
}

func nodeInfo() *libvirt.NodeGetInfoRet {
	r := &libvirt.NodeGetInfoRet{Memory: meminfo("MemTotal"), Cpus: int32(runtime.NumCPU()), Nodes: 1, Sockets: 1, Cores: int32(runtime.NumCPU()), Threads: 1}
	for i, ch := range []byte(hostArch()) {
		if i < len(r.Model)-1 {
			r.Model[i] = int8(ch)
		}
	}
	r.Mhz = cpuMHz()
	return r
}

// meminfo returns a /proc/meminfo field in KiB (0 if unreadable).
func meminfo(field string) uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == field {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func cpuMHz() int32 {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "cpu MHz" {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int32(f)
		}
	}
	return 0
}
