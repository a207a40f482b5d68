package caps

// UnmappedDrop is what vmlite drops on top of LibvirtDefaultDrop for a guest
// without <idmap> whose XML does not set these capabilities itself. Such a
// guest's root is the host's root, in the host's user namespace, so these
// capabilities act on the host itself, not on namespaced copies:
//
//   - CAP_SYS_ADMIN: mounting a fresh proc or sysfs (no masked or
//     read-only paths: host-wide sysctls become writable), devtmpfs with
//     the host's disks, cgroup hierarchies, remounting the shared root
//     filesystem read-only for the whole host;
//   - CAP_DAC_READ_SEARCH: open_by_handle_at(2) opens any inode of a
//     filesystem the guest has a file on by its handle, the host's root
//     directory included (the "shocker" escape);
//   - CAP_BPF and CAP_PERFMON: tracing and BPF programs over the whole
//     kernel;
//   - CAP_AUDIT_READ: the host's audit log.
//
// libvirt keeps them and documents such guests as not secure; vmlite makes
// the safe choice the default. A guest with <idmap> keeps them: there they
// only govern the guest's own namespaces. An init that needs CAP_SYS_ADMIN
// (systemd) wants an <idmap>, or <sys_admin state='on'/> knowingly.
var UnmappedDrop = []string{"CAP_SYS_ADMIN", "CAP_DAC_READ_SEARCH", "CAP_BPF", "CAP_PERFMON", "CAP_AUDIT_READ"}
