package supervisor

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"vmlite/plan"
)

// startWait bounds how long `vmlite start` waits for the supervisor's report.
const startWait = 120 * time.Second

// Launch starts a detached supervisor for p and waits for its start report.
// lock is the guest's lock file, already held by the caller; it passes to
// the supervisor (and is closed here). On failure the supervisor has rolled
// everything back before it reports.
func Launch(p *plan.Plan, lock *os.File) (plan.StartResult, error) {
	defer lock.Close()
	self, err := os.Executable()
	if err != nil {
		return plan.StartResult{}, fmt.Errorf("find vmlite binary: %w", err)
	}
	planR, planW, err := os.Pipe()
	if err != nil {
		return plan.StartResult{}, fmt.Errorf("plan pipe: %w", err)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		planR.Close()
		planW.Close()
		return plan.StartResult{}, fmt.Errorf("status pipe: %w", err)
	}
	logf, err := os.OpenFile(p.Paths.SupervisorLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return plan.StartResult{}, fmt.Errorf("open supervisor log: %w", err)
	}
	defer logf.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return plan.StartResult{}, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	cmd := &exec.Cmd{
		Path:   self,
		Args:   []string{"vmlite", Role, p.Name},
		Env:    []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Dir:    "/",
		Stdin:  devnull,
		Stdout: logf,
		Stderr: logf,
		// Fd numbers are fixed in plan/fds.go.
		ExtraFiles: []*os.File{planR, statusW, lock},
		// Detached: its own session, no controlling terminal, so the
		// user's logout or ^C does not reach it.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	planR.Close()
	statusW.Close()
	if err != nil {
		planW.Close()
		statusR.Close()
		return plan.StartResult{}, fmt.Errorf("start supervisor: %w", err)
	}
	// Reap the supervisor only if it dies before reporting; after a report
	// it outlives us and is re-parented.
	b, err := p.Marshal()
	if err == nil {
		_, err = planW.Write(b)
	}
	planW.Close()
	if err != nil {
		statusR.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return plan.StartResult{}, fmt.Errorf("send launch plan: %w", err)
	}
	res, err := readResult(statusR)
	statusR.Close()
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return plan.StartResult{}, fmt.Errorf("supervisor gave no start report (see %s): %w", p.Paths.SupervisorLog, err)
	}
	if !res.OK {
		_ = cmd.Wait() // it exits right after a failed report
	} else {
		_ = cmd.Process.Release()
	}
	return res, nil
}

func readResult(f *os.File) (plan.StartResult, error) {
	_ = f.SetReadDeadline(time.Now().Add(startWait))
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return plan.StartResult{}, fmt.Errorf("no report within %v", startWait)
		}
		return plan.StartResult{}, err
	}
	var r plan.StartResult
	if err := json.Unmarshal(line, &r); err != nil {
		return plan.StartResult{}, fmt.Errorf("decode start report: %w", err)
	}
	return r, nil
}
