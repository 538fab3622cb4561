// Package cpuclock reads the CPU time a process (or a thread) has used, for
// benchmarks and measurements on shared machines: CPU time counts the work
// done, where wall time also counts waiting for other programs. Where the
// platform's clocks are not read (Windows, Plan 9) they fall back to wall time.
package cpuclock
