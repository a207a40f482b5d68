package domain

import "vmlite/internal/xpath"

// assignPaths gives every node its XPath-like path (package xpath: an
// index only where siblings share a name).
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
		c.path = xpath.Child(n.path, q, seen[q], count[q])
		seen[q]++
		assignPaths(c)
	}
}

// attrPath is the path of attribute name of n.
func attrPath(n *node, name string) string { return xpath.Attr(n.path, name) }
