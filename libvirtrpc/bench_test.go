package libvirtrpc

import (
	"fmt"
	"net"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// BenchmarkVirshListCalls is the server's side of `virsh list --all` with
// 200 guests: one LIST_ALL_DOMAINS, then a GET_STATE per guest, each sent
// once the last reply is in, as virsh sends them (bench/README.md, the
// serve section). One op is the 201 round trips over a unix socket, the
// client's encoding done beforehand.
func BenchmarkVirshListCalls(b *testing.B) {
	ts := startServer(b, 0)
	for i := range 200 {
		ts.fake.add(fmt.Sprintf("g%03d", i), i%4 == 0)
	}
	nc, err := net.Dial("unix", ts.rw)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	rawCall(b, nc, procConnectOpen, 1, make([]byte, 8))
	listArgs, err := encode(&libvirt.ConnectListAllDomainsArgs{NeedResults: 1, Flags: 3})
	if err != nil {
		b.Fatal(err)
	}
	h, body := rawCall(b, nc, procConnectListAllDomains, 2, listArgs)
	var list libvirt.ConnectListAllDomainsRet
	if err := decode(body, &list); err != nil || h.Status != statusOK || len(list.Domains) != 200 {
		b.Fatalf("list: status %d, %d domains, %v", h.Status, len(list.Domains), err)
	}
	var stateArgs [][]byte
	for _, d := range list.Domains {
		a, err := encode(&libvirt.DomainGetStateArgs{Dom: d})
		if err != nil {
			b.Fatal(err)
		}
		stateArgs = append(stateArgs, a)
	}
	serial := uint32(3)
	b.ResetTimer()
	for range b.N {
		if h, _ := rawCall(b, nc, procConnectListAllDomains, serial, listArgs); h.Status != statusOK {
			b.Fatalf("list: status %d", h.Status)
		}
		serial++
		for _, a := range stateArgs {
			if h, _ := rawCall(b, nc, procDomainGetState, serial, a); h.Status != statusOK {
				b.Fatalf("GET_STATE: status %d", h.Status)
			}
			serial++
		}
	}
}
