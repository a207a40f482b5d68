// Package netdef gives guests their network: interface names and MACs
// (names.go, pure), the host-side set-up of a guest's interfaces from its
// launch plan (Setup, Linux only) and vmlite's managed networks.
//
// Everything is configured from the host side: the guest's network namespace
// is reached through a netlink handle bound to it (netlink.NewHandleAt), so no
// thread of the caller ever switches namespace, and the guest's init finds its
// addresses and routes in place when it starts.
package netdef
