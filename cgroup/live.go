package cgroup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"vmlite/internal/runfile"
	"vmlite/plan"
)

// LiveFile is the name, in a guest's runtime directory, of the limits the
// guest runs with now. plan.json keeps the limits it was launched with;
// setmem, memtune and schedinfo record each live change here, and status
// reads it back.
const LiveFile = "limits.json"

// LoadLive returns the limits a running guest has now: those recorded in
// runDir by the last live change, else launched (the plan's).
func LoadLive(runDir string, launched plan.Limits) (plan.Limits, error) {
	b, err := os.ReadFile(filepath.Join(runDir, LiveFile))
	if errors.Is(err, fs.ErrNotExist) {
		return launched, nil
	}
	if err != nil {
		return plan.Limits{}, fmt.Errorf("read live limits: %w", err)
	}
	var l plan.Limits
	if err := json.Unmarshal(b, &l); err != nil {
		return plan.Limits{}, fmt.Errorf("decode %s: %w", filepath.Join(runDir, LiveFile), err)
	}
	return l, nil
}

// SaveLive records l as the guest's live limits, atomically.
func SaveLive(runDir string, l plan.Limits) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("encode live limits: %w", err)
	}
	return runfile.WriteFileAtomic(filepath.Join(runDir, LiveFile), append(b, '\n'), 0o600)
}
