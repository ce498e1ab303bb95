package stack

import (
	"os"
	"runtime/debug"
)

// MemoryLimit is the soft limit on the Go runtime's memory that a process
// running the embedded stack keeps (runtime/debug.SetMemoryLimit): the
// garbage collector works harder as the heap nears it instead of letting
// it grow to twice what is live. Most of what is live there is the
// embedded server's block caches (a few MB per busy stream), so without
// a limit the corpus import peaked at 220-250 MiB of RSS; with it, about
// 136 MiB at the same speed (docs/benchmarks.md). Below about 80 MiB the
// collector runs nearly without pause and imports slow down.
const MemoryLimit = 96 << 20

// LimitMemory sets MemoryLimit unless GOMEMLIMIT is set (Go applies that
// one itself: "off" for none, or a size such as 512MiB), and returns the
// limit in force.
func LimitMemory() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return debug.SetMemoryLimit(-1)
	}
	debug.SetMemoryLimit(MemoryLimit)
	return MemoryLimit
}
