// Package libvirtrpc serves libvirt's remote protocol (remote_protocol.x,
// program 0x20008086, XDR over a stream socket), so that virsh,
// virt-install, virt-manager, libvirt-python and go-libvirt drive vmlite
// unchanged.
//
// The wire structs (*Args, *Ret, *Msg) and enums are go-libvirt's generated
// ones, coded with davecgh/go-xdr/xdr2 (byte-identical to go-libvirt's
// internal fork). What go-libvirt keeps internal or does not generate is
// defined here: procedure numbers (stable ABI), the remote_error struct,
// error domains, driver feature numbers. The frame reader is ours, not
// go-libvirt's socket package, which panics on a short length and trusts a
// huge one.
//
// One connection runs a reader goroutine (frames in, keepalive answered
// inline, calls dispatched to at most maxCallsPerConn goroutines) and a
// writer goroutine draining a bounded queue: a client that stops reading
// fills only its own queue, and is dropped when an event finds it full.
// Lifecycle operations go through a Backend, the server's only view of
// vmlite.
package libvirtrpc
