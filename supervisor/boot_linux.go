package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"vmlite/cgroup"
	"vmlite/initsys"
	"vmlite/plan"
	"vmlite/state"
)

// bootTimeout bounds __init's set-up: from clone to exec of the guest's init.
const bootTimeout = 60 * time.Second

// setupConsolesFirst registers the removal of the runtime directory (and
// of the guest layer, registerLayerRemoval) and
// allocates the consoles: all the guest's clone needs. The rest of the host
// side (setupHost) runs while __init's Go runtime starts up.
func (s *Supervisor) setupConsolesFirst() error {
	s.hostRevert.Add("remove runtime directory", func() error {
		s.awaitLastState() // the last state before the runtime one goes
		return removeRunDir(s.p.Paths.RunDir, s.p.Paths.StateFile)
	})
	s.registerLayerRemoval()
	return s.setupConsoles()
}

// setupHost creates the rest of what lives as long as the supervisor: the
// runtime files, the cgroup (with its device allow-list) and the control
// socket. It runs between the clone of __init and its release: __init
// waits on the sync socket meanwhile, so nothing of the guest runs before
// its cgroup exists and it is in it.
func (s *Supervisor) setupHost() error {
	if err := state.WriteRuntimeFile(s.p.Paths.PlanFile, s.encodedPlan(), 0o600); err != nil {
		return &plan.StepFailure{Step: "record launch plan", Err: err}
	}
	if s.p.DomainXML != "" {
		if err := state.WriteRuntimeFile(s.p.Paths.LiveXML, []byte(s.p.DomainXML), 0o600); err != nil {
			return &plan.StepFailure{Step: "record live XML", Err: err}
		}
	}
	s.setState(func(st *state.State) {})
	if err := s.setupLayer(); err != nil {
		return err
	}
	if err := s.setupCgroup(); err != nil {
		return err
	}
	if err := s.listenControl(); err != nil {
		return &plan.StepFailure{Step: "open control socket", Err: err}
	}
	return nil
}

// boot spawns the guest's init and waits until it has exec'd (or failed).
// during, if not nil, runs right after the clone, overlapping with the
// child's start-up (the first boot sets the host side up there).
func (s *Supervisor) boot(during func() error) error {
	s.bornInCgroup, s.adopted = false, false
	// A move by pid still running when the boot fails ends before the
	// boot's undo kills the process (its pid must not be reused meanwhile).
	defer func() { _ = s.awaitJoin() }()
	if err := s.attachProcFS(); err != nil {
		return err
	}
	procTrees := s.cloneProcFS()
	defer procTrees.close()
	start := time.Now()
	cmd, parent, exited, err := s.spawnInit()
	if err != nil {
		return err
	}
	defer parent.Close()
	tSpawned := time.Now()
	pid := cmd.Process.Pid
	s.afterKill = nil
	s.bootRevert.Add("kill guest init", func() error {
		_ = unix.Kill(pid, unix.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("init %d did not exit after SIGKILL", pid)
		}
		err := s.killGuestProcesses()
		// What the guest's mounts held goes only after the guest.
		for i := len(s.afterKill) - 1; i >= 0; i-- {
			err = errors.Join(err, s.afterKill[i]())
		}
		s.afterKill = nil
		return err
	})
	if during != nil {
		if err := during(); err != nil {
			return err
		}
	}
	tHost := time.Now()
	err = s.hostSideOfBoot(pid)
	joinFDs := s.takeSelfJoin()
	defer closeFDs(joinFDs)
	if err != nil {
		return err
	}
	tJoined := time.Now()
	rootFD, err := s.rootTree(pid)
	if err != nil {
		return err
	}
	attach, err := s.attachDir()
	if err != nil {
		return err
	}
	var fds []int
	if rootFD >= 0 {
		fds = append(fds, rootFD)
		defer unix.Close(rootFD)
	}
	trees, err := s.mountTrees(pid)
	if err != nil {
		return err
	}
	defer closeTrees(trees)
	msg := plan.GoMessage(s.encodedPlan(), s.consolePaths(), attach, rootFD >= 0)
	msg.JoinPending = s.pendingJoin != nil
	msg.RestPending = true // the /proc server's files (none without it) come with MsgRest
	fds, msg.MountFDs = treeRights(fds, trees)
	nodes, err := s.devNodes()
	if err != nil {
		return err
	}
	defer closeNodes(nodes)
	fds, msg.DevFDs = nodeRights(fds, nodes)
	mask, err := maskTree()
	if err != nil {
		return err
	}
	defer unix.Close(mask)
	msg.MaskFD = len(fds)
	fds = append(fds, mask)
	cgTree, err := s.cgroupTree()
	if err != nil {
		return err
	}
	if cgTree >= 0 {
		defer unix.Close(cgTree)
		msg.CgroupFD = len(fds)
		fds = append(fds, cgTree)
	}
	for _, fd := range joinFDs {
		msg.JoinFDs = append(msg.JoinFDs, len(fds))
		fds = append(fds, fd)
	}
	if err := plan.Send(parent, msg, fds...); err != nil {
		return &plan.StepFailure{Step: "release guest", Err: err}
	}
	tSent := time.Now()
	if err := s.sendRest(parent, procTrees); err != nil {
		return err
	}
	tJoinDone := time.Now()
	if err := s.awaitExec(parent, cmd, exited); err != nil {
		return err
	}
	// The phases, for bench/README.md's breakdown of a start.
	ms := func(a, b time.Time) string { return b.Sub(a).Round(10 * time.Microsecond).String() }
	s.trace.Printf("init %s running as pid %d (%v after clone or adoption: spawn %s, host set-up %s, cgroup join and network %s, trees %s, /proc files and pending join %s, __init set-up and exec %s)",
		s.p.Init.Path, pid, time.Since(start).Round(time.Microsecond), ms(start, tSpawned), ms(tSpawned, tHost), ms(tHost, tJoined), ms(tJoined, tSent), ms(tSent, tJoinDone), ms(tJoinDone, time.Now()))
	s.mu.Lock()
	s.init = cmd
	s.exited = exited
	s.st.Status, s.st.Reason, s.st.InitPID, s.st.StartedAt = state.Running, state.ReasonBooted, pid, time.Now()
	s.st.InitStart, _ = ProcStart(pid)
	s.st.ConsolePTYs = s.consolePaths()
	s.st.Error = ""
	s.writeStateLocked()
	s.mu.Unlock()
	s.procFSRunning(pid)
	s.rebindIfRestarted(procTrees, pid)
	return nil
}

// sendRest sends MsgRest once what it carries is ready: the clones of
// the /proc server's files, and a pending move by pid (hostSideOfBoot)
// done. __init waits for it after the set-up that needs neither.
func (s *Supervisor) sendRest(parent *os.File, procTrees *procFSTrees) error {
	ptrees, err := procTrees.wait(bootTimeout)
	if err != nil {
		return err
	}
	if err := s.awaitJoin(); err != nil {
		return err
	}
	rest := plan.Message{Type: plan.MsgRest, RootfsFD: -1, MaskFD: -1, CgroupFD: -1}
	var fds []int
	fds, rest.ProcFSFDs = procFSRights(fds, ptrees)
	if err := plan.Send(parent, rest, fds...); err != nil {
		return &plan.StepFailure{Step: "release guest", Err: err}
	}
	return nil
}

// logSteps records how long __init's set-up steps took.
func (s *Supervisor) logSteps(ts []plan.StepTime) {
	if len(ts) == 0 {
		return
	}
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %dµs", t.Step, t.Micros)
	}
	s.trace.Printf("__init set-up: %s", b.String())
}

// spawnInit gives the guest its __init: a pre-forked stage adopted for
// it (stages_linux.go), or a clone. exited is closed once it is reaped;
// parent is the supervisor's end of its sync socket.
func (s *Supervisor) spawnInit() (cmd *exec.Cmd, parent *os.File, exited chan struct{}, err error) {
	// Looked up (and written out again if gone) on every start, taken
	// stage or not: the pool's refill clones from it.
	exe := s.initExecutable()
	if st := s.adoptStage(); st != nil {
		s.adopted = true
		return st.cmd, st.sync, st.exited, nil
	}
	// The guest's cgroup before the clone: __init is born in its cgroup2
	// tree and joins the v1 hierarchies itself (attachCgroupFD).
	if s.cg == nil {
		if err := s.createCgroup(); err != nil {
			return nil, nil, nil, err
		}
	}
	parent, child, err := plan.SocketPair()
	if err != nil {
		return nil, nil, nil, &plan.StepFailure{Step: "create sync socket", Err: err}
	}
	cmd = s.initCommand(child, exe)
	if err := s.attachCgroupFD(cmd); err != nil {
		child.Close()
		parent.Close()
		return nil, nil, nil, err
	}
	err = s.cloneInit(cmd)
	if err != nil && exe != selfExe && !isUserFailure(err) {
		// The extracted vmlite-init is gone or broken: vmlite has __init too.
		s.log.Printf("clone from %s: %v: cloning vmlite __init instead", exe, err)
		retry := s.initCommand(child, selfExe)
		retry.SysProcAttr.UseCgroupFD, retry.SysProcAttr.CgroupFD = cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD
		cmd = retry
		err = s.cloneInit(cmd)
	}
	child.Close()
	if err != nil {
		parent.Close()
		if isUserFailure(err) {
			return nil, nil, nil, err
		}
		return nil, nil, nil, &plan.StepFailure{Step: "create guest namespaces", Err: fmt.Errorf("clone: %w", err)}
	}
	exited = make(chan struct{})
	go func() {
		awaitExit(cmd.Process.Pid)
		_ = cmd.Wait()
		close(exited)
	}()
	return cmd, parent, exited, nil
}

// cloneInit starts cmd (initCommand's clone): in the namespaces the
// guest shares, and for a mapped guest as the owner of its user namespace
// (nsowner_linux.go).
func (s *Supervisor) cloneInit(cmd *exec.Cmd) error {
	start := func() error { return s.startInShared(cmd.Start) }
	if owner, _ := s.p.IDMap.HostRoot(); s.p.IDMap.Enabled() && owner != 0 && owner != 65534 {
		return startAsOwner(owner, start)
	}
	return start()
}

// adoptStage takes a waiting stage for the guest and makes it the guest's
// (maps, consoles, its spare cgroup renamed to the guest's); nil when the
// pool has none that works. A reboot takes none: the guest's cgroup is
// there already, and a stage's spare and premounts are for a new one.
func (s *Supervisor) adoptStage() *stage {
	if s.cg != nil {
		return nil
	}
	for {
		st := s.stages.take(s.p)
		if st == nil {
			return nil
		}
		err := s.giveStage(st)
		if err == nil {
			err = s.takeSpare(st)
		}
		if err == nil {
			return st // joins the rest of its cgroup by pid (hostSideOfBoot)
		}
		// Killed while waiting, most likely: it never saw the guest. Or
		// its spare cannot become the guest's cgroup (a leftover leaf of
		// the guest's name, a limit the kernel refuses): a clone then
		// meets the same case on the usual path, which reports it.
		s.log.Printf("pre-forked init stage %d: %v: taking another", st.cmd.Process.Pid, err)
		st.kill()
	}
}

// takeSpare makes a taken stage's spare cgroup the guest's (renamed,
// cgroup.Adopt), so that setupCgroup creates none and hostSideOfBoot
// joins only the hierarchies the spare lacks. On failure the spare is
// as it was.
func (s *Supervisor) takeSpare(st *stage) error {
	if st.spare == nil {
		return nil
	}
	mode, err := hostCgroupMode()
	if err != nil {
		return err
	}
	m, err := cgroup.New(cgroup.DefaultRoot, mode, s.p.Cgroup)
	if err != nil {
		return err
	}
	join, err := cgroup.Adopt(m, st.spare)
	var w cgroup.Warnings
	if err != nil && !errors.As(err, &w) {
		return fmt.Errorf("take spare cgroup: %w", err)
	}
	if err != nil {
		s.log.Printf("limits this host cannot enforce: %v", w)
	}
	st.spare = nil // the guest's now
	s.cgMode, s.cg, s.spareJoin = mode, m, join
	// As setupCgroup registers it for a cgroup it made.
	s.hostRevert.Add("remove cgroup", func() error {
		if err := m.Kill(); err != nil {
			return err
		}
		return m.Destroy()
	})
	return nil
}

// giveStage hands st the guest: its id maps (a mapped guest), then its
// consoles (plan.MsgAdopt).
func (s *Supervisor) giveStage(st *stage) error {
	if err := restorePriority(st.cmd.Process.Pid); err != nil {
		return fmt.Errorf("restore priority: %w", err)
	}
	if st.kind.mapped {
		if err := writeIDMaps(st.cmd.Process.Pid, s.p); err != nil {
			return fmt.Errorf("write id maps: %w", err)
		}
	}
	fds := make([]int, len(s.consoles))
	for i, c := range s.consoles {
		fds[i] = int(c.slave.Fd())
	}
	return plan.Send(st.sync, plan.AdoptMessage(len(fds), st.kind.mapped), fds...)
}

// awaitExec follows the sync protocol until init has exec'd.
func (s *Supervisor) awaitExec(parent *os.File, cmd *exec.Cmd, exited <-chan struct{}) error {
	type recv struct {
		m   plan.Message
		err error
	}
	msgs := make(chan recv, 4)
	go func() {
		for {
			m, fds, err := plan.Recv(parent)
			for _, fd := range fds {
				unix.Close(fd)
			}
			msgs <- recv{m, err}
			if err != nil {
				return
			}
		}
	}()
	timeout := time.NewTimer(bootTimeout)
	defer timeout.Stop()
	ready := false
	for {
		select {
		case r := <-msgs:
			switch {
			case errors.Is(r.err, io.EOF) && ready:
				return nil // fd 3 closed by execve: init runs
			case r.err != nil:
				// __init died without a word: say how.
				select {
				case <-exited:
					return &plan.StepFailure{Step: "set up guest", Err: fmt.Errorf("guest set-up process ended: %s", describeExit(cmd.ProcessState))}
				case <-time.After(5 * time.Second):
					return &plan.StepFailure{Step: "set up guest", Err: r.err}
				}
			case r.m.IsError():
				if r.m.Failure == nil {
					return plan.Fail("set up guest", errors.New("failure without a report"))
				}
				return r.m.Failure
			case r.m.IsReady():
				ready = true
				s.logSteps(r.m.Timings)
			}
		case <-timeout.C:
			return &plan.StepFailure{Step: "set up guest", Err: fmt.Errorf("no answer from the guest's set-up after %v", bootTimeout)}
		}
	}
}

// initCommand builds the clone of `vmlite __init` (from exe: vmlite or
// the small vmlite-init) in the guest's new namespaces. The cgroup namespace is made later by __init itself, once it
// is inside the guest's cgroup.
func (s *Supervisor) initCommand(sync *os.File, exe string) *exec.Cmd {
	cmd := &exec.Cmd{
		Path: exe,
		Args: []string{"vmlite", initsys.Role},
		Env:  []string{},
		Dir:  "/",
	}
	slave0 := s.consoles[0].slave
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave0, slave0, slave0
	cmd.ExtraFiles = []*os.File{sync}
	for _, c := range s.consoles {
		cmd.ExtraFiles = append(cmd.ExtraFiles, c.slave)
	}
	attr := &syscall.SysProcAttr{
		Cloneflags: sharedCloneFlags(s.p, unix.CLONE_NEWNS|unix.CLONE_NEWUTS|unix.CLONE_NEWIPC|unix.CLONE_NEWPID|unix.CLONE_NEWNET),
		// The console is init's controlling terminal, in a session of its own.
		Setsid:  true,
		Setctty: true,
		Ctty:    0,
	}
	if s.p.IDMap.Enabled() {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = idMaps(s.p.IDMap.UIDs)
		attr.GidMappings = idMaps(s.p.IDMap.GIDs)
		// "allow", not Go's default "deny": the parent is root in the initial
		// namespace, so it may, and the guest's init and login need setgroups.
		attr.GidMappingsEnableSetgroups = true
		// Become the guest's root after the maps are written; host root is
		// unmapped in the guest and exec would drop every capability.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
	}
	cmd.SysProcAttr = attr
	return cmd
}

func idMaps(rs []plan.IDRange) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(rs))
	for i, r := range rs {
		out[i] = syscall.SysProcIDMap{ContainerID: int(r.Start), HostID: int(r.Target), Size: int(r.Count)}
	}
	return out
}

// encodedPlan is the plan's JSON: as received, or encoded once here.
func (s *Supervisor) encodedPlan() json.RawMessage {
	if s.planJSON != nil {
		return s.planJSON
	}
	b, err := s.p.Marshal()
	if err != nil {
		panic(err) // a Plan always marshals: plain data
	}
	s.planJSON = b
	return b
}

// removeRunDir removes a guest's runtime directory in an order others can
// rely on: state.json first, so that no reader ever sees a state without
// its held lock (which says "orphaned: its supervisor died"), the lock
// file last, with the directory, so that a concurrent start waits on it
// until then (os.RemoveAll alone removes entries in whatever order the
// directory lists them).
func removeRunDir(dir, stateFile string) error {
	if err := os.Remove(stateFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() == state.LockName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
