package app

import (
	"time"

	"github.com/shopauth/shopauth/config"
)

// memoryHeadroomMiB is what the soft memory limit allows beside the
// argon2 memory of the hash slots: the Go heap of an idle server with its
// caches, plus the garbage of the requests in flight (docs/configuration.md).
const memoryHeadroomMiB = 24

// memoryTrimQuiet is how long hashing must have been quiet before the
// argon2 memory the heap still holds goes back to the operating system
// (internal/memtrim): long enough that a steady trickle of logins keeps
// its memory, short enough that a burst's pages go within seconds.
const memoryTrimQuiet = 2 * time.Second

// argonGenerations is how many sets of the hash slots' argon2 memory the
// limit leaves room for: the set in use, the set just dropped that the
// collector has not yet freed, and the next. With room for only one set
// (measured: 62 MiB on 2 cores) the runtime returned every dropped set to
// the operating system and faulted the next one in again, and logins fell
// from ~50/s to ~17/s (docs/figures.md); with three they run at full speed.
const argonGenerations = 3

// MemoryLimit is the soft memory limit, in bytes, that serve gives the Go
// runtime (runtime/debug.SetMemoryLimit): the configured memory_limit_mib,
// or else room for argonGenerations sets of every hash slot's argon2id
// memory plus memoryHeadroomMiB. Each password hash allocates its argon2 memory anew
// and drops it; without a limit the heap grows to twice the peak before
// the collector runs (GOGC=100), and the process keeps those pages. With
// it, the collector runs sooner, which is cheap here: argon2's blocks hold
// no pointers. gomaxprocs resolves hash_concurrency 0.
func MemoryLimit(cfg config.Config, gomaxprocs int) int64 {
	if cfg.MemoryLimitMiB > 0 {
		return int64(cfg.MemoryLimitMiB) << 20
	}
	slots := cfg.Login.HashConcurrency
	if slots <= 0 {
		slots = gomaxprocs
	}
	argon := argonGenerations * int64(slots) * int64(cfg.Login.Argon2MemoryKiB) << 10
	return argon + memoryHeadroomMiB<<20
}
