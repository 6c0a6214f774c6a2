package app

import (
	"testing"

	"github.com/shopauth/shopauth/config"
)

func TestMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name       string
		limitMiB   int
		slots      int
		argonKiB   int
		gomaxprocs int
		want       int64
	}{
		{name: "configured", limitMiB: 80, slots: 4, argonKiB: 19456, gomaxprocs: 2, want: 80 * mib},
		{name: "derived from the hash slots", slots: 4, argonKiB: 19456, gomaxprocs: 2, want: 3*4*19*mib + memoryHeadroomMiB*mib},
		{name: "slots from GOMAXPROCS", argonKiB: 19456, gomaxprocs: 2, want: 3*2*19*mib + memoryHeadroomMiB*mib},
		{name: "cheap hashes", slots: 1, argonKiB: 64, gomaxprocs: 8, want: 3*64<<10 + memoryHeadroomMiB*mib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.MemoryLimitMiB = tt.limitMiB
			cfg.Login.HashConcurrency = tt.slots
			cfg.Login.Argon2MemoryKiB = tt.argonKiB
			if got := MemoryLimit(cfg, tt.gomaxprocs); got != tt.want {
				t.Fatalf("MemoryLimit = %d, want %d", got, tt.want)
			}
		})
	}
}
