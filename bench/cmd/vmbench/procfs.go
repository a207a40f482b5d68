package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Rollup is the part of /proc/PID/smaps_rollup the benchmark reports, in KiB.
type Rollup struct {
	RSS          int64 `json:"rssKiB"`
	PSS          int64 `json:"pssKiB"`
	PrivateClean int64 `json:"privateCleanKiB"`
	PrivateDirty int64 `json:"privateDirtyKiB"`
	// PSS split by what backs the pages (kernel 5.x and later; 0 before):
	// anonymous memory, file pages (binaries, page cache), shmem/tmpfs.
	PSSAnon  int64 `json:"pssAnonKiB,omitempty"`
	PSSFile  int64 `json:"pssFileKiB,omitempty"`
	PSSShmem int64 `json:"pssShmemKiB,omitempty"`
}

// USS is the unique set size: the pages only this process maps.
func (r Rollup) USS() int64 { return r.PrivateClean + r.PrivateDirty }

// Add sums two rollups (for a process tree).
func (r Rollup) Add(o Rollup) Rollup {
	return Rollup{r.RSS + o.RSS, r.PSS + o.PSS, r.PrivateClean + o.PrivateClean, r.PrivateDirty + o.PrivateDirty,
		r.PSSAnon + o.PSSAnon, r.PSSFile + o.PSSFile, r.PSSShmem + o.PSSShmem}
}

// parseRollup reads the "Key:   N kB" lines of smaps_rollup. The first line
// (the address range header) and unknown keys are skipped; a known key
// with a malformed value is an error.
func parseRollup(r io.Reader) (Rollup, error) {
	var out Rollup
	fields := map[string]*int64{
		"Rss:":           &out.RSS,
		"Pss:":           &out.PSS,
		"Private_Clean:": &out.PrivateClean,
		"Private_Dirty:": &out.PrivateDirty,
	}
	optional := map[string]*int64{"Pss_Anon:": &out.PSSAnon, "Pss_File:": &out.PSSFile, "Pss_Shmem:": &out.PSSShmem}
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		dst, required := fields[f[0]]
		if !required {
			var ok bool
			if dst, ok = optional[f[0]]; !ok {
				continue
			}
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return Rollup{}, fmt.Errorf("smaps_rollup: bad value in %q", sc.Text())
		}
		*dst = n
		if required {
			found++
		}
	}
	if err := sc.Err(); err != nil {
		return Rollup{}, fmt.Errorf("smaps_rollup: %w", err)
	}
	if found < len(fields) {
		return Rollup{}, fmt.Errorf("smaps_rollup: %d of %d fields found", found, len(fields))
	}
	return out, nil
}

// parseMeminfo returns MemTotal - MemAvailable from /proc/meminfo, in KiB:
// the host memory in use, the figure the density test compares.
func parseMeminfo(r io.Reader) (int64, error) {
	var total, avail int64 = -1, -1
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		var dst *int64
		switch f[0] {
		case "MemTotal:":
			dst = &total
		case "MemAvailable:":
			dst = &avail
		default:
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("meminfo: bad value in %q", sc.Text())
		}
		*dst = n
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("meminfo: %w", err)
	}
	if total < 0 || avail < 0 {
		return 0, fmt.Errorf("meminfo: MemTotal or MemAvailable missing")
	}
	return total - avail, nil
}

// statFields are the parts of /proc/PID/stat the harness needs.
type statFields struct {
	State byte
	PPID  int
	// CPUTicks is the process's user plus system time, all threads, in
	// clock ticks (USER_HZ); 0 when the line stops before those fields.
	CPUTicks int64
}

// parseStat parses /proc/PID/stat. The command name is in parentheses and
// may itself hold spaces and parentheses, so fields are split after the
// last ')'.
func parseStat(s string) (statFields, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return statFields{}, fmt.Errorf("stat: no ')' in %q", s)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return statFields{}, fmt.Errorf("stat: short line %q", s)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return statFields{}, fmt.Errorf("stat: bad ppid in %q", s)
	}
	st := statFields{State: f[0][0], PPID: ppid}
	if len(f) > 12 { // utime and stime: fields 14 and 15 of the line
		ut, err1 := strconv.ParseInt(f[11], 10, 64)
		sy, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil || ut < 0 || sy < 0 {
			return statFields{}, fmt.Errorf("stat: bad utime/stime in %q", s)
		}
		st.CPUTicks = ut + sy
	}
	return st, nil
}
