package procfs

import (
	"vmlite/cgroup"
)

// Status says what a running guest reads in its /proc files, for `vmlite
// status`: dir is its plan's Paths.ProcFS ("" when it opted out).
func Status(dir, name string) string {
	if dir == "" {
		return "the host's (<vmlite:procfs state=\"off\"/>, or the /proc server could not start: see the supervisor log)"
	}
	l := Layout{Dir: dir}
	if !l.Alive() {
		return "unreadable: the /proc server is not running (a supervisor restarts it)"
	}
	mode, err := cgroup.Detect()
	if err != nil {
		return "unknown: " + err.Error()
	}
	s, err := NewView(l, mode, cgroup.DefaultRoot, "/", Boottime).Summary(name)
	if err != nil {
		return "unknown: " + err.Error()
	}
	return "its own: " + s
}
