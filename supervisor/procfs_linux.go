package supervisor

import (
	"errors"

	"vmlite/procfs"
)

// ProcFSRole says whether this binary has the __procfs role too, which a
// supervisor starts the /proc server from when it has no vmlite-procfs to
// write out: cmd/vmlite's has (its main sets this), cmd/vmlite-supervisor's
// has not (it links no FUSE server).
var ProcFSRole bool

var errNoProcFSBinary = errors.New("no vmlite-procfs written out, and this supervisor binary has no __procfs role")

// attachProcFS registers the guest with the host-wide /proc server and
// starts the server if none runs: before each clone, since __init binds
// the server's files and the guest's uptime starts at its (re)boot.
func (s *Supervisor) attachProcFS() error {
	if s.p.Paths.ProcFS == "" {
		return nil // <vmlite:procfs state='off'/>
	}
	l := procfs.Layout{Dir: s.p.Paths.ProcFS, Exe: s.procFSExecutable()}
	var err error
	if l.Exe == "" && !ProcFSRole {
		err = errNoProcFSBinary
	} else {
		err = l.Attach(s.procFSEntry(0), s.p.Paths.ProcFSLog)
	}
	if err != nil && s.procFSAttached && l.Alive() {
		// A reboot that could not record itself (a full disk): the server
		// still serves the guest from its old entry (uptime counts from the
		// first boot), and nothing is removed to make room.
		s.log.Printf("record the reboot for the /proc server: %v", err)
		err = nil
	}
	if err != nil {
		// A host without FUSE (no /dev/fuse, a kernel without it) still
		// runs guests: this one reads the host's files, and says so.
		s.log.Printf("start the /proc server: %v: the guest reads the host's /proc/meminfo, cpuinfo, ...", err)
		if lerr := l.Leave(s.p.Name); lerr != nil {
			s.log.Printf("leave the /proc server: %v", lerr)
		}
		// __init binds nothing, plan.json and status say so: the plan
		// is encoded again from here on.
		s.p.Paths.ProcFS = ""
		s.planJSON = nil
		return nil
	}
	if !s.procFSAttached {
		s.procFSAttached = true
		s.hostRevert.Add("stop serving the guest's /proc files", func() error { return l.Leave(s.p.Name) })
	}
	l.Watch(s.p.Paths.ProcFSLog, s.log.Printf)
	return nil
}

// procFSRunning records the guest's init, whose mount namespace a restarted
// server binds its files into again.
func (s *Supervisor) procFSRunning(pid int) {
	if s.p.Paths.ProcFS == "" {
		return
	}
	if err := (procfs.Layout{Dir: s.p.Paths.ProcFS}).Register(s.procFSEntry(pid)); err != nil {
		s.log.Printf("record init for the /proc server: %v", err)
	}
}

func (s *Supervisor) procFSEntry(pid int) procfs.Entry {
	e := procfs.Entry{Name: s.p.Name, Partition: s.p.Cgroup.Partition, CgroupDir: s.p.Cgroup.Name, InitPID: pid, Start: s.procFSStart}
	if pid == 0 {
		s.procFSStart = procfs.Boottime()
		e.Start = s.procFSStart
	} else {
		// With the pid, names this init for good: the server forgets a
		// guest whose init ended even when its supervisor was killed.
		e.InitStart, _ = ProcStart(pid)
	}
	return e
}
