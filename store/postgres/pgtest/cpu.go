package pgtest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: the kernel's USER_HZ, 100 on
// every architecture Linux runs Debian's PostgreSQL on.
const userHZ = 100

// CPU returns the CPU time (user and system) the cluster's processes have used so far: the
// postmaster, the processes it runs now (the backends serving the connections, the
// background workers) and those that ended (which the kernel adds to their parent's
// count). Benchmarks read it before and after what they measure. It reads /proc, so it
// works on Linux only.
func (s *Server) CPU() (time.Duration, error) {
	if !s.Available() {
		return 0, fmt.Errorf("no PostgreSQL server")
	}
	pidFile, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("read the postmaster's pid: %w", err)
	}
	first, _, _ := bytes.Cut(pidFile, []byte("\n"))
	postmaster, err := strconv.Atoi(string(first))
	if err != nil {
		return 0, fmt.Errorf("read the postmaster's pid from %q: %w", first, err)
	}
	own, err := readStat(postmaster)
	if err != nil {
		return 0, err
	}
	total := own.utime + own.stime + own.cutime + own.cstime
	procs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, err
	}
	for _, dir := range procs {
		pid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil || pid == postmaster {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.ppid != postmaster {
			continue // ended meanwhile, or not the cluster's
		}
		total += st.utime + st.stime
	}
	return time.Duration(total) * time.Second / userHZ, nil
}

// procStat is what CPU reads of /proc/<pid>/stat: the parent, and the CPU times, in
// USER_HZ ticks, of the process and of its children that ended.
type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime int64
}

// readStat reads /proc/<pid>/stat (proc(5)): the fields after the command's name, which is
// in parentheses and may hold spaces.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// After the name: state (field 3), ppid (4), …, utime (14), stime (15), cutime (16),
	// cstime (17).
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields after the name, want 15 or more", pid, len(fields))
	}
	var st procStat
	var errs [5]error
	st.ppid, errs[0] = strconv.Atoi(fields[1])
	st.utime, errs[1] = strconv.ParseInt(fields[11], 10, 64)
	st.stime, errs[2] = strconv.ParseInt(fields[12], 10, 64)
	st.cutime, errs[3] = strconv.ParseInt(fields[13], 10, 64)
	st.cstime, errs[4] = strconv.ParseInt(fields[14], 10, 64)
	for _, err := range errs {
		if err != nil {
			return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
	}
	return st, nil
}
