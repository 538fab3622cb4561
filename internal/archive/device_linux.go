package archive

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// DeviceMemoryLimit suggests the memory a process that serves archives
// should stay within on this device, for SetMemoryLimit and the runtime's
// own limit (runtime/debug.SetMemoryLimit) when the user gave none: a
// quarter of the physical memory (a 1 GB phone: 256 MB), at most half of
// a cgroup memory limit (a container, a service under systemd), and at
// most a third of the address space left under RLIMIT_AS (a 32-bit
// device, `ulimit -v`), whichever is least. 0 means nothing is known.
func DeviceMemoryLimit() int64 {
	limit := int64(0)
	take := func(v int64) {
		if v > 0 && (limit == 0 || v < limit) {
			limit = v
		}
	}
	if total := meminfoTotal(); total > 0 {
		take(total / 4)
	}
	for _, f := range cgroupFiles() {
		if v := cgroupLimit(f); v > 0 {
			take(v / 2)
		}
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_AS, &rl) == nil && rl.Cur != ^uint64(0) && rl.Cur < 1<<62 {
		if left := int64(rl.Cur) - vmSize(); left > 0 {
			take(left / 3)
		} else {
			take(1)
		}
	}
	return limit
}

// meminfoTotal is MemTotal from /proc/meminfo, in bytes.
func meminfoTotal() int64 {
	return procField("/proc/meminfo", "MemTotal:")
}

// vmSize is this process's address space in use (VmSize), in bytes.
func vmSize() int64 {
	return procField("/proc/self/status", "VmSize:")
}

// procField reads a "Name: N kB" line of a /proc file.
func procField(path, name string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			fs := strings.Fields(rest)
			if len(fs) == 0 {
				return 0
			}
			v, err := strconv.ParseInt(fs[0], 10, 64)
			if err != nil {
				return 0
			}
			if len(fs) > 1 && fs[1] == "kB" {
				v <<= 10
			}
			return v
		}
	}
	return 0
}

// cgroupFiles are the memory limit files of this process's cgroup and the
// cgroups above it (v2 memory.max, v1 memory.limit_in_bytes), from
// /proc/self/cgroup.
func cgroupFiles() []string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || strings.Contains(parts[2], "..") {
			continue
		}
		var root, file string
		switch {
		case parts[0] == "0" && parts[1] == "":
			root, file = "/sys/fs/cgroup", "memory.max"
		case strings.Contains(","+parts[1]+",", ",memory,"):
			root, file = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
		default:
			continue
		}
		for p := parts[2]; ; {
			out = append(out, root+strings.TrimSuffix(p, "/")+"/"+file)
			if p == "/" || p == "" {
				break
			}
			p = p[:strings.LastIndex(p, "/")]
			if p == "" {
				p = "/"
			}
		}
	}
	return out
}

// cgroupLimit reads a cgroup memory limit file ("max" or a number of
// bytes; absurdly large values mean no limit).
func cgroupLimit(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v <= 0 || v >= 1<<60 {
		return 0
	}
	return v
}
