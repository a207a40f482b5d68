package netdef

import (
	"errors"
	"fmt"
	"net"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// NFTable is vmlite's own nftables table (family ip). vmlite touches no other
// table: nat networks add one masquerade rule each to its postrouting chain,
// and the table goes when its last rule does.
const NFTable = "vmlite"

const nftChain = "postrouting"

var (
	nftTab   = &nftables.Table{Family: nftables.TableFamilyIPv4, Name: NFTable}
	nftChn   = &nftables.Chain{Name: nftChain, Table: nftTab, Type: nftables.ChainTypeNAT, Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource}
	mcastNet = &net.IPNet{IP: net.IPv4(224, 0, 0, 0).To4(), Mask: net.CIDRMask(24, 32)}
)

// ruleComment tags a network's rule, so that destroy finds it ("nft list
// table ip vmlite" shows it as the rule's comment).
func ruleComment(network string) string { return "vmlite network " + network }

// nftConn opens a connection bound now to the calling thread's network
// namespace (AsLasting dials at once), the one the bridge is in.
func nftConn() (*nftables.Conn, error) {
	c, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return c, nil
}

// addMasquerade adds, for network, the rule libvirt would:
//
//	ip saddr SUBNET ip daddr != SUBNET ip daddr != 224.0.0.0/24 ip daddr != 255.255.255.255 masquerade
//
// Traffic inside the subnet and to local multicast/broadcast keeps its source.
func addMasquerade(network string, subnet *net.IPNet) error {
	c, err := nftConn()
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	c.AddTable(nftTab)
	c.AddChain(nftChn)
	exprs := matchNet(12, subnet, expr.CmpOpEq)
	exprs = append(exprs, matchNet(16, subnet, expr.CmpOpNeq)...)
	exprs = append(exprs, matchNet(16, mcastNet, expr.CmpOpNeq)...)
	exprs = append(exprs,
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: net.IPv4bcast.To4()},
		&expr.Masq{},
	)
	c.AddRule(&nftables.Rule{
		Table: nftTab, Chain: nftChn, Exprs: exprs,
		UserData: userdata.AppendString(nil, userdata.TypeComment, ruleComment(network)),
	})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("add masquerade rule to nftables table %s: %w", NFTable, err)
	}
	return nil
}

// matchNet compares the IPv4 address at offset of the network header
// (12 source, 16 destination), masked, with n's network address.
func matchNet(offset uint32, n *net.IPNet, op expr.CmpOp) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte(n.Mask), Xor: []byte{0, 0, 0, 0}},
		&expr.Cmp{Op: op, Register: 1, Data: n.IP.To4()},
	}
}

// removeMasquerade deletes network's rule and, when no rule is left in it,
// vmlite's table. A missing table or rule is not an error.
func removeMasquerade(network string) error {
	c, err := nftConn()
	if err != nil {
		return err
	}
	defer c.CloseLasting()
	rules, err := c.GetRules(nftTab, nftChn)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("list nftables table %s: %w", NFTable, err)
	}
	left := 0
	for _, r := range rules {
		if s, _ := userdata.GetString(r.UserData, userdata.TypeComment); s == ruleComment(network) {
			if err := c.DelRule(r); err != nil {
				return fmt.Errorf("delete masquerade rule of %s: %w", network, err)
			}
			continue
		}
		left++
	}
	if left == 0 {
		chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
		if err != nil {
			return fmt.Errorf("list nftables chains: %w", err)
		}
		others := false
		for _, ch := range chains {
			others = others || ch.Table.Name == NFTable && ch.Name != nftChain
		}
		if !others {
			c.DelTable(nftTab)
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("remove masquerade rule of %s: %w", network, err)
	}
	return nil
}

// NFTableExists reports whether vmlite's nftables table exists in the
// calling thread's network namespace.
func NFTableExists() (bool, error) {
	c, err := nftConn()
	if err != nil {
		return false, err
	}
	defer c.CloseLasting()
	ts, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, fmt.Errorf("list nftables tables: %w", err)
	}
	for _, t := range ts {
		if t.Name == NFTable {
			return true, nil
		}
	}
	return false, nil
}
