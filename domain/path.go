package domain

import "strconv"

// assignPaths gives every node its XPath-like path. Indices are 1-based as
// in XPath and appear only where an element has siblings of the same name,
// so that the common case reads /domain/devices/interface/ip/@address.
func assignPaths(n *node) {
	if n.parent == nil {
		n.path = "/" + n.qname()
	}
	count := map[string]int{}
	for _, c := range n.children {
		count[c.qname()]++
	}
	seen := map[string]int{}
	for _, c := range n.children {
		q := c.qname()
		seen[q]++
		c.path = n.path + "/" + q
		if count[q] > 1 {
			c.path += "[" + strconv.Itoa(seen[q]) + "]"
		}
		assignPaths(c)
	}
}

// attrPath is the path of attribute name of n.
func attrPath(n *node, name string) string { return n.path + "/@" + name }
