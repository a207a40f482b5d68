package state

import "path/filepath"

// ShiftDir holds the records of root and bind-mount trees that vmlite
// shifted by chown for guests with an <idmap> on filesystems without
// idmapped mounts: /var/lib/vmlite/idshift/KEY.json (package uidmap). They
// outlive every run: they say how the tree's owners are stored on disk.
func (l Layout) ShiftDir() string { return filepath.Join(l.Lib, "idshift") }
